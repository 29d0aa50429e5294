"""Each executed task is also a Run: ``<tasklist>/runs/<uuid>/`` in the Run folder format.

The folder holds ``config_for_run.json`` and ``<uuid>.out`` / ``<uuid>.err`` (the task's own
stdout and stderr, written there directly by the task process). The config uses the same
fields as ``trunq.runs.Run`` (ISO-8601 UTC times; ``pid``/``pgid``/``pid_start``/``host`` name the
task's process group so ``trunq cancel`` can kill it), so ``trunq logs`` and ``trunq.runs.Run(path=...)``
read it. It is written through ``trunq.runs.layout`` (the one Run config writer), which is
light enough for the task process.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trunq.runs import layout
from trunq.runs.layout import CONFIG_FILE, RunStatus, RunType

from .graph import PartOfTask, Task
from .storage import HOSTNAME, TaskPaths, process_identity, read_json


def _now() -> str:
    return datetime.now(UTC).isoformat()


def describe(task: Any) -> str:
    """A readable name for the scheduled node: ``prepare``, ``prepare[1]``, ``prepare.thing``."""
    if isinstance(task, PartOfTask):
        parent = describe(task._parent)
        return f"{parent}.{task._key}" if task.kind == "attr" else f"{parent}[{task._key!r}]"
    if isinstance(task, Task):
        fun = task._fun
        if isinstance(fun, (Task, PartOfTask)):
            return describe(fun)
        return getattr(fun, "__qualname__", None) or type(fun).__name__
    return type(task).__name__


def child_command(paths: TaskPaths) -> list[str]:
    """The command that re-runs this task by hand (``-r`` raises its error)."""
    return [sys.executable, "-m", "trunq.tasklist", str(paths.todo), str(paths.done),
            "--fail-outfile", str(paths.fail)]


def config_path(paths: TaskPaths) -> Path:
    return paths.run_dir / CONFIG_FILE


def output_paths(paths: TaskPaths) -> tuple[Path, Path]:
    return paths.run_dir / f"{paths.uuid}.out", paths.run_dir / f"{paths.uuid}.err"


def mark_running(paths: TaskPaths, fn_name: str) -> dict:
    """Called by the task process itself, once its task loaded; returns the record written."""
    me = process_identity()
    record = {
        "name": paths.uuid, "status": RunStatus.RUNNING.value, "start_time": _now(), "end_time": None,
        "run_type": RunType.TASK_RUN.value, "fn_name": fn_name, "cmds": child_command(paths),
        "upstream_artifacts": [str(paths.todo)], "downstream_artifacts": [],
        "pid": me["pid"], "pgid": me["pid"], "pid_start": me["start"], "host": HOSTNAME,
        "error": None, "traceback": None, "status_reason": None,
    }
    layout.write_config(paths.run_dir, record)
    return record


def read_status(paths: TaskPaths) -> str | None:
    record = read_json(config_path(paths))
    return record.get("status") if record else None


def mark_finished(paths: TaskPaths, result: Path, error: BaseException | None, trace: str | None,
                  reason: str | None = None, record: dict | None = None) -> None:
    """Final status; keeps a CANCELLED written by ``trunq cancel``.

    ``record`` is the caller's copy of the RUNNING record (saves a read); without it, or when
    someone else may have changed the file, the record is read from disk.
    """
    record = record or read_json(config_path(paths)) or {
        "name": paths.uuid, "start_time": None, "run_type": RunType.TASK_RUN.value, "fn_name": None,
        "cmds": child_command(paths), "upstream_artifacts": [str(paths.todo)], "host": HOSTNAME,
    }
    if record.get("status") != RunStatus.CANCELLED:
        record["status"] = (RunStatus.COMPLETED if error is None else RunStatus.ERROR).value
        record["status_reason"] = reason
    record["end_time"] = _now()
    record["downstream_artifacts"] = [str(result)]
    record["error"] = None if error is None else f"{type(error).__name__}: {error}"
    record["traceback"] = trace
    layout.write_config(paths.run_dir, record)
