"""The Parameter base class, its exceptions and the Optional* mixin.

A parameter knows how to turn command-line/config text into a value (``parse``), a value
back into text (``serialize``) and any accepted value into its canonical, hashable form
(``normalize``). Where a value comes from (constructor, CLI, config, default) is decided by
``trunq/step.py``, not here.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Generic, overload

from trunq.core.parameters.frozen import recursively_freeze

if TYPE_CHECKING:
    from typing import Self

    from typing_extensions import TypeVar

    # A bare ``Parameter()`` is a string parameter (PEP 696 default, checker-only).
    T = TypeVar("T", default=str)
else:
    from typing import TypeVar

    T = TypeVar("T")


class _NoValue:
    """Type of the ``NO_VALUE`` sentinel: "no default was given"."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NO_VALUE"  # unpickles to the same module-level singleton


NO_VALUE: Any = _NoValue()


class ParameterVisibility(IntEnum):
    """Who may see a parameter value: everyone, the scheduler only, or nobody outside the worker."""

    PUBLIC = 0
    HIDDEN = 1
    PRIVATE = 2

    @classmethod
    def has_value(cls, value: int) -> bool:
        return any(value == member.value for member in cls)

    def serialize(self) -> int:
        return self.value


class ParameterException(Exception):
    """Base class of every parameter error."""


class MissingParameterException(ParameterException):
    """A required parameter got no value from any source."""


class UnknownParameterException(ParameterException):
    """A value was given for a parameter the step does not declare."""


class DuplicateParameterException(ParameterException):
    """The same parameter received a value twice (e.g. positionally and by keyword)."""


class OptionalParameterTypeWarning(UserWarning):
    """An Optional* parameter got a value that is neither None nor of its expected type."""


class UnconsumedParameterWarning(UserWarning):
    """A ``[Family]`` config section has a key that is not a parameter of that step."""


class ParameterValueError(ParameterException, ValueError):
    """Text or a value that a parameter type cannot accept. Also a ``ValueError``."""


def invalid(text: object, what: str, hint: str = "") -> ParameterValueError:
    """Build the standard "'abc' is not a valid integer" error."""
    suffix = f" ({hint})" if hint else ""
    return ParameterValueError(f"{text!r} is not a valid {what}{suffix}")


_creation_counter = itertools.count()


class Parameter(Generic[T]):
    """A step parameter whose value is a ``str`` (and the base of every other type)."""

    is_bool: bool = False
    is_optional: bool = False

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        significant: bool = True,
        description: str | None = None,
        positional: bool = True,
        always_in_help: bool = False,
        batch_method: Callable[[Iterable[T]], T] | None = None,
        visibility: ParameterVisibility = ParameterVisibility.PUBLIC,
        config_path: dict[str, str] | None = None,
    ) -> None:
        self.default = default
        self.significant = significant
        self.description = description
        self.positional = positional
        self.always_in_help = always_in_help
        self.batch_method = batch_method
        self.visibility = ParameterVisibility(visibility)
        self.config_path = config_path
        # Positional order of parameters follows their creation order, across all classes.
        self._order: int = next(_creation_counter)

    if TYPE_CHECKING:
        # Checker-only: on a Step, ``self.n`` is the value and ``MyStep.n`` the Parameter.
        # At runtime there is no ``__get__``: a Step keeps values in its instance __dict__,
        # which is found before the class attribute, so attribute access costs nothing extra.
        @overload
        def __get__(self, instance: None, owner: type | None = None) -> Self: ...
        @overload
        def __get__(self, instance: object, owner: type | None = None) -> T: ...
        def __get__(self, instance: object, owner: type | None = None) -> Any: ...

    @property
    def has_default(self) -> bool:
        return self.default is not NO_VALUE

    @property
    def is_batchable(self) -> bool:
        return self.batch_method is not None

    def parse(self, text: str) -> T:
        """Turn command-line or config text into a value."""
        return text  # type: ignore[return-value]

    def serialize(self, value: T) -> str:
        """Turn a value into text that ``parse`` turns back into the same value."""
        return str(value)

    def normalize(self, value: Any) -> T:
        """Return the canonical, hashable form of ``value``."""
        if type(value) is str:
            return value  # type: ignore[return-value]
        return recursively_freeze(value)

    def _wants_type_check(self) -> bool:
        """Whether ``_warn_on_wrong_param_type`` can warn (luigi: only the plain ``Parameter``)."""
        return type(self) is Parameter

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        """Warn (UserWarning) when a plain ``Parameter`` is given something other than a str."""
        if not isinstance(param_value, str):
            warnings.warn(f'Parameter "{param_name}" with value "{param_value}" is not of type string.', stacklevel=5)

    def next_in_enumeration(self, value: T) -> T | None:
        """The value after ``value`` (for ``1..7``-style summaries), or None if not enumerable."""
        return None

    def parse_list(self, texts: Iterable[str]) -> T:
        """Parse several texts and combine them with ``batch_method`` (used for batched runs)."""
        if self.batch_method is None:
            raise ParameterException(
                f"{type(self).__name__} has no batch_method, so values cannot be combined"
            )
        texts = list(texts)
        if not texts:
            raise ParameterValueError("parse_list needs at least one value")
        return self.batch_method(self.parse(text) for text in texts)

    def help_suffix(self) -> str:
        """Type-specific text appended to the description in ``--help`` (e.g. the choices)."""
        return ""

    def help_text(self) -> str:
        parts = [part for part in (self.description, self.help_suffix()) if part]
        return " ".join(parts)

    def __repr__(self) -> str:
        default = f"default={self.default!r}" if self.has_default else "no default"
        return f"{type(self).__name__}({default})"


class OptionalParameterMixin(Generic[T]):
    """Makes a parameter type accept None: ``parse("") -> None``, ``serialize(None) -> ""``.

    Put it first in the bases: ``class OptionalIntParameter(OptionalParameterMixin, IntParameter)``.
    """

    is_optional = True
    expected_type: Any = type(None)  # a type or a tuple of types; subclasses set theirs

    def __init__(self, default: Any = None, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)  # type: ignore[call-arg]

    if TYPE_CHECKING:
        # Checker-only, as on Parameter: on a Step ``self.n`` is ``T | None``.
        @overload
        def __get__(self, instance: None, owner: type | None = None) -> Self: ...
        @overload
        def __get__(self, instance: object, owner: type | None = None) -> T | None: ...
        def __get__(self, instance: object, owner: type | None = None) -> Any: ...

    def parse(self, text: str) -> Any:
        if text == "" or text is None:
            return None
        return super().parse(text)  # type: ignore[misc]

    def serialize(self, value: Any) -> str:
        if value is None:
            return ""
        return super().serialize(value)  # type: ignore[misc]

    def normalize(self, value: Any) -> Any:
        if value is None:
            return None
        return super().normalize(value)  # type: ignore[misc]

    def next_in_enumeration(self, value: Any) -> Any:
        if value is None:
            return None
        return super().next_in_enumeration(value)  # type: ignore[misc]

    def _wants_type_check(self) -> bool:
        return True

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        expected = self.expected_type
        if param_value is None or isinstance(param_value, expected):
            return
        names = [kind.__name__ for kind in expected] if isinstance(expected, tuple) else [expected.__name__]
        wanted = f'type "{names[0]}"' if len(names) == 1 else "any type in " + ", ".join(f'"{n}"' for n in names)
        warnings.warn(
            f'{type(self).__name__} "{param_name}" with value "{param_value}" is not of {wanted} or None.',
            OptionalParameterTypeWarning,
            stacklevel=5,
        )


class StrParameter(Parameter[str]):
    """A parameter whose value is a ``str``."""


class OptionalParameter(OptionalParameterMixin[str], Parameter[str]):  # type: ignore[misc]
    """A string parameter that may be None (empty text means None)."""

    expected_type = str


class OptionalStrParameter(OptionalParameterMixin[str], StrParameter):  # type: ignore[misc]
    """A string parameter that may be None (empty text means None)."""

    expected_type = str
