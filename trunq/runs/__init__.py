"""Runs: a folder per execution (config, inputs, result, stdout/stderr) and where they execute.

>>> fn = function(summer, name="my_test_func").to(cluster("local"))
>>> fn(1, 2, run_name="my_fn_run")          # runs in a child process, returns 3
>>> with run(name="ctx_run") as r: ...      # captures output and artifacts of the block
"""

from __future__ import annotations

from trunq.runs._fs import runs_root
from trunq.runs.capture import current_run, note_artifact
from trunq.runs.cluster import Cluster, LocalCluster, cluster
from trunq.runs.control import cancel_run
from trunq.runs.function import Function, function
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

__all__ = [
    "Cluster", "Function", "LocalCluster", "Run", "RunError", "RunFailed", "RunInProgress",
    "RunNotFinished", "RunNotFound", "RunStatus", "RunType", "cancel_run", "cluster", "current_run",
    "function", "list_runs", "load_run", "note_artifact", "run", "runs_of_step", "runs_root",
]
