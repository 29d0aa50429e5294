"""trunq: a Python workflow engine.

Write Steps (typed parameters, ``requires()``, ``output()``, ``run()``); trunq expands the
dependency graph, skips what is complete and runs the rest, locally or on Celery workers.

The public names are loaded lazily so that ``import trunq`` (and the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The configuration is the source of parameter defaults; importing it installs its loader
# (reading files waits until a default is first needed).
from trunq import config as _config  # noqa: F401

if TYPE_CHECKING:  # the lazy exports, spelled out for type checkers
    from trunq.core.events import (
        Event as Event,
    )
    from trunq.core.graph import (
        flatten as flatten,
    )
    from trunq.core.graph import (
        flatten_output as flatten_output,
    )
    from trunq.core.graph import (
        getpaths as getpaths,
    )
    from trunq.core.status import (
        Status as Status,
    )
    from trunq.core.step import (
        Config as Config,
    )
    from trunq.core.step import (
        DynamicRequirements as DynamicRequirements,
    )
    from trunq.core.step import (
        ExternalStep as ExternalStep,
    )
    from trunq.core.step import (
        Step as Step,
    )
    from trunq.core.step import (
        WrapperStep as WrapperStep,
    )
    from trunq.core.step import (
        auto_namespace as auto_namespace,
    )
    from trunq.core.step import (
        namespace as namespace,
    )
    from trunq.core.target import (
        FileSystemTarget as FileSystemTarget,
    )
    from trunq.core.target import (
        LocalTarget as LocalTarget,
    )
    from trunq.core.target import (
        Target as Target,
    )
    from trunq.execution.api import (
        build as build,
    )
    from trunq.execution.api import (
        run as run,
    )
    from trunq.execution.api import (
        submit as submit,
    )
    from trunq.execution.summary import (
        TrunqRunResult as TrunqRunResult,
    )
    from trunq.execution.summary import (
        TrunqStatusCode as TrunqStatusCode,
    )
    from trunq.mock import (
        MockTarget as MockTarget,
    )
    from trunq.parameter import (
        BoolParameter as BoolParameter,
    )
    from trunq.parameter import (
        ChoiceListParameter as ChoiceListParameter,
    )
    from trunq.parameter import (
        ChoiceParameter as ChoiceParameter,
    )
    from trunq.parameter import (
        DateHourParameter as DateHourParameter,
    )
    from trunq.parameter import (
        DateIntervalParameter as DateIntervalParameter,
    )
    from trunq.parameter import (
        DateMinuteParameter as DateMinuteParameter,
    )
    from trunq.parameter import (
        DateParameter as DateParameter,
    )
    from trunq.parameter import (
        DateSecondParameter as DateSecondParameter,
    )
    from trunq.parameter import (
        DictParameter as DictParameter,
    )
    from trunq.parameter import (
        DuplicateParameterException as DuplicateParameterException,
    )
    from trunq.parameter import (
        EnumListParameter as EnumListParameter,
    )
    from trunq.parameter import (
        EnumParameter as EnumParameter,
    )
    from trunq.parameter import (
        FloatParameter as FloatParameter,
    )
    from trunq.parameter import (
        IntParameter as IntParameter,
    )
    from trunq.parameter import (
        ListParameter as ListParameter,
    )
    from trunq.parameter import (
        MissingParameterException as MissingParameterException,
    )
    from trunq.parameter import (
        MonthParameter as MonthParameter,
    )
    from trunq.parameter import (
        NumericalParameter as NumericalParameter,
    )
    from trunq.parameter import (
        OptionalBoolParameter as OptionalBoolParameter,
    )
    from trunq.parameter import (
        OptionalChoiceParameter as OptionalChoiceParameter,
    )
    from trunq.parameter import (
        OptionalDateParameter as OptionalDateParameter,
    )
    from trunq.parameter import (
        OptionalDictParameter as OptionalDictParameter,
    )
    from trunq.parameter import (
        OptionalFloatParameter as OptionalFloatParameter,
    )
    from trunq.parameter import (
        OptionalIntParameter as OptionalIntParameter,
    )
    from trunq.parameter import (
        OptionalListParameter as OptionalListParameter,
    )
    from trunq.parameter import (
        OptionalNumericalParameter as OptionalNumericalParameter,
    )
    from trunq.parameter import (
        OptionalParameter as OptionalParameter,
    )
    from trunq.parameter import (
        OptionalParameterTypeWarning as OptionalParameterTypeWarning,
    )
    from trunq.parameter import (
        OptionalPathParameter as OptionalPathParameter,
    )
    from trunq.parameter import (
        OptionalStrParameter as OptionalStrParameter,
    )
    from trunq.parameter import (
        OptionalTupleParameter as OptionalTupleParameter,
    )
    from trunq.parameter import (
        Parameter as Parameter,
    )
    from trunq.parameter import (
        ParameterException as ParameterException,
    )
    from trunq.parameter import (
        ParameterVisibility as ParameterVisibility,
    )
    from trunq.parameter import (
        PathParameter as PathParameter,
    )
    from trunq.parameter import (
        StepParameter as StepParameter,
    )
    from trunq.parameter import (
        StrParameter as StrParameter,
    )
    from trunq.parameter import (
        TimeDeltaParameter as TimeDeltaParameter,
    )
    from trunq.parameter import (
        TupleParameter as TupleParameter,
    )
    from trunq.parameter import (
        UnconsumedParameterWarning as UnconsumedParameterWarning,
    )
    from trunq.parameter import (
        UnknownParameterException as UnknownParameterException,
    )
    from trunq.parameter import (
        YearParameter as YearParameter,
    )
    from trunq.remote import (
        RemoteTarget as RemoteTarget,
    )
    from trunq.runs import (
        Run as Run,
    )
    from trunq.runs import (
        RunStatus as RunStatus,
    )
    from trunq.runs import (
        RunType as RunType,
    )
    from trunq.runs import (
        cluster as cluster,
    )
    from trunq.runs import (
        function as function,
    )
    from trunq.tasklist import (
        TaskList as TaskList,
    )
    from trunq.tasklist import (
        defer as defer,
    )
    from trunq.tasklist import (
        evaluate as evaluate,
    )
    from trunq.tools.naive_bulk import (
        MixinNaiveBulkComplete as MixinNaiveBulkComplete,
    )

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
