"""The worker side of Runs and TaskList on the Celery pool: two supervisor tasks.

Both tasks only supervise: the work itself runs in a fresh child process in a **new process
group**, exactly the child the local backends start, so that killing the group (cancel,
autokill) also reaches grandchildren. Both assume the run folder / TaskList directory is on a
filesystem shared by clients and workers: messages carry paths, never code. Function runs
and task files hold dill pickles, which only a trusted cluster should load.

- ``trunq.supervise_run``: ``python -m trunq.runs.child RUN_DIR --token T``; cancels when the
  run's ``.cancel`` marker appears (SIGTERM to the group, SIGKILL after a grace period) and
  records why a child ended without a final status.
- ``trunq.supervise_tasklist_job``: ``trunq.tasklist.supervise`` with a fresh interpreter
  (autokill, ``done/``/``fail/`` published atomically); its Celery result is the Outcome.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from celery import Celery, Task

from trunq import procs
from trunq.runs import _fs, locks
from trunq.runs.clusters import record_end
from trunq.runs.control import cancel_requested, mark_cancelled
from trunq.runs.record import Run, RunStatus
from trunq.tasklist import TaskJob, records, supervise
from trunq.tasklist.storage import process_identity, read_json
from trunq.tasklist.supervisor import kill_group, wait_for_exit

RUN_TASK = "trunq.supervise_run"
TASKLIST_TASK = "trunq.supervise_tasklist_job"
CANCEL_POLL_S = 0.1
CANCEL_GRACE_S = 1.0
SKIPPED = "skipped"


def register(celery_app: Celery) -> None:
    """Add both tasks to a Celery app (called by ``trunq.tasks.app.create_app``)."""
    # acks_late: a message whose worker died before starting it is delivered again; both
    # tasks check that their run / claim is still theirs, so a late copy does nothing.
    celery_app.task(name=RUN_TASK, ignore_result=True, acks_late=True)(supervise_run)
    celery_app.task(name=TASKLIST_TASK, bind=True, acks_late=True)(supervise_tasklist_job)


# ---- Runs ---------------------------------------------------------------------------------------
def supervise_run(message: dict[str, Any]) -> str:
    """Start the run's child in its own process group, watch for cancel, record the end."""
    folder, token = Path(message["run_dir"]), str(message["token"])
    if not _take_over_run(folder, token):
        return SKIPPED
    if cancel_requested(folder):  # cancelled while queued: never start
        mark_cancelled(folder)
        locks.release(folder, token)
        return str(RunStatus.CANCELLED)
    run = Run(path=folder)
    cwd = message.get("cwd")
    try:
        with open(run.stdout_path, "ab") as out, open(run.stderr_path, "ab") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "trunq.runs.child", str(folder), "--token", token],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True, close_fds=True,
                cwd=cwd if cwd and os.path.isdir(cwd) else None,
            )
    except OSError as exc:  # record it: nobody else would release this run
        run.status, run.status_reason, run.end_time = RunStatus.ERROR, "not_started", _fs.utc_now()
        run.error = f"the worker could not start the run: {exc}"
        run.write_config()
        locks.release(folder, token)
        return str(RunStatus.ERROR)
    _watch_for_cancel(child, folder)
    return _record_end(child, folder, token)


def _take_over_run(folder: Path, token: str) -> bool:
    """Become the owner of a queued run; False if the folder moved on (reused, started, gone)."""
    try:
        recorded = _fs.read_json(folder / Run.RUN_CONFIG_FILE)
    except (OSError, ValueError):
        return False
    holder = locks.read(folder)
    if recorded.get("launch_id") != token or recorded.get("status") != RunStatus.NOT_STARTED:
        return False
    if not holder or holder.get("token") != token:
        return False
    locks.adopt(folder, token)
    run = Run(path=folder)
    # Raw fields, not Run's reading: the client that queued us may be gone, which is fine now.
    run.status, run.status_reason, run.error = RunStatus.NOT_STARTED, None, None
    run.pid, run.pid_start, run.host = os.getpid(), _fs.own_start_ticks(), _fs.HOST
    run.extras["supervisor"] = {"pid": os.getpid(), "host": _fs.HOST}
    run.write_config()
    return True


def _watch_for_cancel(child: subprocess.Popen, folder: Path) -> None:
    """Return when the child exited; on cancel, stop its whole group first."""
    while not wait_for_exit(child.pid, CANCEL_POLL_S):
        if cancel_requested(folder):
            _signal_group(child.pid, signal.SIGTERM)
            wait_for_exit(child.pid, CANCEL_GRACE_S)
            break
    if cancel_requested(folder):
        # The leader is not reaped yet, so its pgid cannot have been reused: kill what is left.
        kill_group(child.pid)


def _signal_group(pgid: int, signum: int) -> None:
    procs.signal_group(pgid, signum)


def _record_end(child: subprocess.Popen, folder: Path, token: str) -> str:
    """Reap the child; a child that died without a final status is an ERROR with its reason."""
    if not record_end(folder, token, child.wait()):
        return SKIPPED
    return str(Run(path=folder).status)


# ---- TaskList -----------------------------------------------------------------------------------
def supervise_tasklist_job(task: Task, message: dict[str, Any]) -> dict[str, str]:
    """Run one TaskList job to a published result; the return value is its Outcome."""
    job = TaskJob(**message["job"])
    task_id = task.request.id
    if not _claim_is_ours(job, task_id):
        return {"uuid": job.uuid, "state": "lost", "reason": f"{SKIPPED}: the claim belongs to another execution"}
    task.update_state(state="STARTED", meta={"supervisor": process_identity(), "worker": task.request.hostname})
    driver_path = list(message.get("sys_path") or [])
    with _extra_sys_path(driver_path):  # a failure record loads the todo file in a fork of this process
        outcome = supervise(job, launch=fresh_interpreter(driver_path))
    return asdict(outcome)


@contextmanager
def _extra_sys_path(entries: list[str]) -> Iterator[None]:
    saved = list(sys.path)
    sys.path[:0] = [entry for entry in entries if entry and entry not in saved]
    try:
        yield
    finally:
        sys.path[:] = saved


def _claim_is_ours(job: TaskJob, task_id: str | None) -> bool:
    """The driver writes the claim (naming this Celery task) before sending the message."""
    paths = job.paths
    claim = read_json(paths.claim) or {}
    executor = claim.get("executor") or {}
    return paths.todo.exists() and executor.get("task_id") == task_id


def fresh_interpreter(sys_path: list[str]) -> Any:
    """A launcher for ``supervise``: ``python -m trunq.tasklist`` seeing the driver's sys.path."""
    def launch(job: TaskJob) -> subprocess.Popen:
        paths = job.paths
        paths.run_dir.mkdir(parents=True, exist_ok=True)
        out_path, err_path = records.output_paths(paths)
        command = [*records.child_command(paths), "--tasklist-dir", job.root]
        if job.print_errors:
            command.append("-p")
        if job.session:
            command += ["-s", job.session]
        env = dict(os.environ)
        extra = [entry for entry in sys_path if entry and os.path.isdir(entry)]
        env["PYTHONPATH"] = os.pathsep.join([*extra, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, env=env)

    return launch
