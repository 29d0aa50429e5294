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

from trunq.core import registry
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
    """Who runs the step, as shown in the step record: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


KEPT, LOST, CANCELLED = "kept", "lost", "cancelled"
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
    own the step, which ``untrack()`` reports (LOST) so the result is not written. A
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
            for key, entry in tracked:
                self._serve(key, entry, time.monotonic())

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
                self._end(key, entry, LOST)

    def _end(self, key: str, entry: _Tracked, how: str) -> None:
        with self._lock:
            if self._tracked.get(key) is entry:
                del self._tracked[key]
                self._ended[key] = how

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
    return run_payload_with(process_store(), payload, execution_id())


def payload_lease(payload: dict[str, Any]) -> leases.Lease:
    members = [(str(step_id), str(token)) for step_id, token in payload["members"]]
    return leases.Lease(members, str(payload.get("holder") or ""), int(payload.get("lease_ms") or 30000))


def run_payload_with(store: Any, payload: dict[str, Any], worker: str) -> str:
    """``run_payload``'s Celery-free core against any store (tests run it in-process)."""
    lease = payload_lease(payload)
    first_id, holder = lease.step_id, lease.holder
    if not leases.start(store, lease, worker):
        return "stale"  # another dispatch of this step owns it now
    key = f"{first_id}|{lease.token}"
    interruption = Interruption()
    lease_keeper.track(key, store, lease, interruption)
    try:
        with interruption:
            outcome = _execute(store, payload, first_id, holder)
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
    leases.finish(store, lease, outcome.status, outcome.expl, new_deps)
    return outcome.status


def _execute(store: Any, payload: dict[str, Any], first_id: str, holder: str) -> Outcome:
    try:
        step = rebuild_step(payload)
    except PayloadError as exc:
        return Outcome(FAILED, str(exc))
    warn_if_elsewhere(payload, step)
    try:
        if step.complete():  # an earlier dispatch (or another client) already made it
            return Outcome(DONE, ALREADY_COMPLETE)
    except Exception as exc:
        return Outcome(FAILED, f"complete() failed: {type(exc).__name__}: {exc}")
    reporter = StoreReporter(store, first_id, holder or None, on_decrease=_announcer(store, first_id))
    return execute_step(step, reporter)


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
