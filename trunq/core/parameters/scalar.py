"""Numbers, booleans, enums, choices and paths."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trunq.core.parameters.base import (
    NO_VALUE,
    OptionalParameterMixin,
    Parameter,
    ParameterException,
    ParameterValueError,
    invalid,
)

if TYPE_CHECKING:
    from trunq.core.step import Step


class IntParameter(Parameter[int]):
    """A parameter whose value is an ``int``; enumerable (next value is +1)."""

    def parse(self, text: str) -> int:
        try:
            return int(text)
        except (TypeError, ValueError):
            raise invalid(text, "integer") from None

    def normalize(self, value: Any) -> int:
        if type(value) is int:
            return value
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return operator.index(value)
        except TypeError:
            raise invalid(value, "integer") from None

    def next_in_enumeration(self, value: int) -> int:
        return value + 1


class OptionalIntParameter(OptionalParameterMixin[int], IntParameter):  # type: ignore[misc]
    """An ``int`` parameter that may be None."""

    expected_type = int


class FloatParameter(Parameter[float]):
    """A parameter whose value is a ``float``."""

    def parse(self, text: str) -> float:
        try:
            return float(text)
        except (TypeError, ValueError):
            raise invalid(text, "number") from None

    def normalize(self, value: Any) -> float:
        if type(value) is float:
            return value
        if isinstance(value, str):
            return self.parse(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise invalid(value, "number") from None


class OptionalFloatParameter(OptionalParameterMixin[float], FloatParameter):  # type: ignore[misc]
    """A ``float`` parameter that may be None."""

    expected_type = float


class BoolParameter(Parameter[bool]):
    """A parameter whose value is a ``bool``; defaults to False.

    ``parsing="implicit"``: a bare ``--flag`` on the command line means True (no value taken).
    ``parsing="explicit"``: ``--flag true|false`` is expected; a bare ``--flag`` still means True.
    """

    IMPLICIT_PARSING = "implicit"
    EXPLICIT_PARSING = "explicit"
    is_bool = True

    def __init__(self, default: Any = NO_VALUE, *, parsing: str = IMPLICIT_PARSING, **kwargs: Any) -> None:
        if parsing not in (self.IMPLICIT_PARSING, self.EXPLICIT_PARSING):
            raise ParameterException(f"unknown parsing value {parsing!r} (use 'implicit' or 'explicit')")
        super().__init__(False if default is NO_VALUE else default, **kwargs)
        self.parsing = parsing

    def parse(self, text: str) -> bool:
        lowered = str(text).lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid(text, "boolean", "expected true or false")

    def normalize(self, value: Any) -> bool:
        if value is True or value is False:
            return value
        if value is None:  # kept as is, like luigi (a None default of a plain BoolParameter)
            return None  # type: ignore[return-value]
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, int):
            return bool(value)
        raise invalid(value, "boolean", "expected true or false")


class OptionalBoolParameter(OptionalParameterMixin[bool], BoolParameter):  # type: ignore[misc]
    """A ``bool`` parameter that may be None (the default)."""

    expected_type = bool

    def _wants_type_check(self) -> bool:
        return False  # every accepted value is converted to the expected type, so never warns (as luigi)


def _format_range(var_type: type, low: Any, high: Any, left_op: Callable, right_op: Callable) -> str:
    left = "[" if left_op is operator.le else "("
    right = "]" if right_op is operator.le else ")"
    return f"{var_type.__name__} in {left}{low}, {high}{right}"


class NumericalParameter(Parameter[Any]):
    """A number of type ``var_type`` with ``min_value left_op value right_op max_value``."""

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        var_type: type | None = None,
        min_value: Any = None,
        max_value: Any = None,
        left_op: Callable[[Any, Any], bool] = operator.le,
        right_op: Callable[[Any, Any], bool] = operator.lt,
        **kwargs: Any,
    ) -> None:
        for name, given in (("var_type", var_type), ("min_value", min_value), ("max_value", max_value)):
            if given is None:
                raise ParameterException(f"NumericalParameter needs {name}")
        super().__init__(default, **kwargs)
        self.var_type: type = var_type  # type: ignore[assignment]
        self.min_value = min_value
        self.max_value = max_value
        self.left_op = left_op
        self.right_op = right_op
        self.permitted_range = _format_range(self.var_type, min_value, max_value, left_op, right_op)

    def _check_range(self, value: Any, shown: object) -> Any:
        if self.left_op(self.min_value, value) and self.right_op(value, self.max_value):
            return value
        raise ParameterValueError(f"{shown} is not in the set of {self.permitted_range}")

    def parse(self, text: str) -> Any:
        try:
            value = self.var_type(text)
        except (TypeError, ValueError):
            raise invalid(text, self.var_type.__name__) from None
        return self._check_range(value, text)

    def normalize(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.parse(value)
        if type(value) is not self.var_type:
            try:
                value = self.var_type(value)
            except (TypeError, ValueError):
                raise invalid(value, self.var_type.__name__) from None
        return self._check_range(value, value)

    def help_suffix(self) -> str:
        return f"permitted values: {self.permitted_range}"


class OptionalNumericalParameter(OptionalParameterMixin[Any], NumericalParameter):
    """A ``NumericalParameter`` that may be None."""

    @property
    def expected_type(self) -> type:
        return self.var_type


class ChoiceParameter(Parameter[Any]):
    """A value of type ``var_type`` that must be one of ``choices``."""

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        choices: Iterable[Any] | None = None,
        var_type: type = str,
        **kwargs: Any,
    ) -> None:
        if choices is None:
            raise ParameterException("ChoiceParameter needs choices")
        self.choices: tuple[Any, ...] = tuple(dict.fromkeys(choices))  # keeps order, drops repeats
        self.var_type = var_type
        wrong = [choice for choice in self.choices if type(choice) is not var_type]
        if wrong:
            raise ParameterException(f"choices {wrong!r} are not of type {var_type.__name__}")
        self._choice_set = frozenset(self.choices)
        super().__init__(default, **kwargs)

    def _choices_text(self) -> str:
        return "{" + ", ".join(str(choice) for choice in self.choices) + "}"

    def _check_choice(self, value: Any) -> Any:
        if value in self._choice_set:
            return value
        raise ParameterValueError(f"{value!r} is not a valid choice from {self._choices_text()}")

    def _convert(self, text: str) -> Any:
        try:
            return self.var_type(text)
        except (TypeError, ValueError):
            raise invalid(text, self.var_type.__name__) from None

    def parse(self, text: str) -> Any:
        return self._check_choice(self._convert(text))

    def normalize(self, value: Any) -> Any:
        if isinstance(value, str) and self.var_type is not str:
            value = self._convert(value)
        return self._check_choice(value)

    def help_suffix(self) -> str:
        return f"Choices: {self._choices_text()}"


class OptionalChoiceParameter(OptionalParameterMixin[Any], ChoiceParameter):
    """A ``ChoiceParameter`` that may be None."""

    @property
    def expected_type(self) -> type:
        return self.var_type


class ChoiceListParameter(ChoiceParameter):
    """A comma-separated list of choices; the value is a tuple (empty text -> ())."""

    separator = ","

    def parse(self, text: str) -> tuple[Any, ...]:
        if text == "":
            return ()
        return tuple(self._check_choice(self._convert(item)) for item in text.split(self.separator))

    def normalize(self, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            return self.parse(value)
        return tuple(ChoiceParameter.normalize(self, item) for item in value)

    def serialize(self, value: Sequence[Any]) -> str:
        return self.separator.join(str(item) for item in value)


class EnumParameter(Parameter[Any]):
    """A member of ``enum``, written by name on the command line."""

    def __init__(self, default: Any = NO_VALUE, *, enum: type[Enum] | None = None, **kwargs: Any) -> None:
        if enum is None:
            raise ParameterException("EnumParameter needs enum=<an Enum class>")
        self.enum = enum
        super().__init__(default, **kwargs)

    def _member(self, name: str) -> Enum:
        try:
            return self.enum[name]
        except KeyError:
            names = ", ".join(self.enum.__members__)
            raise invalid(name, self.enum.__name__, f"choose from {names}") from None

    def parse(self, text: str) -> Enum:
        return self._member(text)

    def serialize(self, value: Enum) -> str:
        return value.name

    def normalize(self, value: Any) -> Enum:
        if isinstance(value, self.enum):
            return value
        if isinstance(value, str):
            return self._member(value)
        try:
            return self.enum(value)
        except ValueError:
            raise invalid(value, self.enum.__name__) from None

    def help_suffix(self) -> str:
        return "Choices: {" + ", ".join(self.enum.__members__) + "}"


class EnumListParameter(EnumParameter):
    """A comma-separated list of ``enum`` member names; the value is a tuple (empty text -> ())."""

    separator = ","

    def parse(self, text: str) -> tuple[Enum, ...]:  # type: ignore[override]
        if text == "":
            return ()
        return tuple(self._member(name) for name in text.split(self.separator))

    def serialize(self, value: Sequence[Enum]) -> str:  # type: ignore[override]
        return self.separator.join(member.name for member in value)

    def normalize(self, value: Any) -> tuple[Enum, ...]:  # type: ignore[override]
        if isinstance(value, str):
            return self.parse(value)
        return tuple(EnumParameter.normalize(self, item) for item in value)


class PathParameter(Parameter[Path]):
    """A ``pathlib.Path``; ``absolute=True`` makes it absolute, ``exists=True`` requires it to exist."""

    def __init__(
        self, default: Any = NO_VALUE, *, absolute: bool = False, exists: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.absolute = absolute
        self.exists = exists

    def parse(self, text: str) -> Path:
        return self.normalize(text)

    def normalize(self, value: Any) -> Path:
        try:
            path = Path(value)
        except TypeError:
            raise invalid(value, "path") from None
        if self.absolute:
            path = path.absolute()
        if self.exists and not path.exists():
            raise ParameterValueError(f"The path {path} does not exist")
        return path


class OptionalPathParameter(OptionalParameterMixin[Path], PathParameter):  # type: ignore[misc]
    """A ``PathParameter`` that may be None."""

    expected_type = (str, Path)

    def _wants_type_check(self) -> bool:
        return False  # every accepted value is converted to the expected type, so never warns (as luigi)


class StepParameter(Parameter["type[Step]"]):
    """A Step *class*, written as its family name on the command line."""

    def parse(self, text: str) -> type[Step]:
        import importlib

        # Imported lazily: the registry imports the step module, which imports parameters.
        registry = importlib.import_module("trunq.core.registry")
        unknown_step_error = getattr(registry, "UnknownStepError", LookupError)
        try:
            return registry.get_step_cls(text)
        except unknown_step_error as error:
            raise ParameterValueError(str(error) or f"unknown step family {text!r}") from None

    def serialize(self, value: type[Step]) -> str:
        return value.get_step_family()

    def normalize(self, value: Any) -> type[Step]:
        if isinstance(value, type):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise ParameterValueError(f"{value!r} is not a step class")
