"""A cluster build's life as a record: opened, driven under a lease, adopted, ended.

The process that runs a build's scheduling loop is its *driver* and holds the build's driver
lease in the store (``trunq.scheduler.builds``). ``BuildDriver`` keeps that lease renewed from a
thread while the loop runs, publishes the build's counts, and stops the loop when someone asks
to cancel the build. The client that starts a build drives it first; if it dies without ending
the build, its lease expires and a Celery worker adopts the build (``adopt_build``, called by
``trunq.tasks.adopter``): the new loop expands the same roots, skips what is complete and follows
the steps still running under their own leases, so nothing runs twice.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from trunq.execution.payload import rebuild_step, step_reference
from trunq.scheduler.builds import CANCELLED, DONE, FAILED, QUEUED, RUNNING, BuildRecord

logger = logging.getLogger("trunq")

# A driver silent this long is presumed dead and a worker adopts its build. Clients pass the
# step lease length ([core] lease_seconds): the same patience for a lost step and a lost build.
DRIVER_TTL_MS = 30_000
COUNTS_EVERY_S = 1.0


def new_build_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def new_driver_id() -> str:
    return f"{process_id()}:{uuid.uuid4().hex[:4]}"


def open_build(store: Any, steps: list[Any], env: dict[str, Any], detached: bool = False,
               driver_id: str | None = None, ttl_ms: int = DRIVER_TTL_MS) -> BuildRecord:
    """Save a new build record for ``steps``, QUEUED. With ``driver_id`` the lease is taken
    before the record is visible, so no worker adopts a build its client is about to drive."""
    record = BuildRecord(
        build_id=new_build_id(), roots=[step_reference(step) for step in steps],
        root_ids=[step.step_id for step in steps],
        started_by={"host": socket.gethostname(), "pid": os.getpid(), "user": _user()},
        created=time.time(), detached=detached,
        options={key: env[key] for key in ("workers", "worker_timeout") if env.get(key) is not None},
    )
    if driver_id is not None:
        store.builds.claim_driver(record.build_id, driver_id, ttl_ms)
    store.builds.save(record)
    return record


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class BuildDriver:
    """Drive ``record`` while a build loop (``worker``) runs: lease, counts, cancel.

    ``with BuildDriver(store, record, worker) as driver:`` claims the lease (or raises
    ``LookupError`` when another process holds it); ``driver.finish(result)`` ends the record.
    Leaving the block without ``finish`` (an error, Ctrl-C) ends the build CANCELLED: a build
    its own client stopped must not be adopted.
    """

    def __init__(self, store: Any, record: BuildRecord, worker: Any, driver_id: str | None = None,
                 ttl_ms: int = DRIVER_TTL_MS) -> None:
        self.builds = store.builds
        self.record = record
        self.worker = worker
        self.driver_id = driver_id or new_driver_id()
        self.ttl_ms = ttl_ms
        self.lost = False  # another driver took the build over: we stop and write nothing
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._finished = False

    def __enter__(self) -> BuildDriver:
        build_id = self.record.build_id
        if not (self.builds.claim_driver(build_id, self.driver_id, self.ttl_ms)
                or self.builds.renew_driver(build_id, self.driver_id, self.ttl_ms)):
            raise LookupError(f"build {build_id} already has a driver")
        fresh = self.builds.get(build_id)
        if fresh is not None and fresh.is_ended:  # its last driver finished it meanwhile
            self.builds.release_driver(build_id, self.driver_id)
            raise LookupError(f"build {build_id} has ended")
        if fresh is not None:
            self.record = fresh
        adopted = self.record.status == RUNNING
        self.record.status = RUNNING
        self.record.driver = self.driver_id
        self.record.started = self.record.started or time.time()
        self.record.adoptions += 1 if adopted else 0
        self.builds.save(self.record)
        self._thread = threading.Thread(target=self._keep, name="trunq-build-driver", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self._finished and not self.lost:
            reason = "stopped by its client" if exc_type in (KeyboardInterrupt, SystemExit) else \
                f"its driver failed: {exc}" if exc is not None else "ended without a result"
            self._end(CANCELLED if exc_type in (KeyboardInterrupt, SystemExit) else FAILED, reason)
        if not self.lost:
            self.builds.release_driver(self.record.build_id, self.driver_id)

    def finish(self, result: Any, exit_code: int) -> None:
        """Record the outcome of the loop: per-category counts, the summary and the exit code."""
        if self.lost:
            return
        cancelled = self.builds.cancel_requested(self.record.build_id)
        self.record.counts = {name: len(steps) for name, steps in result.categories.items() if steps}
        self.record.summary = result.summary_text
        self.record.exit_code = exit_code
        self._end(CANCELLED if cancelled else DONE if exit_code == 0 else FAILED, None)

    def _end(self, status: str, reason: str | None) -> None:
        self._finished = True
        self.record.status = status
        self.record.ended = time.time()
        if reason and not self.record.summary:
            self.record.summary = f"build {self.record.build_id}: {reason}"
        self.builds.save(self.record)

    def _keep(self) -> None:
        """Renew the lease every third of its life, publish counts, watch for a cancel."""
        renew_every = self.ttl_ms / 3000
        next_renewal = time.monotonic() + renew_every
        while not self._stop.wait(COUNTS_EVERY_S if COUNTS_EVERY_S < renew_every else renew_every):
            try:
                if time.monotonic() >= next_renewal:
                    next_renewal = time.monotonic() + renew_every
                    if not self._keep_lease():
                        self.lost = True
                        self.worker.request_stop("another process drives this build now")
                        return
                if self.builds.cancel_requested(self.record.build_id):
                    self.worker.request_stop("cancelled")
                self._publish_counts()
            except Exception as exc:  # the store away for a moment: keep the loop going
                logger.warning("trunq: build %s: %s", self.record.build_id, exc)

    def _keep_lease(self) -> bool:
        """Renew; a lease that expired meanwhile (Redis was away longer than it) is taken
        again unless another driver took it first."""
        build_id = self.record.build_id
        if self.builds.renew_driver(build_id, self.driver_id, self.ttl_ms):
            return True
        return self.builds.claim_driver(build_id, self.driver_id, self.ttl_ms)

    def _publish_counts(self) -> None:
        counts: dict[str, int] = {}
        for node in list(self.worker.core.nodes.values()):
            counts[node.status] = counts.get(node.status, 0) + 1
        if counts != self.record.counts:
            self.record.counts = counts
            self.builds.save(self.record)


def adopt_build(store: Any, build_id: str, run_build: Any) -> bool:
    """Drive a build nobody drives (called on a worker). False when it needs no driver.

    ``run_build(steps, env, record)`` runs the loop the same way a client does.
    """
    record = store.builds.get(build_id)
    if record is None or record.is_ended or store.builds.driver_of(build_id) is not None:
        return False
    if store.builds.cancel_requested(build_id):
        record.status, record.ended = CANCELLED, time.time()
        record.summary = record.summary or f"build {build_id}: cancelled before it started"
        store.builds.save(record)
        return False
    try:
        steps = [rebuild_step(reference) for reference in record.roots]
    except Exception as exc:  # the roots cannot be rebuilt here: say so in the record
        record.status, record.ended = FAILED, time.time()
        record.summary = f"build {build_id}: cannot rebuild its steps on {process_id()}: {exc}"
        store.builds.save(record)
        return False
    logger.warning("trunq: adopting build %s (%s)", build_id, "queued" if record.status == QUEUED else
                   f"its driver {record.driver} stopped")
    env = {"workers": 1, **record.options, "no_lock": True, "local_scheduler": False, "progress": False}
    run_build(steps, env, record)
    return True
