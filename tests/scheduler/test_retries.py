"""Local builds: luigi's attempt count, an idle retry wait, UPSTREAM_* in the store,
and a disabled step reported as failed with how to re-enable it."""

from __future__ import annotations

import time

import pytest

import trunq
from trunq.config import Configuration, set_config
from trunq.core.status import Status
from trunq.execution.api import DefaultFactory
from trunq.execution.dispatch import InlineExecutor
from trunq.execution.summary import exit_code
from trunq.scheduler.core import Node, SchedulerCore
from trunq.scheduler.retry import RetryPolicy


def failing_family(attempts: list[int], retry_count: int | None = None):
    class Fails(trunq.Step):
        def run(self):
            attempts.append(1)
            raise RuntimeError("always fails")

    Fails.retry_count = retry_count
    return Fails


@pytest.mark.parametrize(("retry_count", "runs"), [(None, 1), (1, 1), (2, 2), (3, 3)])
def test_a_step_runs_as_often_as_luigi_runs_it(retry_count, runs):
    attempts: list[int] = []
    result = trunq.build([failing_family(attempts, retry_count)()], detailed_summary=True)
    assert len(attempts) == runs
    assert result.status == trunq.TrunqStatusCode.FAILED and exit_code(result) == 1


def test_the_scheduler_retry_count_setting_counts_runs():
    set_config(Configuration({"scheduler": {"retry_count": "2"}}))
    attempts: list[int] = []
    trunq.build([failing_family(attempts)()])
    assert len(attempts) == 2


def test_policy_attempts_and_disable_threshold():
    class Plain(trunq.Step):
        pass

    class Three(trunq.Step):
        retry_count = 3

    policy = RetryPolicy(Configuration({"scheduler": {"retry_count": "4"}}))
    assert (policy.attempts(Plain()), policy.disable_threshold(Plain())) == (4, 4)
    assert (policy.attempts(Three()), policy.disable_threshold(Three())) == (3, 3)
    default = RetryPolicy(Configuration({}))
    assert (default.attempts(Plain()), default.disable_threshold(Plain())) == (1, 0)


def test_waiting_for_a_retry_burns_no_cpu():
    set_config(Configuration({"scheduler": {"retry_delay": "0.6"}}))
    attempts: list[int] = []
    cpu, wall = time.process_time(), time.monotonic()
    trunq.build([failing_family(attempts, retry_count=2)()])
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    assert len(attempts) == 2 and wall >= 0.6
    assert cpu < 0.3, f"{cpu:.2f}s of CPU while waiting {wall:.2f}s"


def test_dependents_of_a_failed_step_are_reported_as_upstream_failures():
    attempts: list[int] = []
    Fails = failing_family(attempts)

    class Middle(trunq.Step):
        def requires(self):
            return Fails()

    class Top(trunq.Step):
        def requires(self):
            return Middle()

    result = trunq.build([Top()], detailed_summary=True)
    assert {step.step_id for step in result.categories["upstream_failure"]} == {Middle().step_id, Top().step_id}
    assert result.worker.core.upstream_statuses() == {Middle().step_id: Status.UPSTREAM_FAILED,
                                                      Top().step_id: Status.UPSTREAM_FAILED}
    assert "2 had failed dependencies" in result.summary_text


def _node(step_id: str, status: str, deps: list[str]) -> Node:
    node = Node(step_id, None, deps=tuple(deps))
    node.status = status
    return node


def test_upstream_statuses_prefer_disabled_and_follow_the_graph():
    core = SchedulerCore({})
    for node in (_node("dis", Status.DISABLED, []), _node("bad", Status.FAILED, []),
                 _node("a", Status.PENDING, ["dis", "bad"]), _node("b", Status.PENDING, ["bad"]),
                 _node("c", Status.PENDING, ["b"]), _node("ok", Status.PENDING, [])):
        core.nodes[node.step_id] = node
    assert core.upstream_statuses() == {"a": Status.UPSTREAM_DISABLED, "b": Status.UPSTREAM_FAILED,
                                        "c": Status.UPSTREAM_FAILED}


class SharedMemoryFactory(DefaultFactory):
    """A build whose in-process store behaves like a cluster's (records, disabling)."""

    def __init__(self) -> None:
        self.scheduler = None

    def create_local_scheduler(self):
        self.scheduler = super().create_local_scheduler()
        self.scheduler.shared = True
        return self.scheduler

    def create_worker(self, scheduler, worker_processes, assistant=False):
        worker = super().create_worker(scheduler, worker_processes, assistant)
        worker.executor = InlineExecutor(worker)  # not Celery: run here
        return worker


def test_exhausted_retries_disable_the_step_and_mark_its_dependents():
    attempts: list[int] = []
    Fails = failing_family(attempts, retry_count=2)

    class Top(trunq.Step):
        def requires(self):
            return Fails()

    factory = SharedMemoryFactory()
    result = trunq.build([Top()], worker_scheduler_factory=factory, detailed_summary=True)
    store = factory.scheduler.store
    assert len(attempts) == 2
    assert [store.get(step.step_id).status for step in (Fails(), Top())] == [
        Status.DISABLED, Status.UPSTREAM_DISABLED]
    assert result.status == trunq.TrunqStatusCode.FAILED and exit_code(result) == 1
    assert f"trunq reenable {Fails().step_id}" in result.summary_text
    assert "disabled after 2 failures" in result.summary_text


def test_a_step_disabled_before_the_build_is_a_failure_and_does_not_run():
    attempts: list[int] = []
    step = failing_family(attempts, retry_count=1)()

    class Factory(SharedMemoryFactory):
        def create_local_scheduler(self):
            scheduler = super().create_local_scheduler()
            scheduler.store.disable(step.step_id, 60)
            return scheduler

    result = trunq.build([step], worker_scheduler_factory=Factory(), detailed_summary=True)
    assert attempts == []
    assert result.status == trunq.TrunqStatusCode.FAILED and exit_code(result) == 1
    assert f"trunq reenable {step.step_id}" in result.summary_text
