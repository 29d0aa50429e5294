"""The build loop: expand the graph, hand ready steps to an executor, follow outcomes.

One ``Worker`` serves one build (one ``trunq build`` or ``trunq.build()`` call). Its policy
is ``SchedulerCore`` (in memory); what it shares with other clients and workers goes
through the scheduler's state store: a lease per running step, counted resources,
failure counts and, in distributed mode, the events that say a step finished.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import time
import uuid
from typing import Any

from trunq.execution.dispatch import Job, create_executor
from trunq.execution.execute import CANCEL_REASON, step_session
from trunq.execution.progress import Progress
from trunq.scheduler import Scheduler
from trunq.scheduler.core import BATCH_RUNNING, DONE, FAILED, RUN_BY_OTHER, RUNNING, Node, aggregate_step
from trunq.scheduler.resolver import Resolver, clear_completion_cache
from trunq.scheduler.state import StepRecord

logger = logging.getLogger("trunq")

_LEASE_CHECK_SECONDS = 1.0
_SETTLED = (DONE, FAILED, "MISSING_EXT", "SCHEDULING_ERROR")  # known at expansion time
_MAX_LOST = 3  # a step whose executor vanished this many times is failed


class Worker:
    """Runs the steps added to it, using ``scheduler`` for shared state."""

    def __init__(self, scheduler: Any = None, worker_processes: int = 1, assistant: bool = False, *,
                 force_multiprocessing: bool = False, parallel_scheduling: bool | None = None,
                 worker_timeout: float | None = None, progress: bool | None = None,
                 notifier: Any = None) -> None:
        self.scheduler = scheduler if scheduler is not None else Scheduler()
        self.store = self.scheduler.store
        self.worker_processes = max(1, int(worker_processes))
        self.assistant = assistant
        self.force_multiprocessing = force_multiprocessing
        self.default_timeout = worker_timeout
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        from trunq.scheduler.core import SchedulerCore

        self.core = SchedulerCore(self.scheduler.resource_limits)
        threads = 8 if (parallel_scheduling or (parallel_scheduling is None and self.scheduler.shared)) else 0
        policy = self.scheduler.retry_policy
        self.resolver = Resolver(self.core, threads=threads, default_retries=policy.retry_count)
        self.executor: Any = None
        self.notifier = notifier
        self.history: Any = None  # a HistoryLog, set by the runner from config
        self.progress = Progress(enabled=progress)
        self.roots: list[Any] = []
        self._jobs = itertools.count(1)
        self._in_flight: dict[int, Job] = {}
        self._others: dict[str, Node] = {}
        self._events_after = "$"
        self._next_lease_check = 0.0
        self._resource_wait_until = 0.0

    # ---- context management ------------------------------------------------------------
    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None
        self.resolver.close()
        self.progress.close()
        if self.notifier is not None:
            self.notifier.flush()
        if self.history is not None:
            self.history.close()
        clear_completion_cache()

    # ---- adding steps ------------------------------------------------------------------
    def add(self, step: Any) -> bool:
        """Expand ``step`` and its requirements. False when some could not be scheduled."""
        self.roots.append(step)
        added = self.resolver.expand([step])
        self._publish(added)
        self.progress.total = len(self.core.nodes)
        return all(node.status != "SCHEDULING_ERROR" for node in added)

    def _publish(self, nodes: list[Node]) -> None:
        """Make the steps visible to the UI and other clients (shared stores only)."""
        if not self.scheduler.shared or not nodes:
            return
        records = [
            StepRecord(
                step_id=node.step_id, family=node.step.step_family, module=type(node.step).__module__,
                params=node.step.to_str_params(only_public=True), deps=list(node.deps),
                priority=node.priority, resources=dict(node.resources),
                accepts_messages=bool(node.step.accepts_messages), expl=node.expl,
            )
            for node in nodes
        ]
        self.store.register(records)
        for node in nodes:
            if node.status in _SETTLED:
                self.store.update(node.step_id, status=_store_status(node.status))
        disabled = self.store.disabled([node.step_id for node in nodes])
        for node, is_disabled in zip(nodes, disabled):
            if is_disabled and node.status != DONE:
                node.status = "DISABLED"

    # ---- running -----------------------------------------------------------------------
    def run(self) -> bool:
        """Run until nothing more can run. True when no step failed."""
        if self.executor is None:
            self.executor = create_executor(self, self.scheduler)
        self._events_after = self.store.last_event_id() if self.scheduler.shared else "$"
        with step_session():
            while True:
                self._dispatch()
                if not self._work_left():
                    break
                for job, outcome in self.executor.poll(self._poll_timeout()):
                    self._handle(job, outcome)
                self.core.release_due(time.monotonic())
                if self.scheduler.shared:
                    self._follow_others()
        return not any(node.status == FAILED for node in self.core.nodes.values())

    def _work_left(self) -> bool:
        return bool(self.core.running or self._others or self.core.waiting_for_retry() or self.core.has_ready())

    def _poll_timeout(self) -> float | None:
        waits = []
        retry_at = self.core.next_retry_time()
        if retry_at is not None:
            waits.append(max(0.0, retry_at - time.monotonic()))
        if self._others or self.scheduler.shared:
            waits.append(0.2 if self._others else _LEASE_CHECK_SECONDS)
        if self._resource_wait_until:
            waits.append(0.2)
        if self.core.running == 0 and self.core.has_ready():
            waits.append(0.0)
        return min(waits) if waits else None

    def _dispatch(self) -> None:
        if time.monotonic() < self._resource_wait_until:
            return
        self._resource_wait_until = 0.0
        while self.executor.free_slots() > 0:
            members = self.core.next_batch()
            if members is None:
                return
            if not self._start_job(members):
                return

    def _start_job(self, members: list[Node]) -> bool:
        """Take the shared resources and the leases, then submit. False: stop for now."""
        job_id = next(self._jobs)
        holder = f"{self.worker_id}:{job_id}"
        first = members[0]
        if self.scheduler.shared and first.resources:
            if not self.store.acquire_resources(holder, first.resources, self.core.limits, self.scheduler.lease_ms):
                self.core.give_back(members)
                self._resource_wait_until = time.monotonic() + 0.2
                return False
        status = RUNNING if len(members) == 1 else BATCH_RUNNING
        leased, tokens = [], []
        for member in members:
            token = self.store.acquire(member.step_id, self.worker_id, self.scheduler.lease_ms, status)
            if token is None:
                member.status = RUN_BY_OTHER
                self._others[member.step_id] = member
            else:
                leased.append(member)
                tokens.append(token)
        if not leased:
            self.core.abandon(first)
            if first.resources:
                self.store.release_resources(holder)
            return True
        job = Job(job_id, aggregate_step([m.step for m in leased]), leased, tokens, holder)
        job.data["started"] = time.monotonic()
        self._in_flight[job_id] = job
        self.executor.submit(job)
        return True

    def _handle(self, job: Job, outcome: Any) -> None:
        self._in_flight.pop(job.job_id, None)
        if self.history is not None and outcome.status != "PENDING":
            duration = time.monotonic() - job.data.get("started", time.monotonic())
            for member in job.members:
                self.history.record(member.step, outcome.status, worker=self.worker_id, duration=duration,
                                    error=outcome.expl if outcome.status == "FAILED" else None)
        if outcome.status == "PENDING":
            new = self.resolver.expand(outcome.new_deps)
            self._publish(new)
            self.progress.total = len(self.core.nodes)
            self._finish_in_store(job, "PENDING", None)
            self.core.set_new_deps(job.members, [dep.step_id for dep in outcome.new_deps])
            return
        ok = outcome.status == "DONE"
        self._finish_in_store(job, "DONE" if ok else "FAILED", outcome.expl)
        self.core.finished(job.members, ok, outcome.expl)
        if ok:
            self.progress.done(len(job.members))
            return
        self.progress.failed(len(job.members))
        _log_failure(job.step, outcome.expl)
        for member in job.members:
            self._after_failure(member, outcome.expl)

    def _finish_in_store(self, job: Job, status: str, expl: str | None) -> None:
        if not self.executor.finishes_in_store:
            self.store.finish(job.lease_items, status, expl=expl, holder=job.holder)

    def _after_failure(self, node: Node, expl: str | None) -> None:
        policy = self.scheduler.retry_policy
        threshold = policy.disable_threshold(node.step)
        if threshold:
            failures = self.store.record_failure(node.step_id, policy.disable_window)
            if failures >= threshold and self.scheduler.shared:
                self.store.disable(node.step_id, policy.disable_persist)
                node.status = "DISABLED"
                return
        if node.retries_left > 0 and expl != CANCEL_REASON:
            node.retries_left -= 1
            self.progress.failed(-1)
            self.core.retry_later(node, time.monotonic() + policy.retry_delay)
            return
        if self.notifier is not None:
            self.notifier.step_failed(node.step, expl)

    # ---- distributed: steps other clients run, executors that vanish --------------------
    def _follow_others(self) -> None:
        if self._others:
            for event in self.store.read_events(self._events_after, count=10_000):
                self._events_after = event.id
                node = self._others.get(event.step_id)
                if node is None or event.kind != "status":
                    continue
                self._other_finished(node, event.data.get("status"), event.data.get("expl"))
        now = time.monotonic()
        if now >= self._next_lease_check:
            self._next_lease_check = now + _LEASE_CHECK_SECONDS
            self._check_leases()

    def _other_finished(self, node: Node, status: str | None, expl: str | None) -> None:
        if status in ("PENDING", None) or status == "RUNNING":
            return
        del self._others[node.step_id]
        if status == "DONE":
            node.initially_done = True
            self.core.mark_done(node)
            self.progress.done(1)
        else:
            node.status = FAILED if status == "FAILED" else "DISABLED"
            node.expl = expl or f"{status} in another build"

    def _check_leases(self) -> None:
        """Steps whose lease vanished without a finish event run again (here)."""
        if self._others:
            ids = list(self._others)
            for step_id, holder in zip(ids, self.store.holders(ids)):
                if holder is None:
                    record = self.store.get(step_id)
                    node = self._others[step_id]
                    if record is not None and record.status in ("DONE", "FAILED", "DISABLED"):
                        self._other_finished(node, record.status, record.expl)
                    else:
                        del self._others[step_id]
                        self.core.requeue(node)
        if self._in_flight and hasattr(self.executor, "lost_jobs"):
            for job in self.executor.lost_jobs(list(self._in_flight.values())):
                self._in_flight.pop(job.job_id, None)
                for member in job.members:
                    member.lost += 1
                if max(member.lost for member in job.members) >= _MAX_LOST:
                    reason = f"the worker running it vanished {_MAX_LOST} times (killed, out of memory?)"
                    self.core.finished(job.members, False, reason)
                    self.progress.failed(len(job.members))
                    _log_failure(job.step, reason)
                    continue
                self.core.give_back(job.members)


def _log_failure(step: Any, expl: str | None) -> None:
    """At ERROR, as luigi: the exception, then the whole traceback where there is one."""
    lines = [line for line in (expl or "").strip().splitlines() if line.strip()]
    logger.error("%r failed: %s", step, lines[-1].strip() if lines else "no reason given")
    if len(lines) > 1:
        logger.error("%r failed:\n%s", step, (expl or "").rstrip())


def _store_status(status: str) -> str:
    return {"MISSING_EXT": "PENDING", "SCHEDULING_ERROR": "FAILED"}.get(status, status)
