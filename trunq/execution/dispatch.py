"""Where steps execute on one machine: inline, or in a reused pool of processes.

An executor takes ``Job``s from the Worker loop and hands back ``(job, Outcome)`` pairs.
The Celery executor (``trunq.tasks.dispatch``) implements the same three methods.
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from trunq.core import registry
from trunq.core.events import Event
from trunq.core.status import Status
from trunq.execution.execute import Outcome, StoreReporter, execute_step
from trunq.execution.pool import ProcessPool, Request
from trunq.scheduler import leases
from trunq.scheduler.chunking import ChunkSizer
from trunq.scheduler.core import Node


@dataclass
class Job:
    job_id: int
    step: Any  # what runs: the step itself, or the aggregate of a batch
    members: list[Node]
    tokens: list[str]
    holder: str
    data: dict[str, Any] = field(default_factory=dict)
    # Wall-clock time the job was handed to a dispatcher (history durations) and whether a
    # worker has started it (then that worker, not the client, renews its leases).
    started_at: float = field(default_factory=time.time)
    worker_started: bool = False
    lease_ms: int = 0
    follows: bool = False  # it waits on the job submitted just before it (see follower_limit)

    @property
    def lease_items(self) -> list[tuple[str, str]]:
        return [(member.step_id, token) for member, token in zip(self.members, self.tokens)]

    @property
    def lease(self) -> leases.Lease:
        return leases.Lease(self.lease_items, self.holder, self.lease_ms, dict(self.members[0].resources))


class Dispatcher(Protocol):
    """Where the build loop's jobs run: this process, a local pool, or Celery workers.

    The loop hands over jobs whose leases it holds (``scheduler/leases.py``) and takes back
    one Outcome per job from ``poll``.
    """

    # True when the executor ends jobs in the store itself (a remote worker's fenced
    # finish); else the loop finishes them.
    finishes_in_store: bool

    def free_slots(self) -> int:
        """How many more jobs ``submit`` takes now."""

    def follower_limit(self) -> int:
        """How many steps may follow a lone step into its process, each run only when the one
        before it succeeded there (0: this executor runs no followers)."""

    def can_chain(self, step: Any) -> bool:
        """Whether ``step`` may travel in such a chain, first or following."""

    def submit(self, job: Job) -> None:
        """Start ``job`` (or queue it)."""

    def poll(self, timeout: float | None) -> list[tuple[Job, Outcome]]:
        """Jobs that ended, waiting up to ``timeout`` seconds for one (a dispatcher with
        nothing in flight may return at once)."""

    def lost_jobs(self, in_flight: list[Job]) -> list[Job]:
        """Jobs whose executor vanished (their lease lapsed without a finish); [] locally."""

    def close(self) -> None:
        """Give back connections and processes."""


# The cluster dispatcher lives with the Celery adapter; it is loaded by name so that
# ``build`` never imports ``tasks`` (which imports ``build``).
CELERY_DISPATCHER = "trunq.tasks.dispatch:CeleryExecutor"


def create_executor(worker: Any, scheduler: Any) -> Dispatcher:
    """The dispatcher that fits the scheduler: Celery for a shared store, else this machine."""
    if scheduler.shared:
        module, _, name = CELERY_DISPATCHER.partition(":")
        return getattr(importlib.import_module(module), name)(worker, scheduler)
    if worker.worker_processes > 1 or worker.force_multiprocessing:
        return PoolExecutor(worker, worker.worker_processes)
    return InlineExecutor(worker)


class InlineExecutor:
    """Runs each step in this process, one at a time (``--workers 1``)."""

    finishes_in_store = False

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self._done: list[tuple[Job, Outcome]] = []

    def free_slots(self) -> int:
        return 0 if self._done else 1

    def follower_limit(self) -> int:
        return 0  # the next step runs here as soon as this one is handled anyway

    def can_chain(self, step: Any) -> bool:
        return False

    def submit(self, job: Job) -> None:
        first = job.members[0]
        store = self.worker.store
        leases.start(store, job.lease, leases.Executor(self.worker.worker_id, os.getpid()))
        reporter = StoreReporter(store, first.step_id, job.holder,
                                 on_decrease=lambda amounts: self.worker.core.decrease_resources(first, amounts))
        self._done.append((job, execute_step(job.step, reporter)))

    def poll(self, timeout: float | None) -> list[tuple[Job, Outcome]]:
        done, self._done = self._done, []
        return done

    def lost_jobs(self, in_flight: list[Job]) -> list[Job]:
        return []  # the step ran in this process: it cannot vanish without the build

    def close(self) -> None:
        return None


FOLLOWERS_PER_CHUNK_STEP = 16  # a chain's chunk: this many times the adaptive chunk size


class PoolExecutor:
    """Runs steps in ``size`` forked worker processes (``--workers N``), short steps in
    adaptive chunks (``scheduler/chunking.py``): one message and one wake-up per chunk."""

    finishes_in_store = False

    def __init__(self, worker: Any, size: int) -> None:
        self.worker = worker
        self.jobs: dict[int, Job] = {}
        self.pool = ProcessPool(max(1, size), self._on_report, self._on_timeout)
        self.sizer = ChunkSizer()
        self._outbox: list[Job] = []  # submitted, handed to idle processes at the next poll

    def free_slots(self) -> int:
        return max(0, self.pool.free_slots * self.sizer.size - len(self._outbox))

    def follower_limit(self) -> int:
        # Long: a chain has nothing else to run, and each chunk ends with the pool process
        # idle while this one handles the last answers and sends the next chunk.
        return self.sizer.size * FOLLOWERS_PER_CHUNK_STEP - 1

    def can_chain(self, step: Any) -> bool:
        return not self._time_limit(step)

    def submit(self, job: Job) -> None:
        self.jobs[job.job_id] = job
        self._outbox.append(job)

    def _time_limit(self, step: Any) -> float | None:
        return step.worker_timeout or self.worker.default_timeout

    def _must_travel_alone(self, job: Job) -> bool:
        return bool(self._time_limit(job.step) or job.members[0].resources)

    def _send(self) -> None:
        idle = self.pool.free_slots
        if not self._outbox or not idle:
            return
        if self._outbox[-1].follows:  # a lone step and its followers: one chunk, in order
            chunks = [self._outbox]
        else:
            chunks = self.sizer.split(self._outbox, self.pool.size, self._must_travel_alone)
        sent, kept = chunks[:idle], chunks[idle:]
        self._outbox = [job for chunk in kept for job in chunk]
        for chunk in sent:
            for job in chunk:  # started when handed over: its lease says so from now on
                leases.start(self.worker.store, job.lease, self.worker.worker_id)
            self.pool.submit([Request(job.job_id, job.step, self._time_limit(job.step), job.follows) for job in chunk])

    def lost_jobs(self, in_flight: list[Job]) -> list[Job]:
        return []  # a dead pool process is reported by the pool as a failed outcome

    def poll(self, timeout: float | None) -> list[tuple[Job, Outcome]]:
        self._send()
        results = []
        for job_id, outcome, new_deps in self.pool.poll(timeout):
            self.sizer.finished(self.pool.size)
            job = self.jobs.pop(job_id)
            if outcome.status == Status.FAILED and outcome.expl and outcome.expl.startswith("worker process died"):
                job.step.trigger_event(Event.PROCESS_FAILURE, job.step, outcome.expl)
            outcome.new_deps = [registry.class_from_key(key).from_str_params(params) for key, params in new_deps]
            results.append((job, outcome))
        return results

    def _on_report(self, job_id: int, kind: str, payload: Any) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        first = job.members[0]
        store = self.worker.store
        if kind == "decrease_resources":
            self.worker.core.decrease_resources(first, payload)
            leases.give_back_resources(store, job.holder, payload)
        elif kind == "status_message":
            store.update(first.step_id, status_message=payload)
        elif kind == "progress":
            store.update(first.step_id, progress=payload)
        elif kind == "tracking_url":
            store.update(first.step_id, tracking_url=payload)

    def _on_timeout(self, step: Any, message: str) -> None:
        step.trigger_event(Event.TIMEOUT, step, message)

    def close(self) -> None:
        self.pool.close()
