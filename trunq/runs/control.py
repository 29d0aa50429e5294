"""Cancelling a run: kill its whole process group and record CANCELLED.

A ``.cancel`` marker in the run folder closes the race with a child that is just starting:
the child checks for it right after recording RUNNING, and the launcher's supervisor
records CANCELLED (not a crash) for a child that died with the marker present.
"""

from __future__ import annotations

import os
from pathlib import Path

from trunq import procs
from trunq.runs import _fs, locks
from trunq.runs.record import TERMINAL, Run, RunStatus

CANCEL_MARKER = ".cancel"


def cancel_requested(folder: Path) -> bool:
    return (folder / CANCEL_MARKER).exists()


def cancel_run(run: Run, grace: float = 1.0) -> bool:
    """SIGTERM the run's process group, SIGKILL what is left after ``grace`` seconds.

    Returns False when the run had already ended.
    """
    run.refresh()
    if run.status in TERMINAL:
        return False
    (run.path / CANCEL_MARKER).touch()
    mark_cancelled(run.path)
    pgid = _fs.read_json(run.config_path).get("pgid")  # read after the marker: see the module doc
    if pgid and run.host in (None, _fs.HOST) and pgid != os.getpgid(0):
        procs.kill_group(int(pgid), grace)
    mark_cancelled(run.path)  # again: a starting child may have written RUNNING meanwhile
    holder = locks.read(run.path)
    if holder is not None and locks.is_stale(run.path, holder):
        locks.break_stale(run.path, holder)  # a live holder (a starting child) releases it itself
    return True


def mark_cancelled(folder: Path) -> None:
    record = Run(path=folder)
    if record.status == RunStatus.CANCELLED:
        return
    record.status, record.status_reason = RunStatus.CANCELLED, "cancelled_by_user"
    record.error = None
    record.end_time = record.end_time or _fs.utc_now()
    record.write_config()


def group_alive(pgid: int) -> bool:
    """True while a non-zombie process of the group exists."""
    return procs.group_alive(pgid)
