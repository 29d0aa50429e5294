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

from trunq.core.status import TERMINAL, Status
from trunq.execution.dispatch import Dispatcher, Job, create_executor
from trunq.execution.execute import ALREADY_COMPLETE, CANCEL_REASON, step_session
from trunq.execution.progress import Progress
from trunq.scheduler import Scheduler, leases
from trunq.scheduler.core import (
    BATCH_RUNNING,
    DISABLED,
    DONE,
    FAILED,
    MISSING_EXT,
    PENDING,
    RUN_BY_OTHER,
    RUNNING,
    SCHEDULING_ERROR,
    Node,
    aggregate_step,
)
from trunq.scheduler.resolver import Resolver, clear_completion_cache
from trunq.scheduler.state import StepRecord

logger = logging.getLogger("trunq")

_LEASE_CHECK_SECONDS = 1.0
_SETTLED = (DONE, FAILED, MISSING_EXT, SCHEDULING_ERROR)  # known at expansion time
_MAX_LOST = 3  # a step whose executor vanished this many times is failed


class Worker:
    """Runs the steps added to it, using ``scheduler`` for shared state."""

    def __init__(self, scheduler: Any = None, worker_processes: int = 1, assistant: bool = False, *,
                 force_multiprocessing: bool = False, parallel_scheduling: bool | None = None,
                 worker_timeout: float | None = None, progress: bool | None = None,
                 notifier: Any = None, history: Any = None) -> None:
        self.scheduler = scheduler if scheduler is not None else Scheduler()
        self.store = self.scheduler.store
        self.worker_processes = max(1, int(worker_processes))
        self.assistant = assistant
        self.force_multiprocessing = force_multiprocessing
        self.default_timeout = worker_timeout
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        from trunq.scheduler.core import SchedulerCore

        self.core = SchedulerCore(self.scheduler.resource_limits)
        # a shared store's steps often live in remote stores: their checks get threads when slow
        adaptive = parallel_scheduling is None and self.scheduler.shared
        threads = 8 if (parallel_scheduling or adaptive) else 0
        policy = self.scheduler.retry_policy
        self.resolver = Resolver(self.core, threads=threads, adaptive=adaptive, attempts=policy.attempts)
        self.executor: Dispatcher | None = None
        self.notifier = notifier
        self.history = history  # a HistoryLog (the runner makes it from config), or None
        self.progress = Progress(enabled=progress)
        self.roots: list[Any] = []
        self._jobs = itertools.count(1)
        self._in_flight: dict[int, Job] = {}
        self._log_steps = False  # set by run()
        self._others: dict[str, Node] = {}
        self._events_after = "$"
        self._next_lease_check = 0.0
        self._resource_wait_until = 0.0
        self.stop_reason: str | None = None  # set from another thread: dispatch nothing more
        self.keep_alive = False  # luigi's [worker] keep_alive: see set_luigi_options

    def set_luigi_options(self, keep_alive: bool = False, retry_external_tasks: bool = False) -> None:
        """luigi's ``[worker] keep_alive`` and ``retry_external_tasks``; call before ``add()``.

        retry_external_tasks: an incomplete ExternalStep is checked again when its turn comes,
        then every ``[scheduler] retry_delay`` while attempts remain (with keep_alive: as luigi,
        until its data appears unless a retry_count bounds it). keep_alive: a step that failed
        in another build is retried here as this build's own failures are.
        """
        self.keep_alive = keep_alive
        policy = self.scheduler.retry_policy
        if retry_external_tasks:
            self.resolver.external_attempts = policy.keep_alive_attempts if keep_alive else policy.attempts

    @property
    def _dispatcher(self) -> Dispatcher:
        """The executor; it exists from the start of ``run()``."""
        assert self.executor is not None, "run() creates the executor"
        return self.executor

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
        return all(node.status != SCHEDULING_ERROR for node in added)

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
                node.status = DISABLED
                node.expl = f"disabled in the scheduler; re-enable with: trunq reenable {node.step_id}"

    # ---- running -----------------------------------------------------------------------
    def run(self) -> bool:
        """Run until nothing more can run. True when no step failed."""
        if self.executor is None:
            self.executor = create_executor(self, self.scheduler)
        self._events_after = self.store.last_event_id() if self.scheduler.shared else "$"
        self._log_steps = logger.isEnabledFor(logging.INFO)  # luigi's running/done lines, once per run
        with step_session():
            while True:
                self._dispatch()
                if not self._work_left():
                    break
                self._wait_and_handle(self._poll_timeout())
                self.core.release_due(time.monotonic())
                if self.scheduler.shared:
                    self._follow_others()
        self._settle_upstream()
        return not any(node.status in (FAILED, DISABLED) for node in self.core.nodes.values())

    def _wait_and_handle(self, timeout: float | None) -> None:
        """Poll the dispatcher; with nothing running, sleep out the wait (a retry that is
        not due yet) instead of spinning: a local dispatcher's poll returns at once."""
        began = time.monotonic()
        outcomes = self._dispatcher.poll(timeout)
        for job, outcome in outcomes:
            self._handle(job, outcome)
        if not outcomes and self.core.running == 0 and timeout:
            left = timeout - (time.monotonic() - began)
            if left > 0:
                time.sleep(left)

    def _settle_upstream(self) -> None:
        """Steps left waiting on a failed or disabled dependency say so in the store."""
        if not self.scheduler.shared:
            return  # a local store holds no step records
        marks = self.core.upstream_statuses()
        for step_id, status in marks.items():
            self.store.update(step_id, status=status)

    def request_stop(self, reason: str) -> None:
        """Dispatch nothing more; steps already running are asked to stop (shared stores)."""
        if self.stop_reason is not None:
            return
        self.stop_reason = reason
        logger.warning("trunq: stopping the build: %s", reason)
        if self.scheduler.shared and reason == "cancelled":
            for job in list(self._in_flight.values()):
                for member in job.members:
                    self.store.request_cancel(member.step_id, requested_by="build cancel")

    def _work_left(self) -> bool:
        if self.stop_reason is not None:
            return bool(self._in_flight)
        return bool(self.core.running or self._others or self.core.waiting_for_retry() or self.core.has_ready())

    def _poll_timeout(self) -> float | None:
        """How long the dispatcher may block: until the next due retry or lease check."""
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
        if self.stop_reason is not None or time.monotonic() < self._resource_wait_until:
            return
        self._resource_wait_until = 0.0
        while (free := self._dispatcher.free_slots()) > 0:
            # (job id, members, follows): jobs whose leases are taken together, in one round trip
            groups: list[tuple[int, list[Node], bool]] = []
            while len(groups) < free:
                members = self.core.next_batch()
                if members is None:
                    break
                job_id = next(self._jobs)
                if self.scheduler.shared and members[0].resources:
                    if not self._take_resources(job_id, members):
                        break
                groups.append((job_id, members, False))
            if not groups:
                return
            if len(groups) == 1 and self.core.running == 1:
                groups.extend(self._followers(groups[0][1]))
            self._start_jobs(groups)
            if len(groups) < free:  # nothing more is ready (or resources are short)
                return

    def _followers(self, members: list[Node]) -> list[tuple[int, list[Node], bool]]:
        """A lone step (a chain, the last steps of a graph): the steps that wait only on it,
        and on each other, travel with it when the executor runs them in one process."""
        dispatcher = self._dispatcher
        limit = dispatcher.follower_limit()
        if len(members) != 1 or limit <= 0 or not dispatcher.can_chain(members[0].step):
            return []
        chain = self.core.take_followers(members[0], limit, lambda node: dispatcher.can_chain(node.step))
        return [(next(self._jobs), [node], True) for node in chain]

    def _take_resources(self, job_id: int, members: list[Node]) -> bool:
        """The job's shared resources under its holder; else it goes back and dispatch pauses."""
        if leases.acquire_resources(self.store, self._holder(job_id), members[0].resources, self.core.limits,
                                    self.scheduler.lease_ms, [member.step_id for member in members]):
            return True
        self.core.give_back(members)
        self._resource_wait_until = time.monotonic() + 0.2
        return False

    def _holder(self, job_id: int) -> str:
        """Who holds a job's resources: this client's job."""
        return f"{self.worker_id}:{job_id}"

    def _start_jobs(self, groups: list[tuple[int, list[Node], bool]]) -> None:
        """Take the leases of every member of ``groups`` (single steps in one call), then submit."""
        lease_ms = self.scheduler.lease_ms
        singles = [members[0].step_id for _, members, _ in groups if len(members) == 1]
        tokens = iter(leases.acquire(self.store, singles, self.worker_id, lease_ms, RUNNING) if singles else [])
        for job_id, members, follows in groups:
            if len(members) == 1:
                acquired = [next(tokens)]
            else:
                acquired = leases.acquire(self.store, [m.step_id for m in members], self.worker_id, lease_ms,
                                          BATCH_RUNNING)
            self._submit_leased(job_id, members, acquired, follows)

    def _submit_leased(self, job_id: int, members: list[Node], acquired: list[str | None], follows: bool) -> None:
        """Submit the members whose lease was taken; the others are followed as run elsewhere."""
        first = members[0]
        holder = self._holder(job_id)
        leased, tokens = [], []
        for member, token in zip(members, acquired):
            if token is None:
                member.status = RUN_BY_OTHER
                self._others[member.step_id] = member
            else:
                leased.append(member)
                tokens.append(token)
        if not leased:
            self.core.abandon(first)
            if self.scheduler.shared and first.resources:
                leases.give_back_resources(self.store, holder)
            return
        job = Job(job_id, aggregate_step([m.step for m in leased]), leased, tokens, holder,
                  lease_ms=self.scheduler.lease_ms, follows=follows)
        self._in_flight[job.job_id] = job
        self._dispatcher.submit(job)
        if self._log_steps:
            logger.info("[pid %d] Worker %s running   %r", os.getpid(), self.worker_id, job.step)

    def _handle(self, job: Job, outcome: Any) -> None:
        self._in_flight.pop(job.job_id, None)
        if self.history is not None and outcome.status != PENDING:
            duration = outcome.duration if outcome.duration is not None else time.time() - job.started_at
            for member in job.members:
                self.history.record(member.step, outcome.status, worker=outcome.worker or self.worker_id,
                                    duration=duration,
                                    error=outcome.expl if outcome.status == FAILED else None)
        if outcome.status == PENDING:
            new = self.resolver.expand(outcome.new_deps)
            self._publish(new)
            self.progress.total = len(self.core.nodes)
            self._finish_in_store(job, PENDING, None)
            self.core.set_new_deps(job.members, [dep.step_id for dep in outcome.new_deps])
            return
        ok = outcome.status == DONE
        self._finish_in_store(job, DONE if ok else FAILED, outcome.expl)
        self.core.finished(job.members, ok, outcome.expl)
        if ok and outcome.expl == ALREADY_COMPLETE:  # not run by this build: not counted as run
            for member in job.members:
                member.ran_here = False
        if ok:
            self.progress.done(len(job.members))
            if self._log_steps:
                logger.info("[pid %d] Worker %s done      %r", os.getpid(), self.worker_id, job.step)
            return
        self.progress.failed(len(job.members))
        _log_failure(job.step, outcome.expl)
        for member in job.members:
            self._after_failure(member, outcome.expl)

    def _finish_in_store(self, job: Job, status: str, expl: str | None) -> None:
        if not self._dispatcher.finishes_in_store:
            leases.finish(self.store, job.lease, status, expl)

    def _after_failure(self, node: Node, expl: str | None) -> None:
        policy = self.scheduler.retry_policy
        threshold = policy.disable_threshold(node.step)
        if threshold:
            failures = self.store.record_failure(node.step_id, policy.disable_window)
            if failures >= threshold and self.scheduler.shared:
                self.store.disable(node.step_id, policy.disable_persist)
                node.status = DISABLED
                node.expl = (f"disabled after {failures} failures within {policy.disable_window:g}s; "
                             f"re-enable with: trunq reenable {node.step_id}\n{expl or ''}")
                if self.notifier is not None:
                    self.notifier.step_failed(node.step, expl)
                return
        if node.retries_left > 0 and expl != CANCEL_REASON:
            node.retries_left -= 1
            self.progress.failed(-1)
            delay = policy.recheck_delay() if node.step.run is None else policy.retry_delay
            self.core.retry_later(node, time.monotonic() + delay)
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
        if status in (PENDING, None) or status == RUNNING:
            return
        del self._others[node.step_id]
        if status == DONE:
            node.initially_done = True
            self.core.mark_done(node)
            self.progress.done(1)
        elif status == FAILED and self.keep_alive and node.retries_left > 0:
            node.retries_left -= 1  # keep_alive: taken over and retried here
            self.core.retry_later(node, time.monotonic() + self.scheduler.retry_policy.retry_delay)
        else:
            node.status = FAILED if status == FAILED else DISABLED
            node.expl = expl or f"{status} in another build"

    def _check_leases(self) -> None:
        """Steps whose lease vanished without a finish event run again (here)."""
        if self._others:
            ids = list(self._others)
            for step_id, free in zip(ids, leases.free(self.store, ids)):
                if free:
                    record = self.store.get(step_id)
                    node = self._others[step_id]
                    if record is not None and record.status in TERMINAL:
                        self._other_finished(node, record.status, record.expl)
                    else:
                        del self._others[step_id]
                        self.core.requeue(node)
        if self._in_flight:
            for job in self._dispatcher.lost_jobs(list(self._in_flight.values())):
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
    return {MISSING_EXT: Status.PENDING, SCHEDULING_ERROR: Status.FAILED}.get(status, status)
