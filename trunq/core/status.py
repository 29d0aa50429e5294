"""Step statuses, as the scheduler, the stores and the web UI name them."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    BATCH_RUNNING = "BATCH_RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    DISABLED = "DISABLED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


TERMINAL = frozenset({Status.DONE, Status.FAILED, Status.DISABLED})
