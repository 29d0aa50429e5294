"""trunq: a Python workflow engine.

Write Steps (typed parameters, ``requires()``, ``output()``, ``run()``); trunq expands the
dependency graph, skips what is complete and runs the rest, locally or on Celery workers.

The public names are loaded lazily so that ``import trunq`` (and the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

# The configuration is the source of parameter defaults; importing it installs its loader
# (reading files waits until a default is first needed).
from trunq import config as _config  # noqa: F401

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # steps
    "Step": "trunq.core.step",
    "WrapperStep": "trunq.core.step",
    "ExternalStep": "trunq.core.step",
    "Config": "trunq.core.step",
    "DynamicRequirements": "trunq.core.step",
    "namespace": "trunq.core.step",
    "auto_namespace": "trunq.core.step",
    "Event": "trunq.core.events",
    "Status": "trunq.core.status",
    # targets
    "Target": "trunq.core.target",
    "FileSystemTarget": "trunq.core.target",
    "LocalTarget": "trunq.core.target",
    "RemoteTarget": "trunq.remote",
    "MockTarget": "trunq.mock",
    # graph helpers
    "flatten": "trunq.core.graph",
    "flatten_output": "trunq.core.graph",
    "getpaths": "trunq.core.graph",
    "MixinNaiveBulkComplete": "trunq.tools.naive_bulk",
    # running
    "build": "trunq.execution.api",
    "run": "trunq.execution.api",
    "submit": "trunq.execution.api",
    "TrunqRunResult": "trunq.execution.summary",
    "TrunqStatusCode": "trunq.execution.summary",
    # runs
    "Run": "trunq.runs",
    "RunStatus": "trunq.runs",
    "RunType": "trunq.runs",
    "function": "trunq.runs",
    "cluster": "trunq.runs",
    # tasklist
    "TaskList": "trunq.tasklist",
    "defer": "trunq.tasklist",
    "evaluate": "trunq.tasklist",
}

_PARAMETERS = (
    "Parameter", "StrParameter", "OptionalParameter", "OptionalStrParameter",
    "IntParameter", "OptionalIntParameter", "FloatParameter", "OptionalFloatParameter",
    "BoolParameter", "OptionalBoolParameter", "DateParameter", "OptionalDateParameter",
    "DateHourParameter", "DateMinuteParameter", "DateSecondParameter", "MonthParameter",
    "YearParameter", "DateIntervalParameter", "TimeDeltaParameter",
    "DictParameter", "OptionalDictParameter", "ListParameter", "OptionalListParameter",
    "TupleParameter", "OptionalTupleParameter", "EnumParameter", "EnumListParameter",
    "ChoiceParameter", "OptionalChoiceParameter", "ChoiceListParameter",
    "NumericalParameter", "OptionalNumericalParameter", "PathParameter", "OptionalPathParameter",
    "StepParameter", "ParameterVisibility", "ParameterException",
    "MissingParameterException", "UnknownParameterException", "DuplicateParameterException",
    "UnconsumedParameterWarning", "OptionalParameterTypeWarning",
)
_EXPORTS.update({name: "trunq.parameter" for name in _PARAMETERS})

# Submodules reachable as attributes without importing them first (``trunq.util.requires``).
_SUBMODULES = frozenset({"util", "runs", "tasklist", "tools", "format", "mock", "parameter", "target",
                         "date_interval", "errors", "worker", "rpc", "scheduler", "remote"})

_OPTIONAL = {"RemoteTarget"}  # needs an extra (fsspec): not in ``from trunq import *``
__all__ = sorted(set(_EXPORTS) - _OPTIONAL) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None and name in _luigi_names():
        from trunq.core.compat import warn_renamed

        new = _luigi_names()[name]
        warn_renamed(f"trunq.{name}", f"trunq.{new}")
        return __getattr__(new)
    if module is None:
        if name in _SUBMODULES:
            return _import_submodule(name)
        raise AttributeError(f"module 'trunq' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _import_submodule(name: str) -> Any:
    try:
        return importlib.import_module(f"{__name__}.{name}")  # the import binds it in globals()
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule exists but something it imports is missing
        raise AttributeError(f"module 'trunq' has no attribute {name!r}") from None


def _luigi_names() -> dict[str, str]:
    from trunq.core.compat import LUIGI_NAMES

    return LUIGI_NAMES


def __dir__() -> list[str]:
    return __all__
