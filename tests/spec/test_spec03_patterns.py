"""The code examples of spec 03 (WrapperStep, batching, resources, atomic writes, messages)."""

from __future__ import annotations

import datetime
import os
import threading
import time

import trunq
from trunq.config import Configuration, set_config
from trunq.execution.loop import Worker
from trunq.scheduler import Scheduler


def make_report(name, root):
    def output(self):
        return trunq.LocalTarget(os.path.join(root, f"{name}-{self.date}"))

    def run(self):
        with self.output().open("w") as f:
            f.write(name)

    return type(name, (trunq.Step,), {"date": trunq.DateParameter(), "output": output, "run": run,
                                       "__module__": __name__})


def test_wrapper_step_triggers_many_pipelines(tmp_path):
    SomeReport, SomeOtherReport, CropReport, TPSReport, FooBarBazReport = (
        make_report(name, str(tmp_path))
        for name in ("SomeReport", "SomeOtherReport", "CropReport", "TPSReport", "FooBarBazReport"))

    class AllReports(trunq.WrapperStep):
        date = trunq.DateParameter(default=datetime.date.today())

        def requires(self):
            yield SomeReport(self.date)
            yield SomeOtherReport(self.date)
            yield CropReport(self.date)
            yield TPSReport(self.date)
            yield FooBarBazReport(self.date)

    assert not AllReports().complete()
    assert trunq.build([AllReports()])
    assert len(os.listdir(tmp_path)) == 5
    assert AllReports().complete()


def test_batch_method_max_runs_the_newest_and_the_others_share_its_status(tmp_path):
    ran = []

    class A(trunq.Step):
        date = trunq.DateParameter(batch_method=max)

        def output(self):
            return trunq.LocalTarget(tmp_path / f"a-{self.date}")

        def run(self):
            ran.append(self.date)
            for day in (28, 29, 30):
                with trunq.LocalTarget(tmp_path / f"a-2016-07-{day}").open("w") as f:
                    f.write("x")

    steps = [A(datetime.date(2016, 7, day)) for day in (28, 29, 30)]
    result = trunq.build(steps, detailed_summary=True)
    assert ran == [datetime.date(2016, 7, 30)]
    assert result.status == trunq.TrunqStatusCode.SUCCESS
    assert "* 3 ran successfully:\n    - 3 A(date=2016-07-28,2016-07-29,2016-07-30)" in result.summary_text


def test_batch_failure_propagates_to_every_member(tmp_path):
    class Fragile(trunq.Step):
        date = trunq.DateParameter(batch_method=max)

        def output(self):
            return trunq.LocalTarget(tmp_path / f"f-{self.date}")

        def run(self):
            raise RuntimeError("batch broke")

    result = trunq.build([Fragile(datetime.date(2016, 7, d)) for d in (1, 2)], detailed_summary=True)
    assert "* 2 failed:" in result.summary_text


def test_max_batch_size_and_separate_groups_for_unbatched_params(tmp_path):
    batches = []

    class A(trunq.Step):
        p1 = trunq.IntParameter(batch_method=max)
        p2 = trunq.IntParameter(batch_method=max)
        p3 = trunq.IntParameter()

        def complete(self):
            return False

        def run(self):
            batches.append((self.p1, self.p2, self.p3))

    trunq.build([A(p1=1, p2=2, p3=0), A(p1=2, p2=3, p3=0), A(p1=3, p2=4, p3=1)])
    assert sorted(batches) == [(2, 3, 0), (3, 4, 1)]

    sizes = []

    class Capped(trunq.Step):
        n = trunq.IntParameter(batch_method=lambda values: sum(values))
        max_batch_size = 10

        def complete(self):
            return False

        def run(self):
            sizes.append(self.n)

    trunq.build([Capped(n=1) for _ in range(1)] + [Capped(n=i) for i in range(2, 27)])
    assert len(sizes) == 3


def test_overwrite_resource_and_resources_property_serialise_writers(tmp_path):
    set_config(Configuration({}))
    spans = []

    class Writer(trunq.Step):
        name = trunq.Parameter()
        important_file_name = trunq.Parameter()

        @property
        def resources(self):
            return {self.important_file_name: 1}

        def complete(self):
            return any(span[0] == self.name for span in spans)

        def run(self):
            start = time.time()
            time.sleep(0.2)
            with open(tmp_path / self.name, "w") as f:
                f.write(f"{start} {time.time()}")

    steps = [Writer(name=f"w{i}", important_file_name="shared.csv") for i in range(3)]
    assert trunq.build(steps, workers=3)
    times = sorted(tuple(map(float, (tmp_path / f"w{i}").read_text().split())) for i in range(3))
    assert all(a[1] <= b[0] + 0.01 for a, b in zip(times, times[1:]))


def test_decrease_running_resources_lets_another_step_start(tmp_path):
    set_config(Configuration({"resources": {"some_resource": 3}}))

    class A(trunq.Step):
        resources = {"some_resource": 3}

        def output(self):
            return trunq.LocalTarget(tmp_path / "a")

        def run(self):
            self.decrease_running_resources({"some_resource": 1})
            time.sleep(1.0)  # continue with reduced resources
            with self.output().open("w") as f:
                f.write(str(time.time()))

    class B(trunq.Step):
        resources = {"some_resource": 1}

        def output(self):
            return trunq.LocalTarget(tmp_path / "b")

        def run(self):
            with self.output().open("w") as f:
                f.write(str(time.time()))

    assert trunq.build([A(), B()], workers=2)
    assert float((tmp_path / "b").read_text()) < float((tmp_path / "a").read_text())


def test_temporary_path_good_way(tmp_path):
    class Big(trunq.Step):
        def output(self):
            return trunq.LocalTarget(tmp_path / "outputs" / "final_output")

        def run(self):
            with self.output().temporary_path() as tmp:
                os.makedirs(tmp)
                assert not self.output().exists()
                with open(os.path.join(tmp, "foo.data"), "w") as f:
                    f.write("big slow calculation")

    assert trunq.build([Big()])
    assert (tmp_path / "outputs" / "final_output" / "foo.data").read_text() == "big slow calculation"
    assert os.listdir(tmp_path / "outputs") == ["final_output"]


def test_sending_messages_to_a_running_step(tmp_path):
    answers = []

    class Example(trunq.Step):
        accepts_messages = True

        def output(self):
            return trunq.LocalTarget(tmp_path / "example")

        def run(self):
            for _ in range(200):
                if not self.scheduler_messages.empty():
                    msg = self.scheduler_messages.get()
                    if msg.content == "terminate":
                        break
                    msg.respond("unknown message")
                time.sleep(0.02)
            with self.output().open("w") as f:
                f.write("done")

    scheduler = Scheduler()
    store = scheduler.store
    step_id = Example().step_id

    def operator():
        first = store.send_message(step_id, "hello")
        for _ in range(200):
            if store.response(step_id, first) is not None:
                answers.append(store.response(step_id, first))
                break
            time.sleep(0.02)
        store.send_message(step_id, "terminate")

    thread = threading.Thread(target=operator)
    thread.start()
    with Worker(scheduler=scheduler) as worker:
        worker.add(Example())
        assert worker.run()
    thread.join()
    assert answers == ["unknown message"]
