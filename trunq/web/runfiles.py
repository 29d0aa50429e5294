"""Runs of a step and their log files, confined to the runs root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trunq.runs as trunq_runs
from trunq.runs import Run, RunError

MAX_LOG_BYTES = 256 * 1024
LOG_STREAMS = {"stdout": "out", "stderr": "err"}


class OutsideRunsRoot(ValueError):
    """A run name that would resolve outside the runs root."""


def run_folder(root: Path, name: str) -> Path:
    """The folder of run ``name``; refuses names that are paths or escape the root."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or "~" in name:
        raise OutsideRunsRoot(f"not a run name: {name!r}")
    folder = (root / name).resolve()
    if not folder.is_relative_to(root.resolve()):
        raise OutsideRunsRoot(f"not a run name: {name!r}")
    return folder


def runs_of_step(root: Path, step_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """Newest first: run folders and the journal lines of quick runs alike."""
    return [_summary(run) for run in trunq_runs.runs_of_step(step_id, limit=limit, root=root)]


def recent_runs(root: Path, limit: int = 100, status: str | None = None) -> list[dict[str, Any]]:
    """The newest runs under the root (step runs and function runs alike): needs no Redis."""
    return [_summary(run) for run in trunq_runs.list_runs(status=status or None, root=root)[:limit]]


def run_summary(root: Path, name: str) -> dict[str, Any] | None:
    run_folder(root, name)  # refuses names that escape the root
    try:
        return _summary(trunq_runs.load_run(name, root=root))
    except (OSError, ValueError, RunError):
        return None


def _summary(run: Run) -> dict[str, Any]:
    return {
        "name": run.name, "status": run.status.value, "start_time": _iso(run.start_time),
        "end_time": _iso(run.end_time), "duration": run.duration, "error": run.error,
        "traceback": run.traceback, "status_reason": run.status_reason, "host": run.host, "pid": run.pid,
        "fn_name": run.fn_name,
        "step": run.step,
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def read_log(root: Path, name: str, stream: str, offset: int = 0) -> dict[str, Any]:
    """Text of a run's stdout/stderr from byte ``offset`` (the last 256 KiB when it is bigger)."""
    suffix = LOG_STREAMS.get(stream)
    if suffix is None:
        raise ValueError(f"unknown stream {stream!r} (stdout or stderr)")
    folder = run_folder(root, name)
    if not (folder / Run.RUN_CONFIG_FILE).is_file():
        if run_summary(root, name) is not None:  # a quick run kept only in the journal: no output
            return {"text": "", "offset": 0, "size": 0, "truncated": False}
        raise FileNotFoundError(name)
    path = (folder / f"{folder.name}.{suffix}").resolve()
    if not path.is_relative_to(root.resolve()):
        raise OutsideRunsRoot(f"the {stream} of run {name!r} points outside the runs root")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {"text": "", "offset": 0, "size": 0, "truncated": False}
    start = max(0, min(offset, size))
    truncated = size - start > MAX_LOG_BYTES
    if truncated:
        start = size - MAX_LOG_BYTES
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(size - start)
    return {"text": data.decode("utf-8", errors="replace"), "offset": start + len(data), "size": size,
            "truncated": truncated}
