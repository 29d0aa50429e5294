"""The Step contract: identity, parameters, requirements, events."""

from __future__ import annotations

import pytest

import trunq
from trunq.config import Configuration, set_config
from trunq.core import registry
from trunq.core.step import BadRequirementError
from trunq.parameter import MissingParameterException, ParameterException, UnknownParameterException


class Point(trunq.Step):
    x = trunq.IntParameter()
    y = trunq.IntParameter(default=45)
    secret = trunq.Parameter(default="s", significant=False)


def test_equal_params_give_equal_ids_and_the_same_object():
    a, b = Point(x=1), Point(x=1)
    assert a is b
    assert a.step_id == Point(1, 45).step_id
    assert a == Point(1, 45)
    assert Point(x=2).step_id != a.step_id


def test_step_id_is_readable_and_deterministic():
    assert Point(x=1).step_id == "Point_1_45_" + Point(x=1).step_id.rsplit("_", 1)[1]
    assert len(Point(x=1).step_id.rsplit("_", 1)[1]) == 10
    registry.clear_instance_cache()
    assert Point(x=1).step_id == Point(x=1).step_id


def test_insignificant_params_do_not_change_identity_or_repr():
    assert Point(x=1, secret="a").step_id == Point(x=1, secret="b").step_id
    assert repr(Point(x=1, secret="a")) == "Point(x=1, y=45)"


def test_str_params_round_trip():
    step = Point(x=3, y=4)
    assert Point.from_str_params(step.to_str_params()) == step


def test_missing_unknown_and_bad_parameters():
    with pytest.raises(MissingParameterException, match="'x'"):
        Point()
    with pytest.raises(UnknownParameterException, match="'z'"):
        Point(x=1, z=2)
    with pytest.raises(ParameterException):
        Point(1, 2, 3, 4)


def test_config_section_and_cli_overrides_supply_values():
    set_config(Configuration({"Point": {"x": "7"}}))
    assert Point().x == 7
    registry.cli_overrides["Point"] = {"y": "9"}
    registry.clear_instance_cache()
    assert Point().y == 9
    assert Point(y=1).y == 1  # explicit wins


def test_requires_any_nesting_and_input_keeps_structure(tmp_path):
    class Leaf(trunq.Step):
        n = trunq.IntParameter()

        def output(self):
            return trunq.LocalTarget(tmp_path / f"{self.n}")

    class Top(trunq.Step):
        def requires(self):
            return {"a": Leaf(1), "b": [Leaf(2), (Leaf(3),)]}

    top = Top()
    assert [d.n for d in top.deps()] == [1, 2, 3]
    paths = top.input()
    assert paths["a"].path.endswith("1") and paths["b"][1][0].path.endswith("3")


def test_requires_returning_a_target_is_a_clear_error(tmp_path):
    class Bad(trunq.Step):
        def requires(self):
            return trunq.LocalTarget(tmp_path / "x")

    with pytest.raises(BadRequirementError, match="ExternalStep"):
        Bad().deps()


def test_wrapper_and_external_steps(tmp_path):
    class Data(trunq.ExternalStep):
        def output(self):
            return trunq.LocalTarget(tmp_path / "data")

    class Wrap(trunq.WrapperStep):
        def requires(self):
            return [Data()]

    assert Data.run is None
    assert not Wrap().complete()
    (tmp_path / "data").write_text("x")
    assert Wrap().complete()


def test_clone_shares_matching_params():
    class Other(trunq.Step):
        x = trunq.IntParameter()

    assert Point(x=5).clone(Other).x == 5
    assert Point(x=5).clone(y=1) == Point(x=5, y=1)


def test_namespace_prefixes_family():
    trunq.namespace("ns", scope=__name__)
    try:
        class Spaced(trunq.Step):
            pass
    finally:
        trunq.namespace(None, scope=__name__)
    assert Spaced.get_step_family() == "ns.Spaced"
    assert registry.get_step_cls("ns.Spaced") is Spaced


def test_event_handlers_fire_and_errors_are_swallowed():
    seen = []

    class Evented(trunq.Step):
        pass

    @Evented.event_handler(trunq.Event.SUCCESS)
    def ok(step):
        seen.append(step)

    @Evented.event_handler(trunq.Event.SUCCESS)
    def broken(step):
        raise RuntimeError("handler bug")

    Evented().trigger_event(trunq.Event.SUCCESS, Evented())
    assert seen == [Evented()]


def test_unknown_family_suggests_a_close_name():
    with pytest.raises(registry.UnknownStepError, match="did you mean 'Point'"):
        registry.get_step_cls("Poimt")


def test_externalize_makes_a_step_that_never_runs():
    external = trunq.core.step.externalize(Point)
    assert external.run is None and issubclass(external, Point)
    instance = trunq.core.step.externalize(Point(x=1))
    assert instance.run is None and Point(x=1).run is not None


class TwoFiles(trunq.Step):
    name = trunq.Parameter()
    calls = 0

    def output(self):
        type(self).calls += 1
        return {"data": trunq.LocalTarget(f"/data/{self.name}.csv"), "also": [trunq.LocalTarget(f"/data/{self.name}.csv"),
                                                                             trunq.LocalTarget(f"/data/{self.name}.idx")]}


def test_output_paths_are_computed_once_per_step_and_kept_by_complete():
    from trunq.core.graph import output_paths

    step = TwoFiles(name="a")
    assert not step.complete()  # the completeness check already notes the paths
    calls = TwoFiles.calls
    assert output_paths(step) == ["/data/a.csv", "/data/a.idx"]  # flattened, in order, once each
    assert output_paths(step) is output_paths(step)
    assert TwoFiles.calls == calls


def test_output_paths_of_an_object_without_a_dict_are_computed_each_time():
    from trunq.core.graph import output_paths

    class Slotted:
        __slots__ = ()

        def output(self):
            return trunq.LocalTarget("/data/x")

    assert output_paths(Slotted()) == ["/data/x"]
