"""TaskList directories in the UI: counts, and each executed task's Run with its output.

Only directories listed in ``[web] tasklist_dirs`` are shown; a task's Run is read from
``<dir>/runs/<uuid>/`` with the same confinement as the runs root (no name leaves it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trunq.web import runfiles

MAX_RUNS = 200


class UnknownTaskList(LookupError):
    """A directory that is not one of the configured TaskLists."""


def configured(settings: Any) -> list[dict[str, Any]]:
    return [{"dir": directory, **counts(Path(directory))} for directory in settings.tasklist_dirs]


def resolve(settings: Any, directory: str) -> Path:
    """The configured TaskList ``directory`` (compared after resolving links)."""
    real = os.path.realpath(directory) if directory else ""
    if real not in settings.tasklist_dirs:
        raise UnknownTaskList(f"not a configured TaskList directory: {directory!r}")
    return Path(real)


def counts(directory: Path) -> dict[str, int]:
    found = {}
    for state in ("todo", "done", "fail"):
        try:
            found[state] = sum(1 for entry in os.scandir(directory / state) if entry.name.endswith(".pkl"))
        except FileNotFoundError:
            found[state] = 0
    return found


def task_runs(directory: Path) -> list[dict[str, Any]]:
    """The newest ``MAX_RUNS`` task runs, newest first."""
    root = directory / "runs"
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.stat().st_mtime, reverse=True)
    except FileNotFoundError:
        return []
    found = []
    for entry in entries[:MAX_RUNS]:
        if entry.is_dir(follow_symlinks=False):
            summary = runfiles.run_summary(root, entry.name)
            if summary is not None:
                found.append(summary)
    return found


def task_log(directory: Path, name: str, stream: str, offset: int) -> dict[str, Any]:
    return runfiles.read_log(directory / "runs", name, stream, offset)
