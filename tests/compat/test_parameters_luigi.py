"""Parameters and ``clone()`` against luigi: the same tiny steps on both libraries, compared.

Step classes are defined once per library at import time, with names no other test uses.
"""

from __future__ import annotations

import datetime
import json
import types
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # luigi's notice about autoloading its range tasks
    warnings.simplefilter("ignore", DeprecationWarning)
    import luigi
    import luigi.configuration

import trunq
from trunq.config import config_overrides
from trunq.execution.payload import make_payload, rebuild_step, step_reference
from trunq.execution.summary import describe_group


def _define(lib: types.SimpleNamespace) -> types.SimpleNamespace:
    Base, P = lib.Step, lib.p
    V = P.ParameterVisibility

    class PlmSource(Base):
        x = P.IntParameter()
        y = P.IntParameter(default=5)
        z_attr = 42  # a plain class attribute, not a parameter

    class PlmTarget(Base):
        y = P.IntParameter(default=7)
        z = P.IntParameter(default=9)
        z_attr = P.IntParameter(default=0)

    class PlmVisible(Base):
        x = P.IntParameter()
        h = P.Parameter(default="hid", visibility=V.HIDDEN)
        p = P.Parameter(default="priv", visibility=V.PRIVATE)
        ns = P.Parameter(default="ns", significant=False)

    class PlmWrongTypes(Base):
        plain = P.Parameter(default="s")
        opt_int = P.OptionalIntParameter()
        opt_float = P.OptionalFloatParameter()
        opt_bool = P.OptionalBoolParameter()
        opt_str = P.OptionalParameter()
        opt_list = P.OptionalListParameter()
        opt_tuple = P.OptionalTupleParameter()
        opt_dict = P.OptionalDictParameter()
        opt_path = P.OptionalPathParameter()
        intp = P.IntParameter(default=0)
        td = P.TimeDeltaParameter(default=datetime.timedelta(1))

    class PlmStructured(Base):
        items = P.ListParameter(default=[])
        pairs = P.TupleParameter(default=())
        mapping = P.DictParameter(default={})

    class PlmUnconsumed(Base):
        x = P.IntParameter(default=1)

    class PlmUnconsumedIgnored(Base):
        ignore_unconsumed = {"bogus"}
        x = P.IntParameter(default=1)

    class PlmPositional(Base):
        a = P.IntParameter()
        b = P.IntParameter(default=2)
        k = P.IntParameter(default=3, positional=False)

    return types.SimpleNamespace(**{name: value for name, value in locals().items() if name.startswith("Plm")})


LUIGI = _define(types.SimpleNamespace(Step=luigi.Task, p=luigi.parameter))
TRUNQ = _define(types.SimpleNamespace(Step=trunq.Step, p=trunq.parameter))


# ---- clone() -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda c: c.PlmSource(x=1).clone(c.PlmTarget),  # y from self, z default, z_attr from the plain attr
        lambda c: c.PlmSource(x=1).clone(c.PlmTarget, y=3, z=4),
        lambda c: c.PlmSource(x=1).clone(c.PlmTarget, unknown=1),  # keywords that are no parameter: ignored
        lambda c: c.PlmSource(x=1).clone(y=8),
        lambda c: c.PlmTarget(z=2).clone(c.PlmSource, x=6),
    ],
)
def test_clone_takes_kwargs_then_attributes_then_defaults(make):
    assert repr(make(LUIGI)) == repr(make(TRUNQ))


def test_clone_uses_an_instance_attribute_that_is_no_parameter():
    results = []
    for classes in (LUIGI, TRUNQ):
        source = classes.PlmSource(x=11)
        source.z = 100
        results.append(repr(source.clone(classes.PlmTarget)))
    assert results[0] == results[1] == "PlmTarget(y=5, z=100, z_attr=42)"


def test_param_kwargs_are_the_values_the_step_was_built_with_as_luigi():
    results = []
    for classes in (LUIGI, TRUNQ):
        step = classes.PlmPositional(4, k=6)
        step.a = 99  # a later attribute change is not a parameter value
        results.append((step.param_kwargs, step.a, repr(step)))
    assert results[0] == results[1] == ({"a": 4, "b": 2, "k": 6}, 99, "PlmPositional(a=4, b=2, k=6)")


# ---- visibility ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"only_significant": True}, {"only_public": True}, {"only_significant": True, "only_public": True}],
)
def test_to_str_params_leaves_private_out_as_luigi(kwargs):
    luigi_step, trunq_step = LUIGI.PlmVisible(x=1, p="secret"), TRUNQ.PlmVisible(x=1, p="secret")
    assert trunq_step.to_str_params(**kwargs) == luigi_step.to_str_params(**kwargs)
    assert "p" not in trunq_step.to_str_params(**kwargs)


def test_step_id_leaves_hidden_and_private_out_as_luigi():
    luigi_step = LUIGI.PlmVisible(x=1, h="other", p="secret")
    trunq_step = TRUNQ.PlmVisible(x=1, h="other", p="secret")
    assert trunq_step.step_id == luigi_step.task_id
    assert trunq_step.step_id == TRUNQ.PlmVisible(x=1).step_id


def test_repr_and_summaries_show_no_private_value():
    assert repr(TRUNQ.PlmVisible(x=1, p="secret")) == "PlmVisible(x=1, h=hid)"
    assert repr(LUIGI.PlmVisible(x=1, p="secret")) == "PlmVisible(x=1, h=hid, p=secret)"  # luigi shows it
    group = [TRUNQ.PlmVisible(x=1, p="s1"), TRUNQ.PlmVisible(x=2, p="s2")]
    assert describe_group("PlmVisible", group) == "PlmVisible(x=1, h=hid) and PlmVisible(x=2, h=hid)"


def test_from_str_params_still_takes_private_values():
    for classes in (LUIGI, TRUNQ):
        assert classes.PlmVisible.from_str_params({"x": "1", "p": "secret"}).p == "secret"


def test_celery_payload_carries_private_values_apart():
    step = TRUNQ.PlmVisible(x=3, h="seen", p="secret")
    job = types.SimpleNamespace(step=step, lease_items=[(step.step_id, "token")], holder="holder")
    payload = json.loads(json.dumps(make_payload(job, 1000)))  # what crosses the broker
    assert payload["params"] == {"x": "3", "h": "seen", "ns": "ns"}
    assert payload["private"] == {"p": "secret"}
    rebuilt = rebuild_step(payload)
    assert rebuilt is step or rebuilt == step
    assert (rebuilt.x, rebuilt.h, rebuilt.p) == (3, "seen", "secret")
    assert "private" not in step_reference(TRUNQ.PlmSource(x=1))


class PlmWritesSecret(trunq.Step):
    root = trunq.Parameter()
    secret = trunq.Parameter(visibility=trunq.ParameterVisibility.PRIVATE)

    def output(self):
        return trunq.LocalTarget(f"{self.root}/out.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(self.secret)


def test_forked_workers_get_private_values(tmp_path):
    step = PlmWritesSecret(root=str(tmp_path), secret="s3cr3t")
    assert trunq.build([step], workers=2, worker_force_multiprocessing=True, local_scheduler=True)
    assert (tmp_path / "out.txt").read_text() == "s3cr3t"


# ---- date parsing --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["DateParameter", "MonthParameter", "YearParameter", "DateHourParameter",
                                  "DateMinuteParameter", "DateSecondParameter"])
@pytest.mark.parametrize("text", [
    "2015-1-5", "2015-01-05", "2015-1", "2015-01", "2015", "15", "2015-13-01", "2015/01/05", "20150105",
    "2015-1-5T3", "2015-01-05T03", "2015-1-5T34", "2015-1-5T345", "2015-01-05T0304", "2015-1-5T3H4",
    "2015-01-05T030405", "2015-1-5T3:04", "2015-01-05T", "",
])
def test_date_texts_parse_as_in_luigi(kind, text):
    def parse(module):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the deprecated "H" form
            try:
                return getattr(module, kind)().parse(text)
            except ValueError:
                return "invalid"

    assert parse(trunq.parameter) == parse(luigi)


def test_month_and_year_parameters_are_date_parameters_as_in_luigi():
    for module in (luigi, trunq):
        assert issubclass(module.MonthParameter, module.DateParameter)
        assert issubclass(module.YearParameter, module.DateParameter)


# ---- exceptions ----------------------------------------------------------------------------
EXCEPTIONS = ["ParameterException", "MissingParameterException", "UnknownParameterException",
              "DuplicateParameterException"]


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_hierarchy_matches_luigi(name):
    ours, theirs = getattr(trunq.parameter, name), getattr(luigi.parameter, name)
    assert [k.__name__ for k in ours.__mro__] == [k.__name__ for k in theirs.__mro__]
    assert issubclass(ours, ValueError) == issubclass(theirs, ValueError)
    assert getattr(trunq, name) is ours


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {"a": 2}), ((1, 2, 3), {}), ((), {}), ((), {"a": 1, "nope": 2}), ((1,), {"b": 1, "k": 2})],
)
def test_the_same_exception_is_raised_for_bad_arguments(args, kwargs):
    def outcome(classes):
        try:
            classes.PlmPositional(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the class is what is compared
            return type(exc).__name__
        return "ok"

    assert outcome(TRUNQ) == outcome(LUIGI)


def test_duplicate_and_too_many_positional_exceptions():
    with pytest.raises(trunq.DuplicateParameterException, match="'a'"):
        TRUNQ.PlmPositional(1, a=2)
    with pytest.raises(trunq.UnknownParameterException, match="at most 2"):
        TRUNQ.PlmPositional(1, 2, 3)


# ---- warnings ------------------------------------------------------------------------------
def _warned(make) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            make()
        except Exception:  # noqa: BLE001 - luigi may fail after warning; only warnings compared
            pass
    return sorted(f"{w.category.__name__}:{w.message}".split(" with value")[0] for w in caught
                  if not issubclass(w.category, DeprecationWarning))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("plain", 3), ("plain", None), ("plain", "x"),
        ("opt_int", "3"), ("opt_int", 3), ("opt_int", None),
        ("opt_float", 3), ("opt_float", 3.5),
        ("opt_bool", "true"), ("opt_bool", True), ("opt_bool", 1),
        ("opt_path", "some/where"), ("opt_path", Path("else/where")),
        ("opt_str", 5), ("opt_str", "five"),
        ("opt_list", [1, 2]), ("opt_list", (1,)), ("opt_list", "[1]"),
        ("opt_tuple", [[1, 2]]),
        ("opt_dict", {"a": 1}), ("opt_dict", "x"),
        ("intp", "3"), ("intp", 4),
        ("td", 5), ("td", datetime.timedelta(2)),
    ],
)
def test_wrong_type_warnings_as_in_luigi(name, value):
    ours = _warned(lambda: TRUNQ.PlmWrongTypes(**{name: value}))
    theirs = _warned(lambda: LUIGI.PlmWrongTypes(**{name: value}))
    assert ours == theirs


def test_wrong_type_warning_names_the_parameter():
    with pytest.warns(trunq.OptionalParameterTypeWarning, match='"opt_int" with value "7"'):
        TRUNQ.PlmWrongTypes(opt_int="7")
    with pytest.warns(UserWarning, match='Parameter "plain" with value "8" is not of type string'):
        TRUNQ.PlmWrongTypes(plain=8)


@pytest.fixture
def luigi_section():
    config = luigi.configuration.get_config()
    added = []

    def add(section, **options):
        config.add_section(section)
        added.append(section)
        for key, value in options.items():
            config.set(section, key, value)

    yield add
    for section in added:
        config.remove_section(section)


def test_unconsumed_config_keys_warn_once_as_in_luigi(luigi_section):
    luigi_section("PlmUnconsumed", x="4", bogus="1")
    luigi_section("PlmUnconsumedIgnored", bogus="1", other="2")
    luigi_side = [_warned(lambda: LUIGI.PlmUnconsumed()), _warned(lambda: LUIGI.PlmUnconsumed(x=2)),
                  _warned(lambda: LUIGI.PlmUnconsumedIgnored())]
    sections = {"PlmUnconsumed": {"x": "4", "bogus": "1"}, "PlmUnconsumedIgnored": {"bogus": "1", "other": "2"}}
    with config_overrides(sections):
        trunq_side = [_warned(lambda: TRUNQ.PlmUnconsumed()), _warned(lambda: TRUNQ.PlmUnconsumed(x=2)),
                      _warned(lambda: TRUNQ.PlmUnconsumedIgnored())]
        assert TRUNQ.PlmUnconsumed().x == 4
    assert [len(found) for found in trunq_side] == [len(found) for found in luigi_side] == [1, 0, 1]
    for found in trunq_side:
        assert all(line.startswith("UnconsumedParameterWarning:") for line in found)
    assert "'bogus'" in trunq_side[0][0] and "'other'" in trunq_side[2][0]


# ---- structured values ---------------------------------------------------------------------
def _shape(value):
    """Type names all the way down (luigi and trunq each have their own FrozenOrderedDict)."""
    if isinstance(value, tuple | list):
        return [type(value).__name__, [_shape(item) for item in value]]
    if hasattr(value, "items"):
        return [type(value).__name__, {key: _shape(item) for key, item in value.items()}]
    return type(value).__name__


@pytest.mark.parametrize(
    "make",
    [
        lambda c: c.PlmStructured(items=[1, [2, {"a": [3]}]], pairs=[[1, 2], (3, 4)], mapping={"a": [1, {"b": [2]}]}),
        lambda c: c.PlmStructured.from_str_params(
            {"items": '[1, [2, {"a": [3]}]]', "pairs": "[[1, 2], [3, 4]]", "mapping": '{"a": [1, {"b": [2]}]}'}
        ),
        lambda c: c.PlmStructured(),
    ],
)
def test_list_tuple_and_dict_values_as_luigi_gives_them(make):
    ours, theirs = make(TRUNQ), make(LUIGI)
    for name in ("items", "pairs", "mapping"):
        assert _shape(getattr(ours, name)) == _shape(getattr(theirs, name))
        assert getattr(ours, name) == getattr(theirs, name)
    assert ours.to_str_params() == theirs.to_str_params()
    assert ours.step_id == theirs.task_id


def test_a_run_sees_frozen_values(tmp_path):
    seen = {}

    class PlmSeesValues(trunq.Step):
        items = trunq.ListParameter()
        mapping = trunq.DictParameter()

        def run(self):
            seen["items"], seen["mapping"] = self.items, self.mapping

    assert trunq.build([PlmSeesValues(items=[1, [2]], mapping={"k": [1]})], local_scheduler=True)
    assert seen["items"] == (1, (2,)) and seen["items"] != [1, [2]]
    assert type(seen["mapping"]).__name__ == "FrozenOrderedDict" and seen["mapping"] == {"k": (1,)}
    assert Path(tmp_path).exists()
