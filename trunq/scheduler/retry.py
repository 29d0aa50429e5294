"""When a failed step runs again, and when it is disabled (config ``[scheduler]``)."""

from __future__ import annotations

from typing import Any

UNBOUNDED_ATTEMPTS = 999_999_999  # luigi's default [scheduler] retry_count
DEFAULT_RECHECK_SECONDS = 5.0  # external data checked again when [scheduler] retry_delay is 0


class RetryPolicy:
    """The ``[scheduler]`` retry settings, read once from the configuration handed in."""

    def __init__(self, config: Any) -> None:
        # luigi's meaning: a step is disabled once it failed retry_count times within
        # disable_window, so it runs at most retry_count times (0/unset: once, never disabled).
        self.retry_count = config.getint("scheduler", "retry_count", 0) or 0
        self.retry_delay = config.getfloat("scheduler", "retry_delay", 0.0) or 0.0
        self.disable_window = config.getfloat("scheduler", "disable_window", 3600.0) or 3600.0
        self.disable_persist = config.getfloat("scheduler", "disable_persist", 86400.0) or 86400.0
        # 0: never disable (unless a retry_count applies).
        self.disable_failures = config.getint("scheduler", "disable_failures", 0) or 0

    def _count(self, step: Any) -> int | None:
        if step.retry_count is not None:
            return max(1, int(step.retry_count))
        return self.retry_count or None

    def attempts(self, step: Any) -> int:
        """How many times a build runs ``step`` before giving up on it (as luigi does)."""
        return self._count(step) or 1

    def keep_alive_attempts(self, step: Any) -> int:
        """With ``[worker] keep_alive``: luigi's default retry_count is unbounded (999999999)."""
        return self._count(step) or UNBOUNDED_ATTEMPTS

    def recheck_delay(self) -> float:
        """Seconds between two checks of an incomplete ExternalStep: never a busy loop."""
        return self.retry_delay if self.retry_delay > 0 else DEFAULT_RECHECK_SECONDS

    def disable_threshold(self, step: Any) -> int:
        """Failures within ``disable_window`` that disable ``step`` (0: never)."""
        return self._count(step) or self.disable_failures
