"""The on-disk layout of a TaskList and the atomic file operations on it.

::

    <dir>/todo/<uuid>.pkl     scheduled, not yet finished (dill-pickled Task graph)
    <dir>/done/<uuid>.pkl     finished: returnvalue set
    <dir>/fail/<uuid>.pkl     finished: errorvalue set
    <dir>/runs/<uuid>/        the task's Run folder (config_for_run.json, <uuid>.out, <uuid>.err)
    <dir>/.claims/<uuid>.json who is executing a todo item (see tasklist.py for the resume rules)
    <dir>/session.pkl         dill session for run(save_session=True)

Every file appears atomically: it is written to a hidden ``.<name>.<pid>.<rand>.tmp`` file in
the same directory and then renamed (or hard-linked) into place, so a crash never leaves a partial ``todo``, ``done`` or ``fail`` file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dill

from trunq import procs

# fsync every file we publish, so "done" survives a power cut, not only a crash.
# TRUNQ_TASKLIST_FSYNC=0 trades that for speed (e.g. on a laptop running throw-away lists).
DURABLE = os.environ.get("TRUNQ_TASKLIST_FSYNC", "1") != "0"

STATE_DIRS = ("todo", "done", "fail")
SUFFIX = ".pkl"
HOSTNAME = procs.HOST


@dataclass(frozen=True)
class TaskPaths:
    """Where the files of one task live inside a TaskList directory."""

    root: Path
    uuid: str

    @property
    def todo(self) -> Path:
        return self.root / "todo" / f"{self.uuid}{SUFFIX}"

    @property
    def done(self) -> Path:
        return self.root / "done" / f"{self.uuid}{SUFFIX}"

    @property
    def fail(self) -> Path:
        return self.root / "fail" / f"{self.uuid}{SUFFIX}"

    @property
    def claim(self) -> Path:
        return self.root / ".claims" / f"{self.uuid}.json"

    @property
    def run_dir(self) -> Path:
        return self.root / "runs" / self.uuid

    def result(self) -> Path | None:
        """The published result file, if any (done wins if both exist)."""
        for path in (self.done, self.fail):
            if path.exists():
                return path
        return None


def is_tasklist_dir(path: Path) -> bool:
    return all((path / name).is_dir() for name in STATE_DIRS)


def make_layout(root: Path) -> None:
    for name in (*STATE_DIRS, "runs", ".claims"):
        (root / name).mkdir(parents=True, exist_ok=True)


def task_uuids(directory: Path) -> list[str]:
    """The uuids of the ``*.pkl`` files in one state directory, oldest first."""
    entries = []
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                if entry.name.endswith(SUFFIX) and not entry.name.startswith("."):
                    entries.append((entry.stat().st_mtime_ns, entry.name[: -len(SUFFIX)]))
    except FileNotFoundError:
        return []
    return [name for _, name in sorted(entries)]


def remove_stale_tmp_files(directory: Path) -> None:
    """Delete temporary files whose writer died mid-write."""
    for tmp in directory.glob(".*.tmp"):
        parts = tmp.name.rsplit(".", 3)
        if len(parts) == 4 and parts[1].isdigit() and not _signal_zero(int(parts[1])):
            _unlink(tmp)


def atomic_write(target: Path, data: bytes, durable: bool = True) -> None:
    """Publish ``data`` at ``target`` in one step (replacing any previous file)."""
    procs.atomic_write(target, data, durable=durable and DURABLE)


def atomic_create(target: Path, data: bytes, durable: bool = False) -> bool:
    """Publish ``data`` at ``target`` only if nothing is there yet; False if it existed."""
    tmp = procs.temp_path(target)
    procs.atomic_write(tmp, data, durable=durable and DURABLE)  # complete before it is linked
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    finally:
        _unlink(tmp)


def dump_task(task: Any, target: Path) -> None:
    atomic_write(target, dill.dumps(task))


def looks_intact(path: Path) -> bool:
    """A cheap check that a task file was written whole: a pickle ends with its STOP opcode.

    Reads one byte, so a status over many large results stays fast; a truncated or emptied
    file (the usual damage: a copy cut short, a full disk) fails it."""
    try:
        with open(path, "rb") as stream:
            stream.seek(-1, os.SEEK_END)
            return stream.read(1) == b"."
    except OSError:  # empty (seek before the start) or unreadable
        return False


def load_task(path: Path) -> Any:
    with open(path, "rb") as stream:
        return dill.load(stream)


def write_json(target: Path, record: dict) -> None:
    """Bookkeeping JSON (claims, run records): atomic, but not worth an fsync."""
    atomic_write(target, json.dumps(record, indent=4, default=str).encode(), durable=False)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


unlink_quietly = _unlink


# ---- process identity: "is the process that wrote this claim still alive?" -----------------


def process_identity(pid: int | None = None) -> dict:
    """pid plus start time and host: unlike a bare pid, this is never reused."""
    return procs.identity(pid).as_dict()


def identity_alive(identity: dict | None) -> bool:
    """True when the identified process still runs (and is not a zombie) on this host."""
    return procs.is_alive(identity, other_host_alive=False)


def _signal_zero(pid: int) -> bool:
    return procs.pid_alive(pid)
