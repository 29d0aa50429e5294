"""Numbers, booleans, enums, choices, paths and step classes."""

from __future__ import annotations

import enum
import operator
import sys
import types
from pathlib import Path

import pytest

from trunq import parameter as p


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@pytest.mark.parametrize(
    ("param", "text", "value", "serialized"),
    [
        (p.StrParameter(), "abc", "abc", "abc"),
        (p.IntParameter(), "42", 42, "42"),
        (p.IntParameter(), "-7", -7, "-7"),
        (p.FloatParameter(), "2.5", 2.5, "2.5"),
        (p.FloatParameter(), "1e3", 1000.0, "1000.0"),
        (p.BoolParameter(), "true", True, "True"),
        (p.BoolParameter(), "FALSE", False, "False"),
        (p.EnumParameter(enum=Color), "GREEN", Color.GREEN, "GREEN"),
        (p.EnumListParameter(enum=Color), "RED,GREEN", (Color.RED, Color.GREEN), "RED,GREEN"),
        (p.EnumListParameter(enum=Color), "", (), ""),
        (p.ChoiceParameter(choices=["a", "b"]), "b", "b", "b"),
        (p.ChoiceParameter(choices=[1, 2], var_type=int), "2", 2, "2"),
        (p.ChoiceListParameter(choices=["a", "b"]), "a,b,a", ("a", "b", "a"), "a,b,a"),
        (p.ChoiceListParameter(choices=[1, 2], var_type=int), "2,1", (2, 1), "2,1"),
        (p.ChoiceListParameter(choices=["a"]), "", (), ""),
        (p.NumericalParameter(var_type=int, min_value=0, max_value=10), "9", 9, "9"),
        (p.NumericalParameter(var_type=float, min_value=0.0, max_value=1.0), "0.5", 0.5, "0.5"),
        (p.PathParameter(), "a/b.txt", Path("a/b.txt"), "a/b.txt"),
    ],
    ids=lambda item: type(item).__name__ if isinstance(item, p.Parameter) else None,
)
def test_parse_and_serialize(param, text, value, serialized):
    assert param.parse(text) == value
    assert param.serialize(value) == serialized
    assert param.normalize(value) == value


@pytest.mark.parametrize(
    ("param", "text", "message"),
    [
        (p.IntParameter(), "abc", "'abc' is not a valid integer"),
        (p.IntParameter(), "1.5", "'1.5' is not a valid integer"),
        (p.FloatParameter(), "one", "'one' is not a valid number"),
        (p.BoolParameter(), "yes", "'yes' is not a valid boolean"),
        (p.EnumParameter(enum=Color), "BLUE", "'BLUE' is not a valid Color \\(choose from RED, GREEN\\)"),
        (p.EnumListParameter(enum=Color), "RED,BLUE", "'BLUE' is not a valid Color"),
        (p.ChoiceParameter(choices=["a", "b"]), "c", "'c' is not a valid choice from {a, b}"),
        (p.ChoiceParameter(choices=[1, 2], var_type=int), "x", "'x' is not a valid int"),
        (p.ChoiceListParameter(choices=["a"]), "a,z", "'z' is not a valid choice"),
        (
            p.NumericalParameter(var_type=int, min_value=0, max_value=10),
            "10",
            "10 is not in the set of int in \\[0, 10\\)",
        ),
        (p.NumericalParameter(var_type=int, min_value=0, max_value=10), "ten", "'ten' is not a valid int"),
    ],
)
def test_bad_text_gives_a_readable_value_error(param, text, message):
    with pytest.raises(ValueError, match=message):
        param.parse(text)


def test_int_normalize_accepts_text_and_integral_numbers():
    param = p.IntParameter()
    assert param.normalize("5") == 5
    assert param.normalize(5.0) == 5 and type(param.normalize(5.0)) is int
    with pytest.raises(ValueError, match="not a valid integer"):
        param.normalize(5.5)
    assert param.next_in_enumeration(5) == 6


def test_float_normalize_turns_ints_into_floats():
    param = p.FloatParameter()
    assert type(param.normalize(3)) is float
    assert param.normalize("2.5") == 2.5
    assert param.next_in_enumeration(1.0) is None


def test_bool_defaults_to_false_and_is_marked_as_bool():
    param = p.BoolParameter()
    assert param.default is False and param.is_bool
    assert param.parsing == "implicit"
    assert p.BoolParameter(parsing="explicit").parsing == "explicit"
    assert p.OptionalBoolParameter().is_bool
    assert not p.IntParameter().is_bool
    with pytest.raises(p.ParameterException, match="unknown parsing"):
        p.BoolParameter(parsing="sometimes")


def test_bool_normalize_accepts_text_and_numbers():
    param = p.BoolParameter()
    assert param.normalize("True") is True
    assert param.normalize(0) is False
    assert param.normalize(True) is True


@pytest.mark.parametrize(
    ("left_op", "right_op", "inside", "outside", "shown"),
    [
        (operator.le, operator.lt, [0, 9], [-1, 10], "int in [0, 10)"),
        (operator.lt, operator.le, [1, 10], [0, 11], "int in (0, 10]"),
        (operator.lt, operator.lt, [1, 9], [0, 10], "int in (0, 10)"),
        (operator.le, operator.le, [0, 10], [-1, 11], "int in [0, 10]"),
    ],
)
def test_numerical_range_endpoints(left_op, right_op, inside, outside, shown):
    param = p.NumericalParameter(var_type=int, min_value=0, max_value=10, left_op=left_op, right_op=right_op)
    assert param.help_suffix() == f"permitted values: {shown}"
    for value in inside:
        assert param.parse(str(value)) == value
        assert param.normalize(value) == value
    for value in outside:
        with pytest.raises(ValueError, match="is not in the set of"):
            param.parse(str(value))
        with pytest.raises(ValueError, match="is not in the set of"):
            param.normalize(value)


def test_numerical_needs_type_and_bounds():
    with pytest.raises(p.ParameterException, match="var_type"):
        p.NumericalParameter(min_value=0, max_value=1)
    with pytest.raises(p.ParameterException, match="max_value"):
        p.NumericalParameter(var_type=int, min_value=0)


def test_choice_checks_its_configuration_and_normalized_values():
    with pytest.raises(p.ParameterException, match="needs choices"):
        p.ChoiceParameter()
    with pytest.raises(p.ParameterException, match="not of type int"):
        p.ChoiceParameter(choices=[1, "2"], var_type=int)
    param = p.ChoiceParameter(choices=[1, 2], var_type=int)
    assert param.normalize("1") == 1
    with pytest.raises(ValueError, match="3 is not a valid choice"):
        param.normalize(3)


def test_enum_needs_an_enum_and_normalizes_names_and_values():
    with pytest.raises(p.ParameterException, match="needs enum"):
        p.EnumParameter()
    param = p.EnumParameter(enum=Color)
    assert param.normalize("RED") is Color.RED
    assert param.normalize(2) is Color.GREEN
    assert param.help_suffix() == "Choices: {RED, GREEN}"
    assert p.EnumListParameter(enum=Color).normalize(["RED", Color.GREEN]) == (Color.RED, Color.GREEN)


def test_path_absolute_and_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "present.txt").write_text("x")
    assert p.PathParameter(absolute=True).normalize("rel") == tmp_path / "rel"
    assert p.PathParameter(exists=True).parse("present.txt") == Path("present.txt")
    with pytest.raises(ValueError, match="The path missing.txt does not exist"):
        p.PathParameter(exists=True).parse("missing.txt")
    with pytest.raises(ValueError, match="does not exist"):
        p.PathParameter(exists=True).normalize(Path("missing.txt"))
    assert p.OptionalPathParameter(exists=True).normalize(None) is None


class _FakeStep:
    @classmethod
    def get_step_family(cls) -> str:
        return "pkg.FakeStep"


@pytest.fixture
def fake_registry(monkeypatch):
    """Point ``trunq.core.registry.get_step_cls`` at a one-entry table (works before registry.py exists)."""
    try:
        import trunq.core.registry as registry
    except ImportError:
        registry = types.ModuleType("trunq.core.registry")
        monkeypatch.setitem(sys.modules, "trunq.core.registry", registry)

    class UnknownStepError(Exception):
        pass

    def get_step_cls(family: str) -> type:
        if family == "pkg.FakeStep":
            return _FakeStep
        raise UnknownStepError(f"no step family named {family!r}")

    monkeypatch.setattr(registry, "UnknownStepError", UnknownStepError, raising=False)
    monkeypatch.setattr(registry, "get_step_cls", get_step_cls, raising=False)
    return registry


def test_step_parameter_round_trips_a_class(fake_registry):
    param = p.StepParameter()
    assert param.parse("pkg.FakeStep") is _FakeStep
    assert param.serialize(_FakeStep) == "pkg.FakeStep"
    assert param.normalize(_FakeStep) is _FakeStep
    assert param.normalize("pkg.FakeStep") is _FakeStep
    assert param.next_in_enumeration(_FakeStep) is None


def test_step_parameter_unknown_family_is_a_value_error(fake_registry):
    with pytest.raises(ValueError, match="no step family named 'Nope'"):
        p.StepParameter().parse("Nope")
    with pytest.raises(ValueError, match="not a step class"):
        p.StepParameter().normalize(3)
