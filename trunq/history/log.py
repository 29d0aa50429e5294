"""Writes a build's step events to the history database in batches.

One transaction per flush (every second, or every 1,000 events, and at the end of the
build) keeps the cost per step to a few microseconds. A history database that cannot be
written is reported once and never fails the build.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("trunq")


class HistoryLog:
    def __init__(self, url: str | None = None, flush_seconds: float = 1.0, max_buffer: int = 1000) -> None:
        self.url = url
        self.flush_seconds = flush_seconds
        self.max_buffer = max_buffer
        self._events: list[dict[str, Any]] = []
        self._history: Any = None
        self._next_flush = time.monotonic() + flush_seconds
        self._broken = False

    def record(self, step: Any, status: str, *, worker: str | None = None, duration: float | None = None,
               error: str | None = None) -> None:
        if self._broken:
            return
        self._events.append({
            "step_id": step.step_id, "family": step.step_family, "params": step.to_str_params(only_public=True),
            "status": status, "worker": worker, "ts": datetime.now(UTC), "duration": duration,
            "error": None if error is None else error[-4000:],
        })
        if len(self._events) >= self.max_buffer or time.monotonic() >= self._next_flush:
            self.flush()

    def flush(self) -> None:
        self._next_flush = time.monotonic() + self.flush_seconds
        if not self._events or self._broken:
            return
        events, self._events = self._events, []
        try:
            if self._history is None:
                from trunq.history import History

                self._history = History.from_url(self.url)
            self._history.bulk_step_events(events)
        except Exception as exc:  # the history is a record, never a reason to fail a build
            self._broken = True
            logger.warning("step history not recorded: %s", exc)

    def close(self) -> None:
        self.flush()
        if self._history is not None:
            self._history.close()
            self._history = None


def history_log_from_config(config: Any) -> HistoryLog | None:
    import os

    if not config.getboolean("history", "record", True):
        return None
    return HistoryLog(os.environ.get("TRUNQ_HISTORY_URL") or config.get("history", "url"))
