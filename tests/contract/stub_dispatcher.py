"""A Celery-free cluster dispatcher for unit tests.

``StubDispatcher`` hands each job to ``tasks.worker_side.run_payload_with`` in this process,
against the build's own store, and learns outcomes from the store's event stream as the
Celery client does: fencing, redelivery, lost leases, dynamic dependencies over events
and resource hand-off all take milliseconds to test.
"""

from __future__ import annotations

from typing import Any

from trunq.core.status import Status
from trunq.execution.dispatch import Job
from trunq.execution.execute import Outcome
from trunq.execution.payload import make_payload, rebuild_step
from trunq.scheduler import leases
from trunq.tasks.worker_side import run_payload_with

FINAL = (Status.DONE, Status.FAILED, Status.PENDING, Status.DISABLED)


class StubDispatcher:
    """``deliveries``: how often each message is delivered; ``drop``: step ids whose
    first message is lost on the way (their lease then lapses)."""

    finishes_in_store = True

    def __init__(self, worker: Any, slots: int = 2, deliveries: int = 1, drop: set[str] | None = None) -> None:
        self.worker = worker
        self.store = worker.store
        self.slots = slots
        self.deliveries = deliveries
        self.drop = set(drop or ())
        self.results: list[str] = []  # what each delivery did: DONE, FAILED, PENDING, stale
        self._cursor = self.store.last_event_id()
        self._queue: list[dict[str, Any]] = []
        self._jobs: dict[str, Job] = {}
        self._new_deps: dict[str, list[dict[str, Any]]] = {}

    def free_slots(self) -> int:
        return max(0, self.slots - len(self._jobs))

    def follower_limit(self) -> int:
        return 0  # as the Celery dispatcher: each message's steps start on their own

    def can_chain(self, step: Any) -> bool:
        return False

    def submit(self, job: Job) -> None:
        self._jobs[job.members[0].step_id] = job
        if job.members[0].step_id in self.drop:
            self.drop.discard(job.members[0].step_id)
            return  # lost in the broker: nobody renews it once the client stops
        self._queue.append(make_payload(job, job.lease_ms))

    def poll(self, timeout: float | None) -> list[tuple[Job, Outcome]]:
        queue, self._queue = self._queue, []
        for payload in queue:
            for _ in range(self.deliveries):
                self.results.append(run_payload_with(self.store, payload, "stub-host:1"))
        return self._read()

    def _read(self) -> list[tuple[Job, Outcome]]:
        ended = []
        for event in self.store.read_events(self._cursor, count=10_000):
            self._cursor = event.id
            job = self._jobs.get(event.step_id)
            if job is None:
                continue
            if event.kind == "dynamic":
                self._new_deps[event.step_id] = list(event.data.get("deps") or [])
            elif event.kind == "resources":
                self.worker.core.decrease_resources(job.members[0], dict(event.data.get("amounts") or {}))
            elif event.kind == "status" and event.data.get("status") in FINAL:
                del self._jobs[event.step_id]
                status = Status(event.data["status"])
                outcome = Outcome(Status.FAILED if status == Status.DISABLED else status, event.data.get("expl"))
                if status == Status.PENDING:
                    outcome.new_deps = [rebuild_step(ref) for ref in self._new_deps.pop(event.step_id, [])]
                ended.append((job, outcome))
        return ended

    def lost_jobs(self, in_flight: list[Job]) -> list[Job]:
        self._read()  # a finish frees the lease too: take those first
        candidates = [job for job in in_flight if job.members[0].step_id in self._jobs]
        held = [job.lease for job in candidates]
        gone = {id(lease) for lease in leases.lost(self.store, held)}
        lost = [job for job, lease in zip(candidates, held) if id(lease) in gone]
        for job in lost:
            del self._jobs[job.members[0].step_id]
        return lost

    def close(self) -> None:
        return None
