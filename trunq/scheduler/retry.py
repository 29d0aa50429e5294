"""When a failed step runs again, and when it is disabled (config ``[scheduler]``)."""

from __future__ import annotations

from typing import Any


class RetryPolicy:
    """The ``[scheduler]`` retry settings, read once from the configuration handed in."""

    def __init__(self, config: Any) -> None:
        self.retry_count = config.getint("scheduler", "retry_count", 0) or 0
        self.retry_delay = config.getfloat("scheduler", "retry_delay", 0.0) or 0.0
        self.disable_window = config.getfloat("scheduler", "disable_window", 3600.0) or 3600.0
        self.disable_persist = config.getfloat("scheduler", "disable_persist", 86400.0) or 86400.0
        # 0: never disable. A step with an explicit retry_count is disabled after
        # retry_count + 1 failures within disable_window.
        self.disable_failures = config.getint("scheduler", "disable_failures", 0) or 0

    def disable_threshold(self, step: Any) -> int:
        if step.retry_count is not None:
            return int(step.retry_count) + 1
        return self.disable_failures
