"""Step, WrapperStep, ExternalStep and Config: the user contract.

A Step has typed Parameters (class attributes), ``requires()``, ``output()``, ``run()`` and
``complete()``. This module does no scheduling; see ``trunq.execution.api`` for that.
"""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from trunq.core import registry
from trunq.core.compat import warn_renamed
from trunq.core.completion import is_complete
from trunq.core.graph import flatten, getpaths
from trunq.core.parameters import (
    NO_VALUE,
    DuplicateParameterException,
    MissingParameterException,
    Parameter,
    ParameterException,
    ParameterVisibility,
    UnconsumedParameterWarning,
    UnknownParameterException,
)

logger = logging.getLogger("trunq")

__all__ = [
    "Step", "WrapperStep", "ExternalStep", "Config", "DynamicRequirements",
    "namespace", "auto_namespace", "flatten", "getpaths", "externalize",
]


_handlers_registered = False


class BadRequirementError(TypeError):
    """``requires()`` returned something that is not a Step (a Target, say)."""


def namespace(namespace: str | None = None, scope: str = "") -> None:
    """Prefix the family of every step defined in modules under ``scope`` with ``namespace.``."""
    registry.set_namespace(namespace, scope)


def auto_namespace(scope: str = "") -> None:
    """Use each step's module name as its namespace."""
    registry.set_namespace("__module__", scope)


def _collect_params(cls: type) -> tuple[tuple[str, Parameter], ...]:
    found: dict[str, Parameter] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Parameter):
                found[name] = value
            elif name in found and not isinstance(value, Parameter):
                del found[name]  # a subclass replaced the parameter with a plain value
    return tuple(sorted(found.items(), key=lambda item: item[1]._order))


def refresh_params(cls: type) -> None:
    """Recompute the cached parameter tuples of ``cls`` and its subclasses.

    Call it after adding a Parameter to an existing step class (``trunq.util.inherits`` does).
    """
    params = _collect_params(cls)
    cls._params = params  # type: ignore[attr-defined]
    cls._param_names = frozenset(name for name, _ in params)  # type: ignore[attr-defined]
    cls._positional = tuple(name for name, param in params if param.positional)  # type: ignore[attr-defined]
    cls._type_checked = frozenset(  # type: ignore[attr-defined]
        name for name, param in params if param._wants_type_check()
    )
    subclass: type
    for subclass in cls.__subclasses__():
        refresh_params(subclass)


_unconsumed_warned: set[tuple[str, str]] = set()


def _warn_unconsumed(cls: type, family: str) -> None:
    """Warn once per key of a ``[family]`` config section that is no parameter of ``cls``."""
    section = registry.param_source().section(family)
    if not section:
        return
    ignored = getattr(cls, "ignore_unconsumed", ())
    for key, value in section.items():
        if key in cls._param_names or key in ignored or (family, key) in _unconsumed_warned:  # type: ignore[attr-defined]
            continue
        _unconsumed_warned.add((family, key))
        warnings.warn(
            f"The configuration contains the parameter '{key}' with value '{value}' "
            f"that is not consumed by the step '{family}'.",
            UnconsumedParameterWarning,
            stacklevel=5,
        )


def _namespace_of(cls: Any) -> str | None:
    """As luigi: a declared namespace is inherited; else the one set for the module at definition."""
    if "task_namespace" in cls.__dict__:  # luigi's spelling
        warn_renamed("task_namespace", "step_namespace", stacklevel=4)
        cls.step_namespace = cls.__dict__["task_namespace"]
    for klass in cls.__mro__:
        if klass.__dict__.get("step_namespace") is not None:
            return klass.__dict__["step_namespace"]
    space = registry.namespace_for(cls.__module__)
    return cls.__module__ if space == "__module__" else space


def _family_of(cls: Any) -> str:
    space = cls._namespace
    return f"{space}.{cls.__name__}" if space else cls.__name__


def _default_value(family: str, name: str, param: Parameter, overrides: dict[str, str] | None) -> Any:
    if overrides is not None and name in overrides:
        return _parse_text(family, name, param, overrides[name], "command line")
    config = registry.param_source()
    raw = config.get(family, name, NO_VALUE)
    if raw is not NO_VALUE:
        return _parse_text(family, name, param, raw, f"config [{family}]") if isinstance(raw, str) else raw
    if param.config_path:
        raw = config.get(param.config_path["section"], param.config_path["name"], NO_VALUE)
        if raw is not NO_VALUE:
            return _parse_text(family, name, param, raw, "config") if isinstance(raw, str) else raw
    if param.has_default:
        return param.default
    raise MissingParameterException(f"{family}: requires the {name!r} parameter to be set")


def _parse_serialized(param: Parameter, text: str) -> Any:
    """Inverse of to_str_params, where "" stands for None."""
    try:
        return param.parse(text)
    except ValueError:
        if text == "":
            return None
        raise


def _parse_text(family: str, name: str, param: Parameter, text: str, source: str) -> Any:
    try:
        return param.parse(text)
    except ValueError as exc:
        raise ParameterException(f"{family}: invalid value {text!r} for {name!r} ({source}): {exc}") from None


class _StepMeta(type):
    """Registers step classes and returns cached instances for equal constructor arguments."""

    _family: str

    @property
    def step_family(cls) -> str:  # ``MyStep.step_family`` is a string, as luigi's task_family
        return cls._family or cls.__name__

    @property
    def task_family(cls) -> str:
        warn_renamed("task_family", "step_family")
        return cls._family or cls.__name__

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # One flat tuple (cls, args, *names, *values) rather than a tuple of (name, value) pairs:
        # the key is kept for every step of the build; this saves ~190 bytes a step.
        key = (cls, args, *kwargs, *kwargs.values())
        try:
            instance = registry.cached_instance(key)
        except TypeError:  # unhashable arguments: no caching
            return super().__call__(*args, **kwargs)
        if instance is None:
            instance = super().__call__(*args, **kwargs)
            registry.remember_instance(key, instance)
        return instance


class Step(metaclass=_StepMeta):
    """A unit of work. Subclass it, declare Parameters, override requires/output/run."""

    step_namespace: ClassVar[str | None] = None
    priority: int = 0
    resources: dict[str, int] = {}
    retry_count: int | None = None
    disable_window: int | None = None
    worker_timeout: float | None = None
    max_batch_size: float = float("inf")
    accepts_messages: bool = False
    owner_email: str | list[str] | None = None
    disabled: bool = False

    _class_index: ClassVar[int] = -1
    _params: ClassVar[tuple[tuple[str, Parameter], ...]] = ()
    _param_names: ClassVar[frozenset[str]] = frozenset()
    _positional: ClassVar[tuple[str, ...]] = ()
    _type_checked: ClassVar[frozenset[str]] = frozenset()  # params whose given type may warn
    _event_callbacks: ClassVar[dict[str, list[Callable[..., Any]]]] = {}
    _family: ClassVar[str] = ""
    _namespace: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        refresh_params(cls)
        if not cls.__dict__.get("_externalized_copy"):  # a copy keeps its original's namespace
            cls._namespace = _namespace_of(cls)
        cls._family = _family_of(cls)
        if "_event_callbacks" not in cls.__dict__:
            cls._event_callbacks = {}
        if not cls.__dict__.get("_externalized_copy"):  # the family stays the original class's
            registry.register(cls)

    # ---- identity ---------------------------------------------------------------------
    @classmethod
    def get_step_family(cls) -> str:
        return cls._family or cls.__name__

    get_task_family = get_step_family

    @classmethod
    def get_step_namespace(cls) -> str | None:
        return cls._namespace

    @classmethod
    def get_task_namespace(cls) -> str | None:
        warn_renamed("get_task_namespace()", "get_step_namespace()")
        return cls._namespace

    @property
    def step_family(self) -> str:
        return type(self)._family

    @property
    def task_family(self) -> str:
        warn_renamed("task_family", "step_family")
        return type(self)._family

    @classmethod
    def get_params(cls) -> list[tuple[str, Parameter]]:
        return list(cls._params)

    @classmethod
    def get_param_names(cls, include_significant: bool = False) -> list[str]:
        return [name for name, param in cls._params if include_significant or param.significant]

    @classmethod
    def batch_param_names(cls) -> list[str]:
        return [name for name, param in cls._params if param.batch_method is not None]

    @property
    def batchable(self) -> bool:
        return any(param.batch_method is not None for _, param in self._params)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = self._resolve(args, kwargs)
        # The values as a tuple in parameter order: a dict per step costs ~120 bytes more.
        self._param_values = tuple(values.values())
        for name, value in values.items():  # not __dict__.update: that would give every step its own dict
            setattr(self, name, value)
        self._step_id: str | None = None
        self._hash: int | None = None
        self._reporter: Any = None
        self._output_targets: list[Any] | None = None  # kept by complete(); see graph.output_paths
        self._output_paths: list[str] | None = None

    @classmethod
    def get_param_values(cls, params: list[tuple[str, Any]], args: Any, kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
        """luigi's: (name, value) of ``params`` for a constructor call with ``args`` and ``kwargs``."""
        values = cls._resolve(tuple(args), dict(kwargs))
        return [(name, values[name]) for name, _ in params]

    @property
    def param_args(self) -> tuple[Any, ...]:
        """luigi's (deprecated there too): the parameter values in declaration order."""
        warnings.warn("Use of param_args has been deprecated.", DeprecationWarning, stacklevel=2)
        return self._param_values

    @property
    def task_module(self) -> str:
        """luigi's: the module to import to reach this class."""
        return type(self).__module__

    @contextmanager
    def no_unpicklable_properties(self) -> Iterator[None]:
        """luigi's: within the block the step pickles (its progress reporter is set aside)."""
        reporter, self._reporter = self._reporter, None
        try:
            yield
        finally:
            self._reporter = reporter

    @classmethod
    def _resolve(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        family = cls._family
        given = kwargs
        if args:
            positional = cls._positional
            if len(args) > len(positional):
                raise UnknownParameterException(
                    f"{family}: takes at most {len(positional)} positional parameters ({len(args)} given)"
                )
            given = dict(zip(positional, args))
            for name, value in kwargs.items():
                if name in given:
                    raise DuplicateParameterException(
                        f"{family}: parameter {name!r} was already set as a positional parameter"
                    )
                given[name] = value
        if not cls._param_names.issuperset(given):
            unknown = next(name for name in given if name not in cls._param_names)
            raise UnknownParameterException(f"{family}: unknown parameter {unknown!r}")
        overrides = registry.cli_overrides.get(family)
        values: dict[str, Any] = {}
        checked = cls._type_checked
        for name, param in cls._params:
            value = given[name] if name in given else _default_value(family, name, param, overrides)
            if checked and name in checked:
                param._warn_on_wrong_param_type(name, value)
            values[name] = None if value is None else param.normalize(value)
        _warn_unconsumed(cls, family)
        return values

    @classmethod
    def from_str_params(cls, params_str: dict[str, str]) -> Step:
        kwargs = {}
        for name, param in cls._params:
            if name in params_str:
                kwargs[name] = _parse_serialized(param, params_str[name])
        return cls(**kwargs)

    def to_str_params(
        self, only_significant: bool = False, only_public: bool = False, *, include_private: bool = False
    ) -> dict[str, str]:
        """Parameter values as text. PRIVATE ones are left out (as luigi does) unless ``include_private``:
        only code that rebuilds the step in another process of the same build asks for them."""
        result = {}
        for (name, param), value in zip(self._params, self._param_values):
            if only_significant and not param.significant:
                continue
            visibility = param.visibility
            if visibility != ParameterVisibility.PUBLIC and (
                only_public or (visibility == ParameterVisibility.PRIVATE and not include_private)
            ):
                continue
            result[name] = "" if value is None else param.serialize(value)
        return result

    @property
    def step_id(self) -> str:
        if self._step_id is None:
            params = {
                name: "" if value is None else param.serialize(value)
                for (name, param), value in zip(self._params, self._param_values)
                if param.significant and param.visibility == ParameterVisibility.PUBLIC
            }
            self._step_id = registry.step_id_str(self._family, params)
        return self._step_id

    task_id = step_id

    def _param_value(self, name: str) -> Any:
        for (known, _), value in zip(self._params, self._param_values):
            if known == name:
                return value
        raise KeyError(name)

    @property
    def param_kwargs(self) -> dict[str, Any]:
        """The parameter values the step was built with, by name (luigi's ``param_kwargs``)."""
        return {name: value for (name, _), value in zip(self._params, self._param_values)}

    def clone(self, cls: type[Step] | None = None, **kwargs: Any) -> Step:
        """A step of ``cls`` (default: this class): each of its parameters takes the value in
        ``kwargs``, else this step's attribute of that name (parameter or not), else its default.
        Keywords that are no parameter of ``cls`` are ignored, as in luigi."""
        target = cls or type(self)
        values = {}
        for name, _ in target._params:
            if name in kwargs:
                values[name] = kwargs[name]
            elif hasattr(self, name):
                values[name] = getattr(self, name)
        return target(**values)

    def __eq__(self, other: object) -> bool:
        return self is other or (type(self) is type(other) and self.step_id == other.step_id)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.step_id)
        return self._hash

    def __repr__(self) -> str:
        # luigi shows every significant parameter; PRIVATE values are kept out of logs here.
        shown = ", ".join(
            f"{name}={'' if value is None else param.serialize(value)}"
            for (name, param), value in zip(self._params, self._param_values)
            if param.significant and param.visibility != ParameterVisibility.PRIVATE
        )
        return f"{self._family}({shown})"

    # ---- the contract users override ---------------------------------------------------
    def requires(self) -> Any:
        return []

    def output(self) -> Any:
        return []

    def run(self) -> Any:
        return None

    def complete(self) -> bool:
        outputs = flatten(self.output())
        if not outputs:
            logger.info("%r has no output() and no complete(): it always runs", self)
            return False
        if all(target.exists() for target in outputs):
            return True
        self._output_targets = outputs  # it will run: its Run (and its dependents') record these paths
        return False

    def input(self) -> Any:
        return getpaths(self.requires())

    def deps(self) -> list[Step]:
        """The flattened requirements, checked to be steps."""
        found = flatten(self.requires())
        for dep in found:
            if not isinstance(dep, Step):
                raise BadRequirementError(
                    f"{self!r}.requires() returned {type(dep).__name__} {dep!r}, not a Step"
                    + (" (wrap a Target in an ExternalStep)" if hasattr(dep, "exists") else "")
                )
        return found

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> Iterable[Any]:
        raise NotImplementedError(f"{cls.get_step_family()} does not implement bulk_complete")

    def on_success(self) -> Any:
        return None

    def on_failure(self, exception: BaseException) -> str:
        text = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
        return f"Runtime error:\n{text}"

    def process_resources(self) -> dict[str, int]:
        return dict(self.resources or {})

    # ---- events ------------------------------------------------------------------------
    @classmethod
    def event_handler(cls, event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register_handler(callback: Callable[..., Any]) -> Callable[..., Any]:
            global _handlers_registered
            _handlers_registered = True
            cls._event_callbacks.setdefault(event, []).append(callback)
            return callback

        return register_handler

    @classmethod
    def remove_event_handler(cls, event: str, callback: Callable[..., Any]) -> None:
        cls._event_callbacks.get(event, []).remove(callback)

    def trigger_event(self, event: str, *args: Any) -> None:
        if not _handlers_registered:  # the common case: skip the MRO walk
            return
        for klass in type(self).__mro__:
            callbacks = klass.__dict__.get("_event_callbacks")
            if not callbacks:
                continue
            for callback in list(callbacks.get(event, ())):
                try:
                    callback(*args)
                except Exception:  # a broken handler must not fail the build
                    logger.exception("error in event handler for %s", event)

    # ---- things a running step reports (no-ops outside a run) --------------------------
    def set_status_message(self, message: str) -> None:
        if self._reporter is not None:
            self._reporter.status_message(self, message)

    def set_progress_percentage(self, percentage: float) -> None:
        if self._reporter is not None:
            self._reporter.progress(self, percentage)

    def decrease_running_resources(self, decrease: dict[str, int]) -> None:
        if self._reporter is not None:
            self._reporter.decrease_resources(self, decrease)

    def set_tracking_url(self, url: str) -> None:
        if self._reporter is not None:
            self._reporter.tracking_url(self, url)

    @property
    def scheduler_messages(self) -> Any:
        return None if self._reporter is None else self._reporter.messages(self)


class WrapperStep(Step):
    """A step that only groups others: complete when all its requirements are."""

    def complete(self) -> bool:
        return all(is_complete(dep) for dep in flatten(self.requires()))


class ExternalStep(Step):
    """Data made outside trunq: never run, only checked for completeness."""

    run = None  # type: ignore[assignment]


class Config(Step):
    """A holder of settings: parameters are read from the ``[ClassName]`` config section."""


def externalize(step_or_cls: Any) -> Any:
    """A copy of a step class (or of an instance's class) whose run() is never called."""
    if isinstance(step_or_cls, type):
        attrs = {"run": None, "__module__": step_or_cls.__module__, "_externalized_copy": True,
                 "__qualname__": step_or_cls.__qualname__}
        return type(step_or_cls.__name__, (step_or_cls,), attrs)
    copy = object.__new__(type(step_or_cls))
    copy.__dict__.update(step_or_cls.__dict__)
    copy.run = None
    return copy


class DynamicRequirements:
    """Requirements yielded from run(), with an optional cheaper completeness check."""

    def __init__(self, requirements: Any, custom_complete: Callable[[Callable[[Step], bool]], bool] | None = None):
        self.requirements = requirements
        self.flat_requirements = flatten(requirements)
        self.custom_complete = custom_complete

    @property
    def paths(self) -> Any:
        return getpaths(self.requirements)

    def complete(self, complete_fn: Callable[[Step], bool] | None = None) -> bool:
        check = complete_fn or (lambda step: step.complete())
        if self.custom_complete is not None:
            return bool(self.custom_complete(check))
        return all(check(step) for step in self.flat_requirements)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.flat_requirements)
