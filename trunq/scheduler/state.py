"""The state interface every scheduler store implements, one small Protocol per concern.

``Records`` (the UI's read model), ``Leases``, ``Resources``, ``EventLog``, ``Failures``,
``Workers`` and ``Inbox``; ``StateStore`` is their union. The rules by which a store
changes statuses itself are in ``status_rules.py``; the step protocol over these calls
is ``leases.py``.

The scheduling *policy* (readiness, priority, batching, retries) lives in
``trunq.scheduler.core`` and runs inside each ``trunq build`` client. A store only
guarantees atomicity and expiry for what several clients and workers share:

- step records (what the UI shows) and their status;
- leases: one execution of a step at a time, with a fencing counter;
- counted resources with per-holder expiry;
- the event log clients follow to learn about finished steps;
- failure counts and disabling, worker heartbeats, messages to running steps.

``MemoryStateStore`` serves the local scheduler and unit tests; ``RedisStateStore``
serves the distributed mode. ``tests/contract`` runs one suite against both.
Times are seconds (floats, the store's clock) unless a name says ``_ms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from trunq.core.status import Status

if TYPE_CHECKING:
    from trunq.scheduler.builds import BuildStore

SCHEMA_VERSION = 1
MAX_CONVERSATION = 200  # messages kept per step for the console


@dataclass
class StepRecord:
    """What the store knows about one step; plain data, JSON-serialisable."""

    step_id: str
    family: str
    module: str = ""
    params: dict[str, str] = field(default_factory=dict)
    deps: list[str] = field(default_factory=list)
    status: str = Status.PENDING
    priority: int = 0
    resources: dict[str, int] = field(default_factory=dict)
    accepts_messages: bool = False
    status_message: str | None = None
    progress: float | None = None
    tracking_url: str | None = None
    expl: str | None = None
    worker: str | None = None  # who runs/ran it: a Celery worker's name (w1@host), else host:pid:...
    worker_pid: int | None = None  # the process that runs/ran it (a Celery pool process)
    worker_id: str | None = None  # that worker's heartbeat id: its liveness and running index
    batch_id: str | None = None
    retries: int = 0
    updated: float = 0.0
    started: float | None = None
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict: ``params``, ``deps`` and ``resources`` are the record's own
        containers (``dataclasses.asdict`` deep-copies them, which costs ~10x more)."""
        return {name: getattr(self, name) for name in _RECORD_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})


_RECORD_FIELDS = tuple(f.name for f in fields(StepRecord))


@dataclass
class Event:
    """One entry of the event log (``kind``: status, message, response, ...)."""

    id: str
    kind: str
    step_id: str
    data: dict[str, Any] = field(default_factory=dict)


class Records(Protocol):
    """Step records: the read model of the web UI (register, display fields, search, counts)."""

    def register(self, records: Sequence[StepRecord]) -> None:
        """Upsert steps. Static fields are replaced, what the last run left is kept (but
        ``LIVE_FIELDS``); a step that is leased keeps its status, every other one becomes
        PENDING (a DISABLED one stays DISABLED)."""

    def sweep(self, older_than_s: float, limit: int = 500) -> int:
        """Forget at most ``limit`` steps not updated for ``older_than_s`` seconds, with
        every key, index entry and count of theirs; steps that are leased or run by a live
        worker stay. Returns how many were forgotten (the retention of step records)."""

    def get(self, step_id: str) -> StepRecord | None: ...

    def get_many(self, step_ids: Sequence[str]) -> list[StepRecord | None]: ...

    def update(self, step_id: str, **fields: Any) -> None:
        """Set display fields (status_message, progress, tracking_url, ...)."""

    def list_steps(self, *, status: str | None = None, family: str | None = None, search: str | None = None,
                   offset: int = 0, limit: int = 50, sort: str = "updated",
                   descending: bool = True) -> tuple[int, list[StepRecord]]:
        """One page of steps and the total that match, in ``sort`` order (one of
        ``trunq.scheduler.sorting.SORTS``; newest first by default), ties broken by step id."""

    def status_counts(self, family: str | None = None) -> dict[str, int]: ...

    def family_counts(self) -> dict[str, int]: ...

    def dependents(self, step_id: str) -> list[str]:
        """Ids of the registered steps that list ``step_id`` in their deps (sorted).

        A reverse index kept by ``register``: re-registering a step with other deps
        moves it from its old dependencies to the new ones."""


class Leases(Protocol):
    """One execution of a step at a time, with fencing tokens (used by ``scheduler/leases.py``)."""

    def acquire(self, step_id: str, owner: str, ttl_ms: int, status: str = Status.RUNNING) -> str | None:
        """Take the step's lease if free: returns a fencing token, else None."""

    def acquire_many(self, step_ids: Sequence[str], owner: str, ttl_ms: int,
                     status: str = Status.RUNNING) -> list[str | None]:
        """``acquire`` of each step, in one round trip: each gets its own token, or None."""

    def start(self, step_id: str, token: str, worker: str, *, pid: int | None = None,
              worker_id: str | None = None, others: Sequence[tuple[str, str]] = ()) -> bool:
        """The executor begins: True only while ``token`` still holds the lease (and did not
        start before). Records ``worker``, ``pid`` and ``worker_id`` on the step and on the
        ``others`` (the rest of a batch, ``(step_id, token)``) that it still leases, and adds
        them to ``worker_id``'s running index."""

    def renew(self, step_id: str, token: str, ttl_ms: int) -> bool:
        """Extend the lease held by ``token``. A lapsed lease is taken back when the token
        started the step, the step is still running and nobody acquired it since."""

    def lost(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Which executions ``(step_id, token)`` are lost, dropping what they held.

        A started execution is lost when its worker's heartbeat expired (whatever its lease
        says); one not started yet, or of an unknown worker, when its lease lapsed; any
        execution when another token holds the lease."""

    def running_steps(self, worker_id: str) -> list[str]:
        """Ids of the steps the worker ``worker_id`` started and still runs (batch members
        included), from an index kept by start/finish/lost; [] for a dead worker."""

    def holders(self, step_ids: Sequence[str]) -> list[str | None]:
        """The token holding each step's lease (None when free)."""

    def started_by(self, step_ids: Sequence[str]) -> list[str | None]:
        """The lease token that started each step (None when none did): who runs it now."""

    def finish(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
               holder: str | None = None) -> list[bool]:
        """Fenced end of an execution of ``(step_id, token)`` pairs (one, or a batch):
        write the status, release the leases and the holder's resources, log an event.
        A pair whose token lost its lease is left alone (False)."""

    def finish_then_start(self, items: Sequence[tuple[str, str]], status: str, *, expl: str | None = None,
                          holder: str | None = None, step_id: str, token: str, worker: str,
                          pid: int | None = None, worker_id: str | None = None,
                          others: Sequence[tuple[str, str]] = ()) -> tuple[list[bool], bool]:
        """``finish(items, ...)`` then ``start(step_id, token, ...)``, in one round trip: a
        worker running a chunk ends one member and begins the next together."""


class Resources(Protocol):
    """Counted resources: a semaphore per resource, held per holder with expiry."""

    def acquire_resources(self, holder: str, wants: dict[str, int], limits: dict[str, int], ttl_ms: int,
                          steps: Sequence[str] = ()) -> bool:
        """All or nothing. A resource missing from ``limits`` has capacity 1. ``steps``: the
        step ids the units are for (``holder_steps``), until the holder releases everything."""

    def renew_resources(self, holder: str, ttl_ms: int) -> None: ...

    def release_resources(self, holder: str, amounts: dict[str, int] | None = None) -> None:
        """Release everything the holder has, or only ``amounts`` of it."""

    def resource_usage(self) -> dict[str, dict[str, int]]:
        """resource -> holder -> units, for live holders."""

    def holder_steps(self, holders: Sequence[str]) -> dict[str, list[str]]:
        """holder -> the step ids it holds units for (holders that named none are left out)."""


class EventLog(Protocol):
    """The append-only stream of step events other clients follow."""

    def publish(self, kind: str, step_id: str, data: dict[str, Any]) -> str: ...

    def read_events(self, after: str, count: int = 1000, block_ms: int = 0) -> list[Event]:
        """Events after id ``after`` ("0" = from the start, "$" = only new ones)."""

    def last_event_id(self) -> str: ...


class Failures(Protocol):
    """Failure counts within a window, and disabling (retry policy state)."""

    def record_failure(self, step_id: str, window_s: float) -> int:
        """Count one failure; returns failures within the last ``window_s`` seconds."""

    def disable(self, step_id: str, seconds: float) -> None: ...

    def disabled(self, step_ids: Sequence[str]) -> list[bool]: ...

    def re_enable(self, step_id: str) -> None:
        """Clear DISABLED and the failure count (the step becomes FAILED, runnable again)."""


class Workers(Protocol):
    """Worker heartbeats."""

    def heartbeat(self, worker_id: str, info: dict[str, Any], ttl_ms: int) -> None: ...

    def live_workers(self) -> list[dict[str, Any]]: ...

    def heartbeat_age(self, worker_id: str) -> float | None:
        """Seconds since the worker's last heartbeat (store clock); None once it expired."""


class Inbox(Protocol):
    """Messages to running steps, their answers, and cancel requests."""

    def send_message(self, step_id: str, content: str) -> str:
        """Queue a message for a running step; returns the message id."""

    def take_messages(self, step_id: str) -> list[tuple[str, str]]:
        """Remove and return the queued (message id, content) pairs."""

    def respond(self, step_id: str, message_id: str, response: str) -> None: ...

    def conversation(self, step_id: str, limit: int = MAX_CONVERSATION) -> list[dict[str, Any]]:
        """The last ``limit`` messages sent to the step, oldest first, each
        ``{message_id, content, sent, response}`` (``response`` None until answered)."""

    def response(self, step_id: str, message_id: str) -> str | None: ...

    def request_cancel(self, step_id: str, requested_by: str = "") -> bool:
        """Ask the execution holding the step's lease to stop: flags that execution (its
        token) and logs a ``cancel`` event. False when no execution holds the lease."""

    def cancel_requested(self, step_id: str, token: str) -> bool:
        """True when a cancel was requested for the execution holding ``token``; one
        cheap read, meant for the worker's heartbeat thread."""


@runtime_checkable
class StateStore(Records, Leases, Resources, EventLog, Failures, Workers, Inbox, Protocol):
    """Every concern at once: what a store implements. Callers type against the part they use."""

    def now(self) -> float:
        """The store's clock (seconds)."""

    @property
    def builds(self) -> BuildStore:
        """Cluster build records and driver leases (``trunq.scheduler.builds``)."""

    def close(self) -> None: ...
