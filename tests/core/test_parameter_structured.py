"""Dict, List and Tuple parameters: JSON in and out, frozen (hashable) values, schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest

from trunq import parameter as p
from trunq.parameter import FrozenOrderedDict


def test_dict_parse_gives_a_frozen_ordered_mapping():
    value = p.DictParameter().parse('{"b": 1, "a": {"x": [1, 2]}}')
    assert isinstance(value, FrozenOrderedDict)
    assert list(value) == ["b", "a"]
    assert value == {"b": 1, "a": {"x": (1, 2)}}
    assert isinstance(value["a"], FrozenOrderedDict)
    assert hash(value) == hash(p.DictParameter().parse('{"a": {"x": [1, 2]}, "b": 1}'))


def test_dict_normalize_freezes_plain_values_recursively():
    value = p.DictParameter().normalize({"a": [1, {"b": [2]}], "c": {3, 4}})
    assert value == {"a": (1, {"b": (2,)}), "c": frozenset({3, 4})}
    hash(value)
    with pytest.raises(TypeError):
        value["a"] = 1  # type: ignore[index]


def test_dict_serialize_is_json():
    param = p.DictParameter()
    value = param.normalize({"a": [1, 2], "b": {"c": None}})
    assert json.loads(param.serialize(value)) == {"a": [1, 2], "b": {"c": None}}
    assert param.serialize(value) == '{"a": [1, 2], "b": {"c": null}}'


@pytest.mark.parametrize(
    ("param", "text", "message"),
    [
        (p.DictParameter(), "{not json", "'{not json' is not a valid JSON object"),
        (p.DictParameter(), "[1, 2]", "'\\[1, 2\\]' is not a valid JSON object"),
        (p.ListParameter(), '{"a": 1}', "is not a valid JSON list"),
        (p.ListParameter(), "[1,", "is not a valid JSON list \\(bad JSON"),
        (p.TupleParameter(), '"abcd"', "is not a valid tuple"),
        (p.TupleParameter(), "(1, 2", "is not a valid tuple"),
        (p.TupleParameter(), "5", "is not a valid tuple"),
    ],
)
def test_bad_json_gives_a_readable_value_error(param, text, message):
    with pytest.raises(ValueError, match=message):
        param.parse(text)


def test_list_values_are_tuples():
    param = p.ListParameter()
    assert param.parse('[1, [2, 3], {"a": [4]}]') == (1, (2, 3), {"a": (4,)})
    assert param.normalize([1, [2]]) == (1, (2,))
    assert param.serialize((1, (2, 3))) == "[1, [2, 3]]"


def test_tuple_accepts_json_and_python_literals():
    param = p.TupleParameter()
    assert param.parse("[[1, 2], [3, 4]]") == ((1, 2), (3, 4))
    assert param.parse("((1, 2), (3, 4))") == ((1, 2), (3, 4))
    assert param.parse("('a', 'b')") == ("a", "b")
    assert param.serialize(((1, 2), (3, 4))) == "[[1, 2], [3, 4]]"


def test_non_text_config_values_are_accepted_as_is():
    assert p.DictParameter().parse({"a": [1]}) == {"a": (1,)}
    assert p.ListParameter().parse([1, 2]) == (1, 2)


SCHEMA = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 10}, "minItems": 1}


def test_schema_is_checked_in_normalize():
    param = p.ListParameter(schema=SCHEMA)
    assert param.normalize([1, 8.5]) == (1, 8.5)
    with pytest.raises(ValueError, match="does not match the schema"):
        param.normalize([])
    with pytest.raises(ValueError, match="does not match the schema: 999 is greater than the maximum of 10"):
        param.normalize(param.parse("[999]"))


def test_schema_can_be_a_validator_object():
    validator = jsonschema.Draft7Validator({"type": "object", "required": ["name"]})
    param = p.DictParameter(schema=validator)
    assert param.normalize({"name": "x"}) == {"name": "x"}
    with pytest.raises(ValueError, match="'name' is a required property"):
        param.normalize({"other": 1})


def test_frozen_ordered_dict_behaves_like_a_read_only_mapping():
    frozen = FrozenOrderedDict([("b", 1), ("a", 2)])
    assert list(frozen.items()) == [("b", 1), ("a", 2)]
    assert frozen == {"a": 2, "b": 1}
    assert frozen.get_wrapped() == {"b": 1, "a": 2}
    assert repr(frozen) == str(frozen) == "{'b': 1, 'a': 2}"  # as luigi: the plain dict, in output paths too
    assert len(frozen) == 2
    assert {frozen: "usable as a key"}[FrozenOrderedDict(a=2, b=1)] == "usable as a key"
    assert p.recursively_unfreeze(p.recursively_freeze({"a": [1, (2,)]})) == {"a": [1, [2]]}
