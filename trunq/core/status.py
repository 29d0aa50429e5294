"""Step statuses: the one vocabulary of the scheduler, the stores, history and the web UI.

Lua scripts get these constants from here (``scheduler/redis.py`` templates them into the
script text at load), so no other file spells a status. Run statuses (``trunq.runs``) name
a different thing and are not part of this vocabulary.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    BATCH_RUNNING = "BATCH_RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    DISABLED = "DISABLED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    UPSTREAM_DISABLED = "UPSTREAM_DISABLED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | None) -> Status:
        """The status named by ``value``, mapping old history spellings; UNKNOWN otherwise."""
        if value is None:
            return cls.UNKNOWN
        value = str(value).upper()
        if value in _LEGACY:
            return _LEGACY[value]
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


# Spellings older history rows (and luigi's event names) use for the same outcomes.
_LEGACY = {"SUCCESS": Status.DONE, "COMPLETED": Status.DONE,
           "FAILURE": Status.FAILED, "ERROR": Status.FAILED}

TERMINAL = frozenset({Status.DONE, Status.FAILED, Status.DISABLED})
ACTIVE = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
# A step the build gave up on: it failed itself or because a dependency did.
UNSUCCESSFUL = frozenset({Status.FAILED, Status.DISABLED,
                          Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED})


class BuildStatus(StrEnum):
    """Where a cluster build is in its life (``trunq.scheduler.builds``)."""

    QUEUED = "QUEUED"  # recorded, nobody drives it yet
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value


def lua_constants() -> str:
    """Lua locals ``S_PENDING = "PENDING"`` ... prepended to every store script."""
    return "\n".join(f'local S_{s.name} = "{s.value}"' for s in Status) + "\n"


def spellings(*statuses: Status) -> frozenset[str]:
    """Every spelling (current and legacy) stored rows may use for ``statuses``."""
    return frozenset(statuses) | {old for old, new in _LEGACY.items() if new in statuses}
