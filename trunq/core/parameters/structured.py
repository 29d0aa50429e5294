"""JSON-valued parameters: dicts, lists and tuples, stored in frozen (hashable) form."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from trunq.core.parameters.base import (
    NO_VALUE,
    OptionalParameterMixin,
    Parameter,
    ParameterValueError,
    invalid,
)
from trunq.core.parameters.frozen import (
    FrozenJSONEncoder,
    FrozenOrderedDict,
    recursively_freeze,
    recursively_unfreeze,
)

J = TypeVar("J")  # the value type of a JSON parameter

try:  # jsonschema is optional: without it, a schema is accepted but not checked.
    import jsonschema
except ImportError:  # pragma: no cover - depends on the environment
    jsonschema = None  # type: ignore[assignment]  # optional: None means "not installed"


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=FrozenOrderedDict)
    except (TypeError, ValueError) as error:
        raise invalid(text, what, f"bad JSON: {error}") from None


class _JSONParameter(Parameter[J]):
    """Shared schema validation, freezing and JSON output."""

    def __init__(self, default: Any = NO_VALUE, *, schema: Any = None, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.schema = schema

    def _validate(self, value: Any) -> Any:
        if self.schema is None or jsonschema is None:
            return value
        plain = recursively_unfreeze(value)
        try:
            if hasattr(self.schema, "validate") and not isinstance(self.schema, Mapping):
                self.schema.validate(plain)  # a ready-made jsonschema validator object
            else:
                jsonschema.validate(instance=plain, schema=self.schema)
        except jsonschema.ValidationError as error:
            raise ParameterValueError(f"value does not match the schema: {error.message}") from None
        return plain  # validators may fill in defaults in place

    def normalize(self, value: Any) -> Any:
        return recursively_freeze(self._validate(value))

    def serialize(self, value: Any) -> str:
        return json.dumps(value, cls=FrozenJSONEncoder)


class DictParameter(_JSONParameter[FrozenOrderedDict]):
    """A JSON object; the value is a ``FrozenOrderedDict`` (nested lists become tuples)."""

    def parse(self, text: str) -> FrozenOrderedDict:
        if not isinstance(text, str):
            return self.normalize(text)  # TOML/dict config values arrive already decoded
        value = _load_json(text, "JSON object")
        if not isinstance(value, Mapping):
            raise invalid(text, "JSON object")
        return recursively_freeze(value)


class OptionalDictParameter(OptionalParameterMixin[FrozenOrderedDict], DictParameter):  # type: ignore[misc]
    """A ``DictParameter`` that may be None."""

    expected_type = Mapping  # luigi checks the frozen value; any mapping freezes to one


class ListParameter(_JSONParameter[tuple[Any, ...]]):
    """A JSON array; the value is a tuple (recursively frozen)."""

    def parse(self, text: str) -> tuple[Any, ...]:
        if not isinstance(text, str):
            return self.normalize(text)
        value = _load_json(text, "JSON list")
        if not isinstance(value, list):
            raise invalid(text, "JSON list")
        return recursively_freeze(value)


class OptionalListParameter(OptionalParameterMixin[tuple[Any, ...]], ListParameter):  # type: ignore[misc]
    """A ``ListParameter`` that may be None."""

    expected_type = (list, tuple)  # lists are frozen to tuples


class TupleParameter(ListParameter):
    """A tuple, written as a JSON array ``[[1, 2], [3, 4]]`` or a Python literal ``((1, 2), (3, 4))``."""

    def parse(self, text: str) -> tuple[Any, ...]:
        if not isinstance(text, str):
            return self.normalize(text)
        try:
            value = json.loads(text, object_pairs_hook=FrozenOrderedDict)
        except ValueError:
            value = self._literal(text)
        if not isinstance(value, list | tuple):
            raise invalid(text, "tuple", "write a JSON array or a Python tuple literal")
        return recursively_freeze(value)

    @staticmethod
    def _literal(text: str) -> Any:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise invalid(text, "tuple", "write a JSON array or a Python tuple literal") from None


class OptionalTupleParameter(OptionalParameterMixin[tuple[Any, ...]], TupleParameter):  # type: ignore[misc]
    """A ``TupleParameter`` that may be None."""

    expected_type = (list, tuple)
