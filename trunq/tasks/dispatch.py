"""``CeleryExecutor``: the client side of distributed execution.

The ``Worker`` loop hands it jobs whose leases it already holds. Each job becomes one
``trunq.execute_step`` message (JSON, no result kept), or, when steps are short, one member
of a ``trunq.execute_chunk`` message carrying several (``chunks.py``). The remote worker finishes the step
in the store (fenced), which appends a ``status`` event to the store's stream; ``poll``
follows that stream with its own cursor and turns the events of its jobs into Outcomes.

Liveness: while a job waits in the queue its leases are renewed here; once a worker has
started it, the worker renews them. A job whose lease vanished without a finish event lost
its worker (``lost_jobs``) and is dispatched again with a new fencing token.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from kombu import exceptions as kombu_errors

from trunq.core.errors import NoWorkerAlive
from trunq.core.status import Status
from trunq.execution.execute import Outcome
from trunq.execution.payload import PayloadError, make_payload, rebuild_step
from trunq.scheduler import leases
from trunq.scheduler.chunking import ChunkSizer
from trunq.scheduler.redis import StoreUnavailable, out_of_memory
from trunq.tasks.app import CHUNK_TASK_NAME, TASK_NAME, celery_app
from trunq.tasks.broker import START_WORKER_HINT, client_app
from trunq.tasks.chunks import shadow_name

logger = logging.getLogger("trunq")

WORKER_REFRESH_S = 1.0
# Messages kept in flight per free worker slot: enough that a worker finds its next step
# queued when it finishes one, few enough that priorities and other clients still count.
IN_FLIGHT_PER_SLOT = 2
NO_WORKER_GRACE_S = 15.0  # all workers gone for this long while steps wait: give up
FINAL_STATUSES = (Status.DONE, Status.FAILED, Status.PENDING, Status.DISABLED)

HARD_LIMIT_GRACE_S = 5.0
CHUNK_CAP = 64
MAX_CHUNK_ENV = "TRUNQ_CELERY_MAX_CHUNK"  # 1 turns chunking off
CHUNK_START_ENV = "TRUNQ_CELERY_CHUNK_START"  # the first chunk size (it adapts from there)  # after the soft time limit, before the process is killed


class CeleryExecutor:
    """Sends jobs to Celery workers and follows their completion in the store."""

    finishes_in_store = True

    def __init__(self, worker: Any, scheduler: Any) -> None:
        self.worker = worker
        self.store = scheduler.store
        self.lease_ms = int(scheduler.lease_ms)
        self._slots = self._live_slots()
        if self._slots == 0:
            raise NoWorkerAlive(f"no trunq worker is running: {START_WORKER_HINT}")
        self._slots_checked = time.monotonic()
        self._last_worker_seen = time.monotonic()
        self._cursor = self.store.last_event_id()
        self._jobs: dict[str, Any] = {}  # first member's step id -> job in flight
        self._new_deps: dict[str, list[dict[str, Any]]] = {}
        self._ready: list[tuple[Any, Outcome]] = []
        self._outbox: list[Any] = []  # submitted, sent in one pipeline before the next wait
        self._outages_seen = getattr(self.store, "outages", 0)
        self._next_renewal = time.monotonic() + self.lease_ms / 3000
        # The shared app reads its broker URL once per process; a process that talks to
        # several clusters (tests, notebooks) needs the app of this scheduler's Redis.
        self._producer = client_app(scheduler.url).producer_pool.acquire(block=True)
        # kombu 5.7 reports a failed pipeline of publishes as BatchPublishError (delivery uncertain)
        batch_failed = getattr(kombu_errors, "BatchPublishError", kombu_errors.OperationalError)
        self._broker_errors = (kombu_errors.OperationalError, batch_failed, *self._producer.connection.connection_errors)
        self._task = celery_app().tasks[TASK_NAME]
        self._chunk_task = celery_app().tasks[CHUNK_TASK_NAME]
        self.sizer = ChunkSizer(int(os.environ.get(MAX_CHUNK_ENV) or CHUNK_CAP),
                                int(os.environ.get(CHUNK_START_ENV) or 1))
        self._chunk_of: dict[str, list[Any]] = {}  # sent job's first step id -> its message's jobs

    # ---- capacity ----------------------------------------------------------------------
    def _live_slots(self) -> int:
        workers = [info for info in self.store.live_workers() if info.get("kind") == "celery"]
        return sum(max(1, int(info.get("concurrency") or 1)) for info in workers)

    def free_slots(self) -> int:
        now = time.monotonic()
        if now - self._slots_checked >= WORKER_REFRESH_S:
            self._slots_checked = now
            self._slots = self._live_slots()
            if self._slots:
                self._last_worker_seen = now
        size = self.sizer.size
        free = self._slots * IN_FLIGHT_PER_SLOT * size - len(self._jobs)
        # Refill by whole chunks: topping up one step at a time would send chunks of one.
        return free if free >= size or (self._outbox and free > 0) else 0

    def follower_limit(self) -> int:
        return 0  # each member of a Celery chunk is leased and started on its own, by the worker

    def can_chain(self, step: Any) -> bool:
        return False

    # ---- dispatch ----------------------------------------------------------------------
    def submit(self, job: Any) -> None:
        self._jobs[job.members[0].step_id] = job
        self._outbox.append(job)

    def _send(self) -> None:
        """Publish the submitted jobs: one Redis pipeline for all of them."""
        if not self._outbox:
            return
        if len(self._outbox) < self.sizer.size and self._messages_in_flight() >= self._slots:
            return  # every slot has a message queued: wait for a fuller chunk (or a free slot)
        jobs, self._outbox = self._outbox, []
        try:  # a Redis out of memory is ridden out as store calls do; a resent message is stale
            self.store.with_grace(self._publish_all, jobs)
        except self._broker_errors as exc:
            raise StoreUnavailable(f"cannot send steps to the Celery broker ({exc}); outputs already "
                                   "written are kept, run the build again to continue") from exc

    def _publish_all(self, jobs: list[Any]) -> None:
        try:
            with self._producer.batch():
                for chunk in self.sizer.split(jobs, self._slots, self._time_limits):
                    self._publish(chunk)
        except self._broker_errors as exc:
            cause = exc.__cause__ or exc.__context__
            if cause is not None and out_of_memory(cause):
                raise cause from exc
            raise

    def _publish(self, chunk: list[Any]) -> None:
        # Monitoring (Flower, `celery inspect`, `celery events`, the worker log) shows the
        # step ids as the task's name and arguments, not the generic task and payload.
        ids = [job.members[0].step_id for job in chunk]
        options = {"ignore_result": True, "producer": self._producer, "argsrepr": " ".join(ids),
                   "kwargsrepr": "", "shadow": shadow_name(ids)}
        for step_id in ids:
            self._chunk_of[step_id] = chunk
        if len(chunk) == 1:
            self._task.apply_async(args=[make_payload(chunk[0], self.lease_ms)], **options,
                                   **self._time_limits(chunk[0]))
            return
        self._chunk_task.apply_async(args=[[make_payload(job, self.lease_ms) for job in chunk]], **options)

    def _messages_in_flight(self) -> int:
        return len({id(self._chunk_of[step_id]) for step_id in self._jobs if step_id in self._chunk_of})

    def _time_limits(self, job: Any) -> dict[str, float]:
        """``worker_timeout`` as Celery time limits: the soft one raises in the step (it fails
        with the reason); the hard one, a little later, ends a step that would not stop."""
        timeout = getattr(job.step, "worker_timeout", None) or self.worker.default_timeout
        if not timeout:
            return {}
        return {"soft_time_limit": float(timeout), "time_limit": float(timeout) + HARD_LIMIT_GRACE_S}

    # ---- completion --------------------------------------------------------------------
    def poll(self, timeout: float | None) -> list[tuple[Any, Outcome]]:
        self._send()
        if not self._ready and self._jobs:
            block_ms = 1000 if timeout is None else int(timeout * 1000)
            self._read(block_ms)
        elif not self._jobs and timeout:
            time.sleep(min(timeout, 0.2))
        self._housekeeping()
        ready, self._ready = self._ready, []
        return ready

    def _read(self, block_ms: int) -> None:
        for event in self.store.read_events(self._cursor, count=1000, block_ms=block_ms):
            self._cursor = event.id
            if event.step_id not in self._jobs:
                continue
            if event.kind == "dynamic":
                self._new_deps[event.step_id] = list(event.data.get("deps") or [])
            elif event.kind == "resources":
                job = self._jobs[event.step_id]
                self.worker.core.decrease_resources(job.members[0], dict(event.data.get("amounts") or {}))
            elif event.kind == "status" and event.data.get("status") in FINAL_STATUSES:
                token = event.data.get("token")  # another build's execution of the step has its own
                if token is None or token in self._jobs[event.step_id].tokens:
                    self._complete(event.step_id, event.data)

    def _complete(self, step_id: str, data: dict[str, Any]) -> None:
        job = self._jobs.pop(step_id)
        self._chunk_of.pop(step_id, None)
        self.sizer.finished(self._slots)
        status = str(data["status"])
        expl = data.get("expl")
        if status == Status.DISABLED:
            status = Status.FAILED
        outcome = Outcome(status, expl, worker=data.get("worker"), duration=data.get("duration"))
        if status == Status.PENDING:
            try:
                outcome.new_deps = [rebuild_step(ref) for ref in self._new_deps.pop(step_id, [])]
            except PayloadError as exc:
                outcome = Outcome(Status.FAILED, f"cannot load a dynamic dependency: {exc}")
        self._ready.append((job, outcome))

    # ---- liveness ----------------------------------------------------------------------
    def _housekeeping(self) -> None:
        if getattr(self.store, "outages", 0) != self._outages_seen:
            self._resend_waiting()
        now = time.monotonic()
        if not self._slots and now - self._last_worker_seen > NO_WORKER_GRACE_S:
            self._slots = self._live_slots()  # the verdict rests on a fresh read, not a stale one
            if not self._slots:
                raise NoWorkerAlive(f"all trunq workers stopped while steps were waiting: {START_WORKER_HINT}")
            self._last_worker_seen = now
        if now < self._next_renewal or not self._jobs:
            return
        self._next_renewal = now + self.lease_ms / 3000
        self._renew_waiting()

    def _resend_waiting(self) -> None:
        """Redis went away and came back: a message a worker had taken but not started may be
        gone with the worker's old connection (Celery restores it only after the visibility
        timeout). Send the waiting jobs again; a copy whose job did start is refused by the
        fenced start (one start per token), so nothing runs twice."""
        self._outages_seen = getattr(self.store, "outages", 0)
        # Workers could not beat while Redis was away: their grace starts again now.
        self._last_worker_seen = time.monotonic()
        waiting = [job for job in self._jobs.values() if not job.worker_started and job not in self._outbox]
        if waiting:
            logger.warning("trunq: Redis was away: sending %d waiting step(s) again", len(waiting))
            self._outbox.extend(waiting)

    def _renew_waiting(self) -> None:
        """Keep the leases of jobs no worker has started yet (they wait in the queue)."""
        for job in self._jobs.values():
            chunk = self._chunk_of.get(job.members[0].step_id)
            if chunk and any(member.members[0].step_id not in self._jobs for member in chunk):
                job.worker_started = True  # a member already finished: a worker holds the chunk
        waiting = [job for job in self._jobs.values() if not job.worker_started]
        if not waiting:
            return
        queued = [job.lease for job in waiting]
        by_lease = dict(zip(map(id, queued), waiting))
        for lease in leases.renew_queued(self.store, queued):
            started = by_lease[id(lease)]
            # its worker renews it from now on, and the rest of its chunk too
            for job in self._chunk_of.get(started.members[0].step_id, [started]):
                job.worker_started = True

    def lost_jobs(self, in_flight: list[Any]) -> list[Any]:
        """Jobs lost although no finish event came (``Leases.lost``: a started job's worker
        stopped beating, a queued job's lease vanished)."""
        if not in_flight:
            return []
        self._read(0)  # a finish may be in the stream already
        candidates = [job for job in in_flight if job.members[0].step_id in self._jobs]
        held = [job.lease for job in candidates]
        vanished = {id(lease) for lease in leases.lost(self.store, held)}
        lost = []
        for job, lease in zip(candidates, held):
            if id(lease) in vanished:
                self._read(0)  # the finish and the lease check may have crossed
                if job.members[0].step_id in self._jobs:
                    del self._jobs[job.members[0].step_id]
                    self._chunk_of.pop(job.members[0].step_id, None)
                    self._new_deps.pop(job.members[0].step_id, None)
                    logger.warning("trunq: %s lost its worker; dispatching it again", job.members[0].step_id)
                    lost.append(job)
        return lost

    def close(self) -> None:
        if self._producer is not None:
            self._outbox.clear()  # the build is over: what was not sent is not needed
            try:
                self._producer.release()
            except Exception:  # a broken connection: nothing left to give back
                pass
            self._producer = None
