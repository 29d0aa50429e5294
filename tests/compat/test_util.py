"""``trunq.util`` against ``luigi.util``: the same tiny step graphs built on both, compared.

Step classes are defined once per library at import time (with names no other test uses), so
no family is ever defined twice.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # luigi's notice about autoloading its range tasks
    warnings.simplefilter("ignore", DeprecationWarning)
    import luigi
    import luigi.util

import trunq
import trunq.util
from trunq.core import registry


def _define(lib: types.SimpleNamespace) -> types.SimpleNamespace:
    Base, util = lib.Step, lib.util

    class UtlParent(Base):
        m = lib.IntParameter(default=1)
        shared = lib.Parameter(default="parent")

    class UtlOther(Base):
        n = lib.IntParameter()

    @util.inherits(UtlParent)
    class UtlChild(Base):
        shared = lib.Parameter(default="child")  # its own: not replaced by the parent's
        k = lib.IntParameter(default=0)

    @util.inherits(UtlParent, UtlOther)
    class UtlTwoParents(Base):
        pass

    @util.inherits(first=UtlParent, second=UtlOther)
    class UtlKeyed(Base):
        pass

    @util.requires(UtlParent)
    class UtlRequiresOne(Base):
        def requires(self):  # replaced by the decorator, as in luigi
            return []

    @util.requires(UtlParent, UtlOther)
    class UtlRequiresTwo(Base):
        pass

    @util.requires(a=UtlParent, b=UtlOther)
    class UtlRequiresKeyed(Base):
        pass

    class UtlDated(Base):
        date = lib.DateParameter()
        label = lib.Parameter(default="x")

    class UtlDaily7(Base):
        date = lib.DateParameter(interval=7)

    class UtlHourly(Base):
        hour = lib.DateHourParameter()

    class UtlMinutely(Base):
        minute = lib.DateMinuteParameter()

    class UtlSecondly(Base):
        second = lib.DateSecondParameter()

    class UtlMonthly(Base):
        month = lib.MonthParameter()

    class UtlYearly(Base):
        year = lib.YearParameter()

    class UtlInterval(Base):
        interval = lib.DateIntervalParameter()

    class UtlTwoDates(Base):
        a = lib.DateParameter()
        b = lib.DateParameter()

    return types.SimpleNamespace(**{name: value for name, value in locals().items() if name.startswith("Utl")})


LUIGI = _define(types.SimpleNamespace(
    Step=luigi.Task, util=luigi.util, IntParameter=luigi.IntParameter, Parameter=luigi.Parameter,
    DateParameter=luigi.DateParameter, DateHourParameter=luigi.DateHourParameter,
    DateMinuteParameter=luigi.DateMinuteParameter, DateSecondParameter=luigi.DateSecondParameter,
    MonthParameter=luigi.MonthParameter, YearParameter=luigi.YearParameter,
    DateIntervalParameter=luigi.DateIntervalParameter,
))
TRUNQ = _define(types.SimpleNamespace(
    Step=trunq.Step, util=trunq.util, IntParameter=trunq.IntParameter, Parameter=trunq.Parameter,
    DateParameter=trunq.DateParameter, DateHourParameter=trunq.DateHourParameter,
    DateMinuteParameter=trunq.DateMinuteParameter, DateSecondParameter=trunq.DateSecondParameter,
    MonthParameter=trunq.MonthParameter, YearParameter=trunq.YearParameter,
    DateIntervalParameter=trunq.DateIntervalParameter,
))


def _both(make):
    """``make(classes)`` on both libraries, shown as text (reprs match across the two)."""
    return _show(make(LUIGI)), _show(make(TRUNQ))


def _show(value):
    if isinstance(value, dict):
        return {key: _show(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_show(item) for item in value]
    return repr(value)


def test_inherits_copies_parameters_but_keeps_the_class_own():
    luigi_side, trunq_side = _both(lambda c: c.UtlChild(m=5))
    assert luigi_side == trunq_side == "UtlChild(m=5, shared=child, k=0)"
    assert [n for n, _ in TRUNQ.UtlChild.get_params()] == [n for n, _ in LUIGI.UtlChild.get_params()]
    assert TRUNQ.UtlChild.shared is not TRUNQ.UtlParent.shared


def test_inherited_parameters_come_first_positionally_as_in_luigi():
    assert _both(lambda c: c.UtlChild(7, "own", 3)) == ("UtlChild(m=7, shared=own, k=3)",) * 2


def test_clone_parent_and_clone_parents():
    assert _both(lambda c: c.UtlChild(m=5).clone_parent()) == ("UtlParent(m=5, shared=child)",) * 2
    assert _both(lambda c: c.UtlChild(m=5).clone_parent(m=9)) == ("UtlParent(m=9, shared=child)",) * 2
    luigi_side, trunq_side = _both(lambda c: c.UtlTwoParents(n=3).clone_parents())
    assert luigi_side == trunq_side == ["UtlParent(m=1, shared=parent)", "UtlOther(n=3)"]


def test_keyword_inherits_gives_a_dict_of_clones_and_no_clone_parent():
    luigi_side, trunq_side = _both(lambda c: c.UtlKeyed(n=2, m=4).clone_parents())
    assert luigi_side == trunq_side == {"first": "UtlParent(m=4, shared=parent)", "second": "UtlOther(n=2)"}
    assert not hasattr(TRUNQ.UtlKeyed, "clone_parent")


def test_requires_defines_requires_from_the_clones():
    assert _both(lambda c: c.UtlRequiresOne(m=2).requires()) == ("UtlParent(m=2, shared=parent)",) * 2
    luigi_side, trunq_side = _both(lambda c: c.UtlRequiresTwo(n=1).requires())
    assert luigi_side == trunq_side == ["UtlParent(m=1, shared=parent)", "UtlOther(n=1)"]
    luigi_side, trunq_side = _both(lambda c: c.UtlRequiresKeyed(n=1).requires())
    assert luigi_side == trunq_side == {"a": "UtlParent(m=1, shared=parent)", "b": "UtlOther(n=1)"}
    assert TRUNQ.UtlRequiresOne(m=2).deps() == [TRUNQ.UtlParent(m=2)]


def test_decorators_need_step_classes():
    for lib in (luigi.util, trunq.util):
        with pytest.raises(TypeError):
            lib.inherits()
        with pytest.raises(TypeError):
            lib.inherits(LUIGI.UtlParent if lib is luigi.util else TRUNQ.UtlParent, x=TRUNQ.UtlOther)
    with pytest.raises(TypeError, match="not a Step class"):
        trunq.util.inherits(int)


def test_decorated_classes_keep_their_one_family():
    count = len(registry._classes)

    class UtlLateBase(trunq.Step):
        pass

    decorated = trunq.util.requires(TRUNQ.UtlParent)(UtlLateBase)
    assert decorated is UtlLateBase
    assert len(registry._classes) == count + 1  # the class itself, and nothing else
    assert registry.get_step_cls("UtlLateBase") is UtlLateBase
    for name in ("UtlChild", "UtlRequiresOne", "UtlKeyed"):
        assert registry.get_step_cls(name) is getattr(TRUNQ, name)


def test_subclass_of_a_decorated_class_sees_the_inherited_parameters():
    class UtlGrandChild(TRUNQ.UtlChild):
        extra = trunq.IntParameter(default=1)

    assert UtlGrandChild(m=3).clone_parent() == TRUNQ.UtlParent(m=3, shared="child")
    assert UtlGrandChild.get_param_names() == ["m", "shared", "k", "extra"]


def test_common_params():
    luigi_side, trunq_side = _both(lambda c: luigi.util.common_params(c.UtlChild(m=3), c.UtlParent)
                                   if c is LUIGI else trunq.util.common_params(c.UtlChild(m=3), c.UtlParent))
    assert luigi_side == trunq_side == {"m": "3", "shared": "'child'"}
    with pytest.raises(TypeError):
        trunq.util.common_params(TRUNQ.UtlChild(), TRUNQ.UtlParent())


@pytest.mark.parametrize(
    ("cls_name", "value"),
    [
        ("UtlDated", datetime.date(2015, 1, 1)),
        ("UtlDaily7", datetime.date(2015, 1, 15)),
        ("UtlHourly", datetime.datetime(2015, 1, 1, 0)),
        ("UtlMinutely", datetime.datetime(2015, 1, 1, 0, 0)),
        ("UtlSecondly", datetime.datetime(2015, 1, 1, 0, 0, 0)),
        ("UtlMonthly", datetime.date(2015, 1, 1)),
        ("UtlYearly", datetime.date(2015, 1, 1)),
    ],
)
def test_previous_steps_one_unit_back(cls_name, value):
    def make(classes):
        step = getattr(classes, cls_name)(value)
        util = luigi.util if classes is LUIGI else trunq.util
        return [util.previous(step), util.previous(util.previous(step))]

    luigi_side, trunq_side = _both(make)
    assert luigi_side == trunq_side


def test_previous_of_a_date_interval_and_other_params_kept():
    luigi_side = repr(luigi.util.previous(LUIGI.UtlInterval(luigi.date_interval.Week(2015, 1))))
    trunq_side = repr(trunq.util.previous(TRUNQ.UtlInterval(trunq.date_interval.Week(2015, 1))))
    assert luigi_side == trunq_side == "UtlInterval(interval=2014-W52)"
    assert trunq.util.previous(TRUNQ.UtlDated(datetime.date(2015, 3, 1), "y")).label == "y"


def test_previous_needs_exactly_one_date_parameter():
    for util, classes in ((luigi.util, LUIGI), (trunq.util, TRUNQ)):
        with pytest.raises(NotImplementedError):
            util.previous(classes.UtlParent())
        with pytest.raises(NotImplementedError):
            util.previous(classes.UtlTwoDates(datetime.date(2015, 1, 1), datetime.date(2015, 1, 2)))


class UtlDoneOn(trunq.Step):
    date = trunq.DateParameter()
    root = trunq.Parameter(significant=False)

    def output(self):
        return trunq.LocalTarget(f"{self.root}/{self.date}")


def test_get_previous_completed(tmp_path):
    start = UtlDoneOn(datetime.date(2015, 1, 20), str(tmp_path))
    assert trunq.util.get_previous_completed(start) is None
    (tmp_path / "2015-01-12").write_text("")
    assert trunq.util.get_previous_completed(start) == UtlDoneOn(datetime.date(2015, 1, 12), str(tmp_path))
    assert trunq.util.get_previous_completed(start, max_steps=5) is None


# ---- copies and delegates, run for real -------------------------------------------------
class UtlSource(trunq.Step):
    root = trunq.Parameter()

    def output(self):
        return trunq.LocalTarget(f"{self.root}/source.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("one\ntwo\n")


@trunq.util.copies(UtlSource)
class UtlCopy(trunq.Step):
    def output(self):
        return trunq.LocalTarget(f"{self.root}/copy.txt")


def test_copies_copies_the_required_output(tmp_path):
    assert trunq.build([UtlCopy(root=str(tmp_path))], local_scheduler=True)
    assert (tmp_path / "copy.txt").read_text() == "one\ntwo\n"
    assert UtlCopy(root=str(tmp_path)).requires() == UtlSource(root=str(tmp_path))


class UtlPowers(trunq.Step):
    n = trunq.IntParameter()
    root = trunq.Parameter()

    def requires(self):
        return UtlSource(root=self.root)

    def power(self, x):
        return x**self.n

    def run(self):
        Path(self.root, "sub-ran").write_text(str(self.n))


@trunq.util.delegates
class UtlDelegating(trunq.Step):
    root = trunq.Parameter()

    def substeps(self):
        return UtlPowers(3, self.root)

    def output(self):
        return trunq.LocalTarget(f"{self.root}/delegating.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(str(self.substeps().power(2)))


@trunq.util.delegates
class UtlLuigiSpelling(trunq.Step):
    root = trunq.Parameter()

    def subtasks(self):
        return [UtlPowers(2, self.root)]

    def output(self):
        return trunq.LocalTarget(f"{self.root}/luigi-spelling.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("done")


def test_delegates_runs_the_substeps_inside_and_takes_their_requirements(tmp_path):
    step = UtlDelegating(root=str(tmp_path))
    assert step.deps() == [UtlSource(root=str(tmp_path))]
    assert trunq.build([step], local_scheduler=True)
    assert (tmp_path / "delegating.txt").read_text() == "8"
    assert (tmp_path / "sub-ran").read_text() == "3"
    assert (tmp_path / "source.txt").exists()  # the substep's requirement was scheduled


def test_delegates_accepts_luigis_subtasks(tmp_path):
    assert trunq.build([UtlLuigiSpelling(root=str(tmp_path))], local_scheduler=True)
    assert (tmp_path / "sub-ran").read_text() == "2"
    with pytest.raises(AttributeError, match="substeps"):
        trunq.util.delegates(TRUNQ.UtlParent)


# ---- lazy submodules as attributes ------------------------------------------------------
def test_submodules_are_attributes_of_trunq_in_a_fresh_process():
    code = textwrap.dedent("""
        import sys
        import trunq
        assert "trunq.util" not in sys.modules and "trunq.runs" not in sys.modules
        assert trunq.util.requires is sys.modules["trunq.util"].requires
        assert callable(trunq.runs.run)
        assert trunq.parameter.DateParameter is trunq.DateParameter
        assert trunq.target.LocalTarget is trunq.LocalTarget
        assert trunq.tools.__name__ == "trunq.tools"
        assert trunq.tasklist.__name__ == "trunq.tasklist"
        try:
            trunq.no_such_thing
        except AttributeError as exc:
            assert "no_such_thing" in str(exc)
        else:
            raise SystemExit("no AttributeError")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
