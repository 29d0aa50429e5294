"""The Parameter base class: constructor options, ordering, Optional variants, batching, help text."""

from __future__ import annotations

import pickle

import pytest

import trunq
from trunq import parameter as p


def test_constructor_options_are_kept():
    param = p.Parameter(
        "x",
        significant=False,
        description="a thing",
        positional=False,
        always_in_help=True,
        batch_method=max,
        visibility=p.ParameterVisibility.HIDDEN,
        config_path={"section": "core", "name": "x"},
    )
    assert param.default == "x"
    assert param.has_default
    assert param.significant is False
    assert param.description == "a thing"
    assert param.positional is False
    assert param.always_in_help is True
    assert param.batch_method is max
    assert param.is_batchable
    assert param.visibility is p.ParameterVisibility.HIDDEN
    assert param.config_path == {"section": "core", "name": "x"}


def test_defaults_of_a_bare_parameter():
    param = p.Parameter()
    assert param.default is p.NO_VALUE
    assert not param.has_default
    assert param.significant and param.positional
    assert not param.always_in_help
    assert param.batch_method is None and not param.is_batchable
    assert param.visibility == p.ParameterVisibility.PUBLIC
    assert not param.is_bool and not param.is_optional


def test_no_value_is_a_falsy_singleton_that_survives_pickling():
    assert repr(p.NO_VALUE) == "NO_VALUE"
    assert not p.NO_VALUE
    assert pickle.loads(pickle.dumps(p.NO_VALUE)) is p.NO_VALUE


def test_visibility_values():
    assert [int(v) for v in p.ParameterVisibility] == [0, 1, 2]
    assert p.ParameterVisibility.has_value(2) and not p.ParameterVisibility.has_value(3)
    assert p.ParameterVisibility.PRIVATE.serialize() == 2


def test_creation_order_counter_increases_across_types():
    first, second, third = p.IntParameter(), p.DateParameter(), p.Parameter()
    assert first._order < second._order < third._order


def test_exception_hierarchy():
    for exc in (p.MissingParameterException, p.UnknownParameterException, p.DuplicateParameterException):
        assert issubclass(exc, p.ParameterException)
    assert issubclass(p.ParameterValueError, ValueError)
    assert issubclass(p.ParameterValueError, p.ParameterException)


def test_parameter_types_are_exported_from_the_package_root():
    assert trunq.IntParameter is p.IntParameter
    assert trunq.StepParameter is p.StepParameter
    assert trunq.MissingParameterException is p.MissingParameterException


def test_base_parameter_is_text_and_freezes_containers():
    param = p.Parameter()
    assert param.parse("hello") == "hello"
    assert param.serialize("hello") == "hello"
    assert param.normalize("hello") == "hello"
    frozen = param.normalize({"a": [1, 2]})
    assert frozen == {"a": (1, 2)}
    hash(frozen)
    assert param.next_in_enumeration("a") is None


@pytest.mark.parametrize(
    "param",
    [
        p.OptionalParameter(),
        p.OptionalStrParameter(),
        p.OptionalIntParameter(),
        p.OptionalFloatParameter(),
        p.OptionalBoolParameter(),
        p.OptionalDateParameter(),
        p.OptionalDictParameter(),
        p.OptionalListParameter(),
        p.OptionalTupleParameter(),
        p.OptionalChoiceParameter(choices=["a"]),
        p.OptionalNumericalParameter(var_type=int, min_value=0, max_value=3),
        p.OptionalPathParameter(),
    ],
    ids=lambda param: type(param).__name__,
)
def test_optional_variants_treat_empty_text_as_none(param):
    assert param.is_optional
    assert param.default is None and param.has_default
    assert param.parse("") is None
    assert param.serialize(None) == ""
    assert param.normalize(None) is None
    assert param.next_in_enumeration(None) is None


def test_optional_variants_still_parse_real_values():
    assert p.OptionalIntParameter().parse("4") == 4
    assert p.OptionalBoolParameter().parse("TRUE") is True
    assert p.OptionalIntParameter().next_in_enumeration(4) == 5
    assert p.OptionalListParameter().parse("[1]") == (1,)
    assert p.OptionalIntParameter(default=3).default == 3
    with pytest.raises(ValueError, match="'x' is not a valid integer"):
        p.OptionalIntParameter().parse("x")


def test_parse_list_combines_with_the_batch_method():
    assert p.IntParameter(batch_method=max).parse_list(["3", "11", "7"]) == 11
    assert p.IntParameter(batch_method=sum).parse_list(["1", "2"]) == 3
    assert p.Parameter(batch_method=",".join).parse_list(["a", "b"]) == "a,b"


def test_parse_list_without_batch_method_or_values_fails_clearly():
    with pytest.raises(p.ParameterException, match="no batch_method"):
        p.IntParameter().parse_list(["1"])
    with pytest.raises(ValueError, match="at least one"):
        p.IntParameter(batch_method=max).parse_list([])


def test_help_text_joins_description_and_type_suffix():
    assert p.IntParameter(description="How many").help_text() == "How many"
    assert p.IntParameter().help_text() == ""
    choice = p.ChoiceParameter(choices=["b", "a", "b"], description="Mode.")
    assert choice.help_text() == "Mode. Choices: {b, a}"
    assert choice.description == "Mode."
    numerical = p.NumericalParameter(var_type=int, min_value=1, max_value=5)
    assert numerical.help_text() == "permitted values: int in [1, 5)"


def test_repr_names_type_and_default():
    assert repr(p.IntParameter(default=3)) == "IntParameter(default=3)"
    assert repr(p.IntParameter()) == "IntParameter(no default)"
