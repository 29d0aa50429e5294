"""What a step's code sees and does, beside luigi: parameter values as text, ``sys.exit`` in run()."""

from __future__ import annotations

import sys
from pathlib import Path

import luigi
import luigi.date_interval
import pytest

import trunq
import trunq.date_interval


def test_dict_and_interval_values_read_as_luigi_shows_them() -> None:
    class LvDict(luigi.Task):
        opts = luigi.DictParameter()
        cols = luigi.ListParameter()

    class TvDict(trunq.Step):
        opts = trunq.DictParameter()
        cols = trunq.ListParameter()

    theirs, ours = (cls(opts={"fmt": "csv"}, cols=[{"name": "a"}]) for cls in (LvDict, TvDict))
    assert f"{ours.opts}|{ours.cols}" == f"{theirs.opts}|{theirs.cols}" == "{'fmt': 'csv'}|({'name': 'a'},)"
    month = (luigi.date_interval.Month(2021, 1), trunq.date_interval.Month(2021, 1))
    assert repr(month[1]) == repr(month[0]) == "2021-01"


def test_sys_exit_in_run_fails_that_step_and_the_build_goes_on(tmp_path: Path) -> None:
    ran = []

    def define(base, target):
        class Quits(base):
            def output(self):
                return target(str(tmp_path / f"{base.__module__}-quits"))

            def run(self):
                sys.exit(3)

        class Other(base):
            def output(self):
                return target(str(tmp_path / f"{base.__module__}-other"))

            def run(self):
                ran.append(base.__module__)
                self.output().open("w").close()

        return Quits, Other

    results = {}
    for name, lib, base, target in (("luigi", luigi, luigi.Task, luigi.LocalTarget),
                                    ("trunq", trunq, trunq.Step, trunq.LocalTarget)):
        quits, other = define(base, target)
        options = {"local_scheduler": True, "log_level": "CRITICAL"} if name == "luigi" else {}
        results[name] = lib.build([quits(), other()], detailed_summary=True, **options)
    assert len(ran) == 2  # the other step ran under both
    assert "* 1 failed:" in results["trunq"].summary_text
    assert results["trunq"].status.name == results["luigi"].status.name == "FAILED"


def test_task_api_extras_as_luigi() -> None:
    class LvExtras(luigi.Task):
        x = luigi.IntParameter()
        y = luigi.Parameter(default="q")

    class TvExtras(trunq.Step):
        x = trunq.IntParameter()
        y = trunq.Parameter(default="q")

    for cls in (LvExtras, TvExtras):
        step = cls(x=1)
        with pytest.warns(DeprecationWarning, match="param_args"):
            assert step.param_args == (1, "q")
        assert cls.get_param_values(cls.get_params(), [2], {}) == [("x", 2), ("y", "q")]
        assert step.task_module == __name__
        with step.no_unpicklable_properties():
            pass


def test_processing_time_fires_before_success_as_luigi(tmp_path: Path) -> None:
    orders: dict[str, list[str]] = {}
    for name, lib, base in (("luigi", luigi, luigi.Task), ("trunq", trunq, trunq.Step)):
        seen = orders.setdefault(name, [])

        class Timed(base):  # type: ignore[valid-type, misc]
            events = seen

            def complete(self):
                return bool(self.events)

            def run(self):
                pass

        Timed.event_handler(lib.Event.PROCESSING_TIME)(lambda step, seconds, seen=seen: seen.append("time"))
        Timed.event_handler(lib.Event.SUCCESS)(lambda step, seen=seen: seen.append("success"))
        options = {"local_scheduler": True, "log_level": "CRITICAL"} if name == "luigi" else {}
        assert lib.build([Timed()], **options)
    assert orders["trunq"] == orders["luigi"] == ["time", "success"]
