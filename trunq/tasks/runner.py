"""The worker side of one step execution (what the Celery task does; no Celery here).

``run_payload``: check the fencing token (``store.start``), keep the leases alive while the
step runs, run it with ``execute_step``, announce new dynamic dependencies, and end with one
fenced ``store.finish``. A delivery whose token lost its lease does nothing, so Celery
delivering a message twice, or trunq dispatching a lost step again, never runs one step
twice at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from trunq.execution import DONE, FAILED, PENDING, Outcome, StoreReporter, execute_step
from trunq.resolver import clear_completion_cache
from trunq.tasks.payload import PayloadError, rebuild_step, step_reference

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
                from trunq.rpc import connect_store

                store = _stores[pid] = connect_store()
    return store


def execution_id() -> str:
    """Who runs the step, as shown in the step record: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseKeeper:
    """One thread per process renewing the leases and resources of the running step(s).

    Renewal happens every lease/3; a renewal that fails means another execution may now
    own the step, which ``lost()`` reports so the result is not written.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._tracked: dict[str, tuple[Any, list[tuple[str, str]], str, int]] = {}
        self._lost: set[str] = set()
        self._pid = -1
        self._thread: threading.Thread | None = None

    def track(self, key: str, store: Any, members: list[tuple[str, str]], holder: str, lease_ms: int) -> None:
        with self._lock:
            self._tracked[key] = (store, members, holder, lease_ms)
            self._lost.discard(key)
            self._ensure_thread()

    def untrack(self, key: str) -> bool:
        """Stop renewing; True when the leases were kept all along."""
        with self._lock:
            self._tracked.pop(key, None)
            lost = key in self._lost
            self._lost.discard(key)
            return not lost

    def _ensure_thread(self) -> None:
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="trunq-lease-keeper", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                interval = min((lease / 3000 for _, _, _, lease in self._tracked.values()), default=1.0)
                self._wake.wait(timeout=max(0.05, interval))
                tracked = list(self._tracked.items())
            for key, (store, members, holder, lease_ms) in tracked:
                if not self._renew(store, members, holder, lease_ms):
                    with self._lock:
                        if key in self._tracked:
                            self._lost.add(key)
                            del self._tracked[key]

    @staticmethod
    def _renew(store: Any, members: list[tuple[str, str]], holder: str, lease_ms: int) -> bool:
        try:
            kept = all([store.renew(step_id, token, lease_ms) for step_id, token in members])
            store.renew_resources(holder, lease_ms)
            return kept
        except Exception as exc:  # Redis away for a moment: try again next round
            logger.warning("trunq: could not renew a lease: %s", exc)
            return True


lease_keeper = LeaseKeeper()


def run_payload(payload: dict[str, Any]) -> str:
    """Execute one dispatched step; returns what happened (for Celery's log only)."""
    store = process_store()
    members = [(str(step_id), str(token)) for step_id, token in payload["members"]]
    first_id, first_token = members[0]
    holder = str(payload.get("holder") or "")
    if not store.start(first_id, first_token, execution_id()):
        return "stale"  # another dispatch of this step owns it now
    key = f"{first_id}|{first_token}"
    lease_keeper.track(key, store, members, holder, int(payload.get("lease_ms") or 30000))
    try:
        outcome = _execute(store, payload, first_id, holder)
    finally:
        kept = lease_keeper.untrack(key)
        clear_completion_cache()
    if not kept:
        logger.warning("trunq: %s lost its lease while running; its result is not recorded", first_id)
        return "lost"
    if outcome.status == PENDING:
        store.publish("dynamic", first_id, {"deps": [step_reference(dep) for dep in outcome.new_deps]})
    store.finish(members, outcome.status, expl=outcome.expl, holder=holder or None)
    return outcome.status


def _execute(store: Any, payload: dict[str, Any], first_id: str, holder: str) -> Outcome:
    try:
        step = rebuild_step(payload)
    except PayloadError as exc:
        return Outcome(FAILED, str(exc))
    try:
        if step.complete():  # an earlier dispatch (or another client) already made it
            return Outcome(DONE, None)
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
    members = [(str(step_id), str(token)) for step_id, token in payload["members"]]
    store = process_store()
    store.finish(members, FAILED, expl=reason, holder=payload.get("holder") or None)
