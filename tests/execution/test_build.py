"""Local builds end to end: trunq.build() with the embedded scheduler."""

from __future__ import annotations

import ctypes
import os
import time

import pytest

import trunq
from trunq.config import Configuration, set_config
from trunq.scheduler.resolver import DependencyCycleError


@pytest.fixture
def out(tmp_path):
    return tmp_path


def marker_step(name, base=trunq.Step):
    """A family whose run() writes its output file."""

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, f"{name}-{self.n}"))

    def run(self):
        with self.output().open("w") as f:
            f.write("ok")

    return type(name, (base,), {
        "n": trunq.IntParameter(default=0), "root": trunq.Parameter(default="", significant=False),
        "output": output, "run": run, "__module__": __name__,
    })


class Fail(trunq.Step):
    root = trunq.Parameter(default="")

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, "fail"))

    def run(self):
        raise ValueError("deliberate")


def test_chain_runs_in_dependency_order_and_skips_complete(out):
    order = []

    class Link(trunq.Step):
        n = trunq.IntParameter()

        def requires(self):
            return Link(self.n - 1) if self.n > 0 else []

        def output(self):
            return trunq.LocalTarget(out / f"link-{self.n}")

        def run(self):
            order.append(self.n)
            with self.output().open("w") as f:
                f.write("x")

    (out / "link-0").write_text("done already")
    result = trunq.build([Link(3)], detailed_summary=True)
    assert order == [1, 2, 3]
    assert result.scheduling_succeeded
    assert result.status == trunq.TrunqStatusCode.SUCCESS
    assert "* 1 complete ones were encountered:\n    - 1 Link(n=0)" in result.summary_text
    assert "* 3 ran successfully:\n    - 3 Link(n=1,2,3)" in result.summary_text  # a range from 4 on, as luigi


def test_failure_and_upstream_failure_are_summarised(out):
    class NeedsFail(trunq.Step):
        def requires(self):
            return Fail(root=str(out))

        def output(self):
            return trunq.LocalTarget(out / "needs")

    result = trunq.build([NeedsFail()], detailed_summary=True)
    assert not result.scheduling_succeeded
    assert result.status == trunq.TrunqStatusCode.FAILED
    text = result.summary_text
    assert "* 1 failed:\n    - 1 Fail(root=" in text
    assert "* 1 were left pending, among these:\n    * 1 had failed dependencies:\n        - 1 NeedsFail()" in text
    assert "This progress looks :( because there were failed steps" in text
    assert trunq.build([NeedsFail()]) is False


def test_missing_external_dependency(out):
    class Dump(trunq.ExternalStep):
        def output(self):
            return trunq.LocalTarget(out / "dump")

    class Agg(trunq.Step):
        def requires(self):
            return Dump()

        def output(self):
            return trunq.LocalTarget(out / "agg")

    result = trunq.build([Agg()], detailed_summary=True)
    assert result.status == trunq.TrunqStatusCode.MISSING_EXT
    assert "were missing external dependencies" in result.summary_text
    assert "had missing dependencies" in result.summary_text


def test_dynamic_dependencies_feed_outputs_back(out):
    Dyn = marker_step("DynLeaf")
    seen = []

    class Parent(trunq.Step):
        def output(self):
            return trunq.LocalTarget(out / "parent")

        def run(self):
            targets = yield [Dyn(n=i, root=str(out)) for i in range(3)]
            seen.append([t.path for t in targets])
            with self.output().open("w") as f:
                f.write("x")

    assert trunq.build([Parent()])
    assert len(seen) == 1 and len(seen[0]) == 3
    assert all(os.path.exists(p) for p in seen[0])


def test_retry_count_gives_success_with_retry(out):
    attempts = []

    class Flaky(trunq.Step):
        retry_count = 3  # luigi: at most 3 runs

        def output(self):
            return trunq.LocalTarget(out / "flaky")

        def run(self):
            attempts.append(1)
            if len(attempts) < 3:
                raise RuntimeError("not yet")
            with self.output().open("w") as f:
                f.write("x")

    result = trunq.build([Flaky()], detailed_summary=True)
    assert len(attempts) == 3
    assert result.status == trunq.TrunqStatusCode.SUCCESS_WITH_RETRY


def test_a_cycle_is_refused_before_anything_runs():
    class Ping(trunq.Step):
        def requires(self):
            return Pong()

    class Pong(trunq.Step):
        def requires(self):
            return Ping()

    with pytest.raises(DependencyCycleError, match="Ping.*Pong.*Ping"):
        trunq.build([Ping()])


def test_batching_runs_only_the_aggregate(out):
    ran = []

    class Daily(trunq.Step):
        date = trunq.DateParameter(batch_method=max)

        def output(self):
            return trunq.LocalTarget(out / f"daily-{self.date}")

        def run(self):
            ran.append(str(self.date))
            with self.output().open("w") as f:
                f.write("x")

    class Days(trunq.WrapperStep):
        def requires(self):
            import datetime

            return [Daily(datetime.date(2016, 7, d)) for d in (28, 29, 30)]

    result = trunq.build([Days()], detailed_summary=True)
    assert ran == ["2016-07-30"]
    assert result.status == trunq.TrunqStatusCode.FAILED or "ran successfully" in result.summary_text


def test_workers_run_in_parallel_and_respect_resources(out):
    set_config(Configuration({"resources": {"db": 1}}))

    class Slow(trunq.Step):
        n = trunq.IntParameter()
        resources = {"db": 1}

        def output(self):
            return trunq.LocalTarget(out / f"slow-{self.n}")

        def run(self):
            start = time.time()
            time.sleep(0.2)
            with self.output().open("w") as f:
                f.write(f"{start} {time.time()}")

    class Many(trunq.WrapperStep):
        def requires(self):
            return [Slow(n) for n in range(4)]

    assert trunq.build([Many()], workers=3)
    spans = sorted(tuple(map(float, (out / f"slow-{n}").read_text().split())) for n in range(4))
    assert all(a[1] <= b[0] + 0.01 for a, b in zip(spans, spans[1:])), "resource db=1 must serialise the steps"


class Crash(trunq.Step):
    how = trunq.Parameter()
    root = trunq.Parameter(significant=False, default="")

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, f"crash-{self.how}"))

    def run(self):
        if self.how == "segfault":
            ctypes.string_at(0)
        os._exit(3)


def test_a_crashing_process_fails_its_step_and_the_rest_goes_on(out):
    Ok = marker_step("OkAfterCrash")

    class Mix(trunq.WrapperStep):
        def requires(self):
            return [Crash("segfault", str(out)), Crash("exit", str(out))] + [Ok(n=i, root=str(out)) for i in range(4)]

    result = trunq.build([Mix()], workers=2, detailed_summary=True)
    failed = {node.step.how: node.expl for node in result.worker.core.nodes.values()
              if isinstance(node.step, Crash)}
    assert "SIGSEGV" in failed["segfault"]
    assert "exit code 3" in failed["exit"]
    assert all((out / f"OkAfterCrash-{i}").exists() for i in range(4))


def test_worker_timeout_kills_a_stuck_step(out):
    class Stuck(trunq.Step):
        worker_timeout = 0.5

        def output(self):
            return trunq.LocalTarget(out / "stuck")

        def run(self):
            time.sleep(30)

    started = time.monotonic()
    result = trunq.build([Stuck()], workers=2, detailed_summary=True)
    assert time.monotonic() - started < 10
    node = next(iter(result.worker.core.nodes.values()))
    assert "timed out" in node.expl


@pytest.mark.parametrize("workers", [1, 2])
def test_status_messages_progress_and_decreased_resources(out, workers):
    from trunq.execution.loop import Worker
    from trunq.scheduler import Scheduler
    from trunq.scheduler.memory import MemoryStateStore

    set_config(Configuration({"resources": {"gpu": 3}}))

    class SpyStore(MemoryStateStore):
        def __init__(self):
            super().__init__()
            self.updates, self.released = [], []

        def update(self, step_id, **fields):
            self.updates.append(fields)

        def release_resources(self, holder, amounts=None):
            self.released.append(amounts)
            super().release_resources(holder, amounts)

    class Reporting(trunq.Step):
        resources = {"gpu": 3}

        def output(self):
            return trunq.LocalTarget(out / f"reporting-{workers}")

        def run(self):
            self.set_status_message("half way")
            self.set_progress_percentage(50)
            self.decrease_running_resources({"gpu": 2})
            with self.output().open("w") as f:
                f.write("x")

    store = SpyStore()
    with Worker(Scheduler(store=store), worker_processes=workers) as worker:
        worker.add(Reporting())
        assert worker.run()
        assert worker.core.used.get("gpu", 0) == 0
    assert {"status_message": "half way"} in store.updates
    assert {"progress": 50.0} in store.updates
    assert {"gpu": 2} in store.released


def test_spec01_custom_factory():
    from trunq import scheduler
    from trunq.execution.loop import Worker

    created = []

    class MyWorker(Worker):
        pass

    class MyFactory:
        def create_local_scheduler(self):
            return scheduler.Scheduler(prune_on_get_work=True, record_step_history=False)

        def create_remote_scheduler(self, url):
            raise AssertionError("not used with a local scheduler")

        def create_worker(self, scheduler, worker_processes, assistant=False):
            worker = MyWorker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)
            created.append(worker)
            return worker

    class FactoryStep(trunq.Step):  # not MyStep1: two files defining one family make it ambiguous
        x = trunq.IntParameter()
        y = trunq.IntParameter(default=0)

        def run(self):
            print(self.x + self.y)

    assert trunq.build([FactoryStep(x=1)], worker_scheduler_factory=MyFactory())
    assert len(created) == 1 and isinstance(created[0], MyWorker)


def test_hooks_and_events_fire_during_a_build(out):
    seen = []

    class Hooked(trunq.Step):
        ok = trunq.BoolParameter()

        def output(self):
            return trunq.LocalTarget(out / f"hooked-{self.ok}")

        def run(self):
            if not self.ok:
                raise KeyError("missing key")
            with self.output().open("w") as f:
                f.write("x")

        def on_success(self):
            seen.append("on_success")

        def on_failure(self, exception):
            seen.append(f"on_failure {type(exception).__name__}")
            return "custom explanation"

    @Hooked.event_handler(trunq.Event.START)
    def started(step):
        seen.append(f"start {step.ok}")

    @Hooked.event_handler(trunq.Event.SUCCESS)
    def succeeded(step):
        seen.append("success")

    @Hooked.event_handler(trunq.Event.FAILURE)
    def failed(step, exc):
        seen.append(f"failure {exc!r}")

    result = trunq.build([Hooked(ok=True), Hooked(ok=False)], detailed_summary=True)
    assert seen == ["start True", "on_success", "success", "start False", "on_failure KeyError",
                    "failure KeyError('missing key')"]
    failed_node = result.worker.core.nodes[Hooked(ok=False).step_id]
    assert failed_node.expl == "custom explanation"


def test_progress_line_counts_done_and_failed():
    import io

    from trunq.execution.progress import Progress

    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, interval=0)
    progress.total = 3
    progress.done(2)
    progress.failed(1)
    progress.close()
    assert "[trunq] 2/3 steps done, 1 failed" in stream.getvalue()
    assert stream.getvalue().endswith("\n")


def test_priority_decides_the_order_of_independent_steps(out):
    order = []

    class Ranked(trunq.Step):
        n = trunq.IntParameter()

        @property
        def priority(self):
            return self.n

        def output(self):
            return trunq.LocalTarget(out / f"ranked-{self.n}")

        def run(self):
            order.append(self.n)
            with self.output().open("w") as f:
                f.write("x")

    assert trunq.build([Ranked(n) for n in (3, 9, 1, 5)])
    assert order == [9, 5, 3, 1]
