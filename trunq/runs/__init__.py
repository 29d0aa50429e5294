"""Runs: a folder per execution (config, inputs, result, stdout/stderr) and where they execute.

>>> fn = function(summer, name="my_test_func").to(cluster("local"))
>>> fn(1, 2, run_name="my_fn_run")          # runs in a child process, returns 3
>>> with run(name="ctx_run") as r: ...      # captures output and artifacts of the block
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trunq.runs._fs import runs_root
    from trunq.runs.capture import current_run, note_artifact
    from trunq.runs.clusters import Cluster, LocalCluster, cluster
    from trunq.runs.control import cancel_run
    from trunq.runs.functions import Function, function
    from trunq.runs.record import (
        Run,
        RunError,
        RunFailed,
        RunInProgress,
        RunNotFinished,
        RunNotFound,
        RunStatus,
        RunType,
        list_runs,
        load_run,
        run,
        runs_of_step,
    )

# Each name is imported from its module on first use: recording a step run (trunq.runs.steps)
# needs few of them, and the cluster modules pull in dill and subprocess.
_HOMES = {
    "runs_root": "_fs", "current_run": "capture", "note_artifact": "capture",
    "Cluster": "clusters", "LocalCluster": "clusters", "cluster": "clusters", "cancel_run": "control",
    "Function": "functions", "function": "functions",
    **dict.fromkeys(["Run", "RunError", "RunFailed", "RunInProgress", "RunNotFinished", "RunNotFound", "RunStatus",
                     "RunType", "list_runs", "load_run", "run", "runs_of_step"], "record"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'trunq.runs' has no attribute {name!r}")
    value = getattr(import_module(f"trunq.runs.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "Cluster", "Function", "LocalCluster", "Run", "RunError", "RunFailed", "RunInProgress",
    "RunNotFinished", "RunNotFound", "RunStatus", "RunType", "cancel_run", "cluster", "current_run",
    "function", "list_runs", "load_run", "note_artifact", "run", "runs_of_step", "runs_root",
]
