"""How a store changes a step's status on its own: the rules, written once.

Both stores apply these: ``MemoryStateStore`` calls the functions, ``RedisStateStore``
passes the same tables to its Lua scripts (which only look the answer up atomically).
"""

from __future__ import annotations

from trunq.core.status import Status

KEEP = ""  # "keep the status the step has"

# register(): the status a (re-)registered step gets, by what the store knows of it.
# A step whose lease is held keeps its status (another build runs it); a disabled one
# stays DISABLED; every other one is PENDING again.
ON_REGISTER: dict[str, str] = {"leased": KEEP, "disabled": Status.DISABLED, "other": Status.PENDING}

# Registration updates a record in place: what the last run left (started, finished,
# worker, expl, ...) stays for the UI; only these, the live state of a run that is over,
# are cleared (unless the step is leased: then a run is going on).
LIVE_FIELDS: tuple[str, ...] = ("status_message", "progress")

# re_enable(): a DISABLED step becomes FAILED (runnable again, its failure still shown).
ON_RE_ENABLE: tuple[str, str] = (Status.DISABLED, Status.FAILED)


def registered_status(current: str | None, *, leased: bool, disabled: bool) -> str:
    """``ON_REGISTER`` applied: the status of a step being registered."""
    if leased and current is not None:
        case = "leased"
    else:
        case = "disabled" if disabled else "other"
    status = ON_REGISTER[case]
    return current if status == KEEP and current is not None else status or Status.PENDING


def re_enabled_status(current: str | None) -> str | None:
    """``ON_RE_ENABLE`` applied: the new status, or None when the status stays."""
    before, after = ON_RE_ENABLE
    return after if current == before else None
