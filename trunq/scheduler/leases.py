"""The step protocol, written once over the state store.

One execution of a step goes through these calls, whoever makes them (the build loop, a
local dispatcher, a Celery worker):

1. ``acquire``: the job's counted resources first (all or nothing, under ``holder``), then
   one lease per member step. A lease is a fencing token: every later write names it and
   the store refuses writes from a token that no longer holds the lease.
2. ``start``: the executor claims the step with its token. The store records the token
   and who runs it (``Executor``: the worker's name, its process, its heartbeat id) on
   every member, and lists them in the worker's running index; a second start with the
   same token does nothing, so a message delivered twice runs the step once.
3. renewal: a lease expires unless renewed every ``lease_ms``. Exactly one party renews:
   the client while the job waits in a queue (``renew_queued``), the executor once it has
   started the step (``renew``). The hand-off is read from the store: the client stops as
   soon as the store says *this* token started the step (``started_by``); no clocks compared.
4. ``finish``: fenced; records the status, releases the job's resources and appends the
   ``status`` event other clients follow. A job that found new dynamic dependencies first
   publishes a ``dynamic`` event naming them, then finishes as PENDING.
5. ``lost``: a started job is lost when its worker's heartbeat expired (a live worker
   keeps its lease, even one that lapsed while it was busy); a queued one when its lease
   vanished. The store drops what it held; the client dispatches it again, with a new token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trunq.core.status import Status


@dataclass
class Lease:
    """What one job holds: a token per member step and the holder of its resources."""

    members: list[tuple[str, str]]  # (step_id, fencing token)
    holder: str
    lease_ms: int
    resources: dict[str, int] = field(default_factory=dict)

    @property
    def step_id(self) -> str:
        return self.members[0][0]

    @property
    def token(self) -> str:
        return self.members[0][1]


@dataclass(frozen=True)
class Executor:
    """Who runs a job: ``name`` as shown (``w1@host``), its process, its heartbeat id."""

    name: str
    pid: int | None = None
    worker_id: str | None = None


def acquire_resources(store: Any, holder: str, wants: dict[str, int], limits: dict[str, int],
                      lease_ms: int, steps: Sequence[str] = ()) -> bool:
    """Take all of ``wants`` under ``holder`` for ``steps`` or nothing (they expire unless renewed)."""
    return not wants or bool(store.acquire_resources(holder, wants, limits, lease_ms, steps))


def acquire(store: Any, step_ids: Sequence[str], owner: str, lease_ms: int,
            status: str = Status.RUNNING) -> list[str | None]:
    """One lease per step: its fencing token, or None when another execution holds it."""
    if len(step_ids) == 1:
        return [store.acquire(step_ids[0], owner, lease_ms, status)]
    return list(store.acquire_many(step_ids, owner, lease_ms, status))


def start(store: Any, lease: Lease, worker: Executor | str) -> bool:
    """Claim the job's steps for ``worker``; False when the token lost its lease or already started."""
    worker = _executor(worker)
    return bool(store.start(lease.step_id, lease.token, worker.name, pid=worker.pid,
                            worker_id=worker.worker_id, others=lease.members[1:]))


def _executor(worker: Executor | str) -> Executor:
    return Executor(worker) if isinstance(worker, str) else worker


def renew(store: Any, lease: Lease) -> bool:
    """The executor's renewal (leases and resources); False when a lease is lost."""
    kept = all([store.renew(step_id, token, lease.lease_ms) for step_id, token in lease.members])
    store.renew_resources(lease.holder, lease.lease_ms)
    return kept


def renew_queued(store: Any, leases: Sequence[Lease]) -> list[Lease]:
    """The client's renewal of jobs no executor has started yet.

    Returns the leases whose step the store says was started with their own token: from
    then on the executor renews them, and the client must stop.
    """
    started = []
    for lease, token in zip(leases, store.started_by([lease.step_id for lease in leases])):
        if token == lease.token:
            started.append(lease)
            continue
        for step_id, member_token in lease.members:
            store.renew(step_id, member_token, lease.lease_ms)
        store.renew_resources(lease.holder, lease.lease_ms)
    return started


def give_back_resources(store: Any, holder: str, amounts: dict[str, int] | None = None) -> None:
    """Release ``amounts`` (all when None) of what ``holder`` holds, before the job ends."""
    store.release_resources(holder, amounts)


def finish(store: Any, lease: Lease, status: str, expl: str | None = None,
           new_deps: list[dict[str, Any]] | None = None) -> list[bool]:
    """End the job (fenced): status, resources released, a ``status`` event published.

    ``new_deps`` (step references) are announced first with a ``dynamic`` event, so a
    client reading the PENDING status already knows what to schedule.
    """
    _announce_new_deps(store, lease, status, new_deps)
    return store.finish(lease.members, status, expl=expl, holder=lease.holder or None)


def _announce_new_deps(store: Any, lease: Lease, status: str, new_deps: list[dict[str, Any]] | None) -> None:
    if status == Status.PENDING and new_deps is not None:
        store.publish("dynamic", lease.step_id, {"deps": new_deps})


def finish_then_start(store: Any, lease: Lease, status: str, expl: str | None, new_deps: list[dict[str, Any]] | None,
                      next_lease: Lease, worker: Executor | str) -> tuple[list[bool], bool]:
    """``finish`` of ``lease`` and ``start`` of ``next_lease`` in one round trip: what ``finish``
    returns, and True when the next job started (each fenced on its own)."""
    _announce_new_deps(store, lease, status, new_deps)
    worker = _executor(worker)
    finished, started = store.finish_then_start(
        lease.members, status, expl=expl, holder=lease.holder or None, step_id=next_lease.step_id,
        token=next_lease.token, worker=worker.name, pid=worker.pid, worker_id=worker.worker_id,
        others=next_lease.members[1:])
    return finished, bool(started)


def lost(store: Any, leases: Sequence[Lease]) -> list[Lease]:
    """Jobs whose execution is lost (``Leases.lost``: a dead worker, a vanished queued lease)
    although they never finished; their resources are given back for the next dispatch.

    The caller must first read the finish events it has, since a finish also frees the lease.
    """
    flags = store.lost([lease.members[0] for lease in leases])
    gone = [lease for lease, flag in zip(leases, flags) if flag]
    for lease in gone:
        if len(lease.members) > 1:
            store.lost(lease.members[1:])
        if lease.holder:
            store.release_resources(lease.holder)
    return gone


def free(store: Any, step_ids: Sequence[str]) -> list[bool]:
    """For steps another client runs: True where no lease is held any more."""
    return [holder is None for holder in store.holders(list(step_ids))]
