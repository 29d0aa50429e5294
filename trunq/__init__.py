"""trunq: a Python workflow engine.

Write Steps (typed parameters, ``requires()``, ``output()``, ``run()``); trunq expands the
dependency graph, skips what is complete and runs the rest, locally or on Celery workers.

The public names are loaded lazily so that ``import trunq`` (and the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # steps
    "Step": "trunq.step",
    "WrapperStep": "trunq.step",
    "ExternalStep": "trunq.step",
    "Config": "trunq.step",
    "DynamicRequirements": "trunq.step",
    "namespace": "trunq.step",
    "auto_namespace": "trunq.step",
    "Event": "trunq.events",
    "Status": "trunq.status",
    # targets
    "Target": "trunq.target",
    "FileSystemTarget": "trunq.target",
    "LocalTarget": "trunq.target",
    "RemoteTarget": "trunq.remote",
    "MockTarget": "trunq.mock",
    # graph helpers
    "flatten": "trunq.graph",
    "flatten_output": "trunq.graph",
    "getpaths": "trunq.graph",
    "MixinNaiveBulkComplete": "trunq.tools.naive_bulk",
    # running
    "build": "trunq.runner",
    "run": "trunq.runner",
    "submit": "trunq.runner",
    "TrunqRunResult": "trunq.execution_summary",
    "TrunqStatusCode": "trunq.execution_summary",
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
    "MissingParameterException", "UnknownParameterException",
)
_EXPORTS.update({name: "trunq.parameter" for name in _PARAMETERS})

_OPTIONAL = {"RemoteTarget"}  # needs an extra (fsspec): not in ``from trunq import *``
__all__ = sorted(set(_EXPORTS) - _OPTIONAL) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'trunq' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
