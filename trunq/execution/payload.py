"""What travels through the broker for one step execution, and how a worker rebuilds it.

A payload is plain JSON::

    {"module": "my_steps", "family": "Aggregate", "params": {"date": "2024-01-01"},
     "members": [["Aggregate_2024_01_01_ab12", "host:1:ab:3"]], "holder": "host:1:ab:17",
     "lease_ms": 30000}

The worker imports ``module`` (only when ``$TRUNQ_STEP_MODULES`` allows it) and calls
``get_step_cls(family).from_str_params(params)``: nothing executable is unpickled.
PRIVATE parameter values are left out of ``params`` (they never reach the scheduler, logs or
run records) and travel in ``"private"`` instead, only when the step has some, so that the
worker's step runs with them.
``members`` are the ``(step_id, fencing token)`` pairs the execution is for (several for a
batch); ``holder`` owns the shared resources taken for it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from trunq.core import registry
from trunq.core.errors import PayloadError
from trunq.core.parameters import ParameterVisibility

ALLOWED_MODULES_ENV = "TRUNQ_STEP_MODULES"




def step_reference(step: Any) -> dict[str, Any]:
    """``{module, family, params[, private]}``: enough for another process to rebuild ``step``."""
    reference = {"module": type(step).__module__, "family": step.step_family, "params": step.to_str_params()}
    private = private_str_params(step)
    if private:
        reference["private"] = private
    return reference


def private_str_params(step: Any) -> dict[str, str]:
    """The PRIVATE parameter values of ``step``, as text."""
    values = step.param_kwargs
    return {
        name: "" if values[name] is None else param.serialize(values[name])  # "" stands for None
        for name, param in step.get_params() if param.visibility == ParameterVisibility.PRIVATE
    }


def make_payload(job: Any, lease_ms: int) -> dict[str, Any]:
    """The task argument for one ``trunq.execution.dispatch.Job``."""
    return {**step_reference(job.step), "members": [list(item) for item in job.lease_items],
            "holder": job.holder, "lease_ms": int(lease_ms), "cwd": os.getcwd()}


def module_allowed(module: str, allowed: str | None = None) -> bool:
    """True when ``$TRUNQ_STEP_MODULES`` (comma-separated prefixes) is unset or names it."""
    allowed = os.environ.get(ALLOWED_MODULES_ENV, "") if allowed is None else allowed
    prefixes = [prefix.strip() for prefix in allowed.split(",") if prefix.strip()]
    if not prefixes:
        return True
    return any(module == prefix or module.startswith(prefix.rstrip(".") + ".") for prefix in prefixes)


def rebuild_step(reference: dict[str, Any]) -> Any:
    """The step a ``{module, family, params}`` reference names, imported here."""
    module = str(reference.get("module") or "")
    family = str(reference.get("family") or "")
    if not module or not family:
        raise PayloadError("the task names no step module or family")
    if module == "__main__":
        raise PayloadError(f"{family} is defined in a script (__main__): move it to a module workers can import")
    if not module_allowed(module):
        raise PayloadError(f"module {module!r} is not in ${ALLOWED_MODULES_ENV} on this worker")
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise PayloadError(f"cannot import step module {module!r} on this worker: {exc}") from None
    try:
        cls = _step_class(module, family)
        params = {**(reference.get("params") or {}), **(reference.get("private") or {})}
        return cls.from_str_params(params)
    except Exception as exc:  # unknown family, unparsable parameter: the message says which
        raise PayloadError(f"cannot rebuild {family}: {exc}") from None


def _step_class(module: str, family: str) -> Any:
    """The class of ``family``; when two imported modules define it (a worker that ran steps of
    both, as luigi's examples/foo.py and execution_summary_example.py), the one of ``module``."""
    try:
        return registry.get_step_cls(family)
    except registry.AmbiguousStepError:
        import sys

        for value in vars(sys.modules[module]).values():
            family_of = getattr(value, "get_step_family", None)
            if isinstance(value, type) and value.__module__ == module and callable(family_of) \
                    and family_of() == family:
                return value
        raise
