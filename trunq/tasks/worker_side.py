"""The worker side of one step execution (what the Celery task does; no Celery here).

``run_payload``: the executor's half of the step protocol (``scheduler/leases.py``): start
with the fencing token, keep the leases alive while the step runs (and stop it when the web
UI cancels it), run it with ``execute_step``, and end with one fenced finish that announces
new dynamic dependencies. A delivery whose token lost its lease does nothing, so Celery
delivering a message twice, or trunq dispatching a lost step again, never runs one step
twice at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded
from celery import current_task

from trunq import procs
from trunq.core import registry
from trunq.core.step import WrapperStep
from trunq.execution.execute import (
    ALREADY_COMPLETE,
    DONE,
    FAILED,
    PENDING,
    Outcome,
    StoreReporter,
    execute_step,
)
from trunq.execution.payload import PayloadError, rebuild_step, step_reference
from trunq.scheduler import leases
from trunq.scheduler.resolver import clear_completion_cache
from trunq.tasks.cancel import CANCEL_REASON, GRACE_S, Interruption, StepCancelled
from trunq.tasks.cwd_check import warn_if_elsewhere

logger = logging.getLogger("trunq.worker")

_stores: dict[int, Any] = {}  # pid -> store: a forked pool process opens its own connection
_store_lock = threading.Lock()


def process_store() -> Any:
    """This process's connection to the cluster's Redis store."""
    pid = os.getpid()
    store = _stores.get(pid)
    if store is None:
        with _store_lock:
            store = _stores.get(pid)
            if store is None:
                from trunq.scheduler.redis import connect_store

                store = _stores[pid] = connect_store()
    return store


def execution_id() -> str:
    """Who runs the step when no Celery worker name is known: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


_identity: tuple[str, str] | None = None  # (Celery worker name, its heartbeat id); inherited by pool processes


def set_identity(name: str, main_pid: int) -> str:
    """Called once in the worker's main process (before its pool forks); returns the heartbeat id."""
    global _identity
    _identity = (name, f"{name}:{main_pid}")
    return _identity[1]


def executor() -> leases.Executor:
    """Who runs a step here: the Celery worker's name (``w1@host``), this (pool) process and
    the worker's heartbeat id, which decides whether the execution is lost (``Leases.lost``)."""
    if _identity is None:
        return leases.Executor(execution_id(), os.getpid())
    return leases.Executor(_identity[0], os.getpid(), _identity[1])


KEPT, LOST, CANCELLED = "kept", "lost", "cancelled"
HEARTBEAT_INTERVAL_S = 2.0  # the worker's main process beats this often (trunq.tasks.app)
HEARTBEAT_TTL_MS = 10_000  # a worker silent this long is dead: its started steps are lost
STALE_HEARTBEAT_S = HEARTBEAT_TTL_MS / 1000 - HEARTBEAT_INTERVAL_S  # a pool process stops its step first
CANCEL_CHECK_S = 0.5  # how often a running step's cancel flag is read (one GET per step)
replaceable_process = False  # True in a Celery prefork pool process (app.py): it may be killed


@dataclass
class _Tracked:
    store: Any
    lease: leases.Lease
    interruption: Interruption | None
    next_renewal: float = 0.0
    cancelled_at: float | None = None


class LeaseKeeper:
    """One thread per process renewing the leases and resources of the running step(s),
    and watching whether someone asked to cancel them.

    Renewal happens every lease/3; a renewal that fails means another execution may now
    own the step, which ``untrack()`` reports (LOST) so the result is not written, and the
    step is stopped (``_lose``), as it is when this pool process's worker stops beating. A
    cancel interrupts the step (``trunq.tasks.cancel``); one that does not stop within
    ``GRACE_S`` is failed in the store here, and its process killed when the pool can
    replace it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._tracked: dict[str, _Tracked] = {}
        self._ended: dict[str, str] = {}  # key -> LOST or CANCELLED
        self._pid = -1
        self._next_beat_check = 0.0
        self._thread: threading.Thread | None = None

    def track(self, key: str, store: Any, lease: leases.Lease, interruption: Interruption | None = None) -> None:
        entry = _Tracked(store, lease, interruption, time.monotonic() + lease.lease_ms / 3000)
        with self._lock:
            self._tracked[key] = entry
            self._ended.pop(key, None)
            self._ensure_thread()

    def untrack(self, key: str) -> str:
        """Stop watching; KEPT, LOST (the leases expired) or CANCELLED."""
        with self._lock:
            entry = self._tracked.pop(key, None)
            ended = self._ended.pop(key, KEPT)
            if entry is not None and entry.cancelled_at is not None:
                return CANCELLED
            return ended

    def _ensure_thread(self) -> None:
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="trunq-lease-keeper", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                soonest = min((entry.lease.lease_ms / 3000 for entry in self._tracked.values()), default=CANCEL_CHECK_S)
                self._wake.wait(timeout=max(0.05, min(CANCEL_CHECK_S, soonest)))
                tracked = list(self._tracked.items())
            now = time.monotonic()
            if tracked and self._worker_hung(tracked[0][1].store, now):
                for key, entry in tracked:
                    self._lose(key, entry)
            for key, entry in tracked:
                self._serve(key, entry, now)

    def _serve(self, key: str, entry: _Tracked, now: float) -> None:
        if entry.cancelled_at is None and self._cancel_requested(entry):
            with self._lock:
                if self._tracked.get(key) is entry:
                    entry.cancelled_at = now
                    if entry.interruption is not None:
                        entry.interruption.interrupt()
        elif entry.cancelled_at is not None and now - entry.cancelled_at >= GRACE_S:
            self._force_stop(key, entry)
            return
        if now >= entry.next_renewal:
            entry.next_renewal = now + entry.lease.lease_ms / 3000
            if not self._renew(entry):
                self._lose(key, entry)

    def _worker_hung(self, store: Any, now: float) -> bool:
        """True when this pool process's worker stopped beating (hung, or killed while this
        process lives on): clients will soon run its steps elsewhere, so they must stop here
        first. Checked once a second; an expired or unreadable heartbeat does not count
        (Redis may have restarted empty)."""
        if not replaceable_process or _identity is None or now < self._next_beat_check:
            return False
        self._next_beat_check = now + 1.0
        try:
            age = store.heartbeat_age(_identity[1])
        except Exception:
            return False
        return age is not None and age >= STALE_HEARTBEAT_S

    def _lose(self, key: str, entry: _Tracked) -> None:
        """The execution is lost, or about to be: another one may run the step. Stop it now
        rather than run it twice at once: a pool process ends (the pool replaces it, and the
        fenced store ignores what it reports); elsewhere the step is interrupted."""
        if not self._end(key, entry, LOST):
            return  # it ended meanwhile
        logger.warning("trunq: %s lost its lease; stopping it", entry.lease.step_id)
        if replaceable_process:
            os.kill(os.getpid(), signal.SIGKILL)
        elif entry.interruption is not None:
            entry.interruption.interrupt()

    def _end(self, key: str, entry: _Tracked, how: str) -> bool:
        """Mark the execution ended (``how``); False when it was no longer tracked."""
        with self._lock:
            if self._tracked.get(key) is not entry:
                return False
            del self._tracked[key]
            self._ended[key] = how
            return True

    def _force_stop(self, key: str, entry: _Tracked) -> None:
        """The step ignored the interruption: fail it now; kill its process if replaceable."""
        logger.warning("trunq: %s did not stop within %.0fs of its cancel", entry.lease.step_id, GRACE_S)
        self._end(key, entry, CANCELLED)
        try:
            leases.finish(entry.store, entry.lease, FAILED, CANCEL_REASON)
        except Exception as exc:
            logger.warning("trunq: could not record a cancelled step: %s", exc)
        if replaceable_process and entry.interruption is not None:  # a queued chunk member runs nothing yet
            os.kill(os.getpid(), signal.SIGKILL)  # the pool starts a new process in its place

    @staticmethod
    def _cancel_requested(entry: _Tracked) -> bool:
        try:
            return any(entry.store.cancel_requested(step_id, token) for step_id, token in entry.lease.members)
        except Exception:  # Redis away for a moment: look again next round
            return False

    @staticmethod
    def _renew(entry: _Tracked) -> bool:
        try:
            return leases.renew(entry.store, entry.lease)
        except Exception as exc:  # Redis away for a moment: try again next round
            logger.warning("trunq: could not renew a lease: %s", exc)
            return True


lease_keeper = LeaseKeeper()


def forget_step_instances() -> None:
    """Drop what this payload built: a long-lived worker must not keep every step it ever ran
    (the registry's instance cache) nor their completeness answers."""
    clear_completion_cache()
    registry.clear_instance_cache()


def run_payload(payload: dict[str, Any]) -> str:
    """Execute one dispatched step; returns what happened (for Celery's log only)."""
    return run_payload_with(process_store(), payload, executor())


def payload_lease(payload: dict[str, Any]) -> leases.Lease:
    members = [(str(step_id), str(token)) for step_id, token in payload["members"]]
    return leases.Lease(members, str(payload.get("holder") or ""), int(payload.get("lease_ms") or 30000))


def run_payload_with(store: Any, payload: dict[str, Any], worker: leases.Executor | str) -> str:
    """``run_payload``'s Celery-free core against any store (tests run it in-process)."""
    lease = payload_lease(payload)
    if not leases.start(store, lease, worker):
        return "stale"  # another dispatch of this step owns it now
    ended = run_started(store, payload, lease)
    if isinstance(ended, str):
        return ended
    finish_ended(store, ended)
    return ended.status


@dataclass
class Ended:
    """A job that ran, its fenced finish still to send."""

    lease: leases.Lease
    status: str
    expl: str | None
    new_deps: list[dict[str, Any]] | None


def run_started(store: Any, payload: dict[str, Any], lease: leases.Lease) -> Ended | str:
    """Run the job whose lease ``start`` took: how it ended, or "lost" (nothing to record)."""
    first_id = lease.step_id
    key = f"{first_id}|{lease.token}"
    interruption = Interruption()
    lease_keeper.track(key, store, lease, interruption)
    try:
        with interruption:
            outcome = _execute(store, payload, first_id, lease.holder)
    except StepCancelled:
        outcome = Outcome(FAILED, CANCEL_REASON)
    finally:
        ended = lease_keeper.untrack(key)
        forget_step_instances()
    if ended == LOST:
        logger.warning("trunq: %s lost its lease while running; its result is not recorded", first_id)
        return "lost"
    if ended == CANCELLED:
        outcome = Outcome(FAILED, CANCEL_REASON)
    new_deps = [step_reference(dep) for dep in outcome.new_deps] if outcome.status == PENDING else None
    return Ended(lease, outcome.status, outcome.expl, new_deps)


def finish_ended(store: Any, ended: Ended) -> None:
    warn_refused(ended, leases.finish(store, ended.lease, ended.status, ended.expl, ended.new_deps))


def warn_refused(ended: Ended, finished: list[bool]) -> None:
    refused = [step_id for (step_id, _), done in zip(ended.lease.members, finished) if not done]
    if refused:  # taken over meanwhile (given up as lost): the step's record is the new run's
        logger.warning("trunq: the end of %s (%s) was refused: the step was taken over meanwhile",
                       ", ".join(refused), ended.status)


def _execute(store: Any, payload: dict[str, Any], first_id: str, holder: str) -> Outcome:
    try:
        step = rebuild_step(payload)
    except PayloadError as exc:
        return Outcome(FAILED, str(exc))
    warn_if_elsewhere(payload, step)
    try:
        # an earlier dispatch (or another client) already made it; a wrapper is complete as soon
        # as its requirements are, so it runs (as luigi's worker, which never checks first); an
        # external step's run is this very check (execute_step)
        if not isinstance(step, WrapperStep) and step.run is not None and step.complete():
            return Outcome(DONE, ALREADY_COMPLETE)
    except Exception as exc:
        return Outcome(FAILED, f"complete() failed: {type(exc).__name__}: {exc}")
    reporter = StoreReporter(store, first_id, holder or None, on_decrease=_announcer(store, first_id))
    return execute_step(step, reporter, explain=_stop_at_time_limit)


def _stop_at_time_limit(exc: BaseException) -> str | None:
    """At Celery's soft time limit (``worker_timeout``): stop the step's own subprocesses (they
    would outlive it; luigi does not let them) and say it in one line, as the local pool does."""
    if not isinstance(exc, SoftTimeLimitExceeded):
        return None
    procs.terminate_all(procs.descendants(os.getpid()))
    limits = getattr(current_task.request, "timelimit", None) or (None, None)  # (hard, soft) seconds
    return f"timed out after {limits[1]:g}s (worker_timeout)" if limits[1] else "timed out (worker_timeout)"


def _announcer(store: Any, step_id: str) -> Any:
    """Tell the dispatching client that the step gave resources back."""
    def announce(amounts: dict[str, int]) -> None:
        store.publish("resources", step_id, {"amounts": dict(amounts)})

    return announce


def crash_failure(payload: dict[str, Any], reason: str) -> None:
    """The pool process running ``payload`` died of a crash signal: the step FAILED."""
    crash_failure_lease(process_store(), payload_lease(payload), reason)


def crash_failure_lease(store: Any, lease: leases.Lease, reason: str) -> None:
    leases.finish(store, lease, FAILED, reason)
