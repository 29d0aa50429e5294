"""Supervise one task: start its process in a new process group, enforce autokill, and make
sure ``done/<uuid>.pkl`` or ``fail/<uuid>.pkl`` exists afterwards.

This is the contract every backend's remote side fulfils. ``supervise(job, launch)`` is used
by the local runner processes (``launch=fork_task``: fork a warm process, ~1 ms) and can be
used by a Celery worker (``launch=exec_task``: a fresh ``python -m trunq.tasklist`` child).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from trunq import procs
from trunq.runs.layout import RunStatus

from . import records
from .child import EXIT_FAILED, placeholder_task, run_task_file, write_failure_record
from .errors import AutoKilled, WorkerDied
from .storage import TaskPaths, atomic_write


@dataclass(frozen=True)
class TaskJob:
    """Everything a supervisor needs; plain data so it can travel as JSON (e.g. in a Celery message)."""

    root: str
    uuid: str
    autokill: float | None = None
    print_errors: bool = False
    session: str | None = None

    @property
    def paths(self) -> TaskPaths:
        return TaskPaths(Path(self.root), self.uuid)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    uuid: str
    state: str  # "done" or "fail"
    reason: str  # "ok", "error", "autokilled", "died"


# fds a forked task must not keep open (the runner's command and reply pipes).
# Set by `trunq tasklist run`: runners and task processes die with the command (the Python
# API instead lets a busy runner finish its task after the driver stops).
DIE_WITH_DRIVER = "TRUNQ_TASKLIST_DIE_WITH_DRIVER"
FDS_CLOSED_IN_TASK: list[int] = []
Launcher = Callable[[TaskJob], "int | subprocess.Popen"]


def _open_outputs(paths: TaskPaths) -> tuple[int, int]:
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    out, err = records.output_paths(paths)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    return os.open(out, flags, 0o644), os.open(err, flags, 0o644)


def fork_task(job: TaskJob) -> int:
    """Fork this (warm) process; the child becomes a session leader and runs the task."""
    out, err = _open_outputs(job.paths)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child, measured through its results
        _become_task_process(job, out, err)
    os.close(out)
    os.close(err)
    return pid


def _become_task_process(job: TaskJob, out: int, err: int) -> None:
    code = EXIT_FAILED
    try:
        os.setsid()  # own session and process group: autokill's killpg reaches all descendants
        if os.environ.get(DIE_WITH_DRIVER):
            procs.die_with_parent()
        for fd in FDS_CLOSED_IN_TASK:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (devnull, out, err):
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        paths = job.paths
        code = run_task_file(paths.todo, paths.done, paths.fail, None, job.print_errors, False, paths)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def exec_task(job: TaskJob) -> subprocess.Popen:
    """Start a fresh interpreter for the task (the portable launcher, for remote workers)."""
    paths = job.paths
    out, err = _open_outputs(paths)
    command = [*records.child_command(paths), "--tasklist-dir", job.root]
    if job.print_errors:
        command.append("-p")
    if job.session:
        command += ["-s", job.session]
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
    finally:
        os.close(out)
        os.close(err)


def wait_for_exit(pid: int, timeout: float | None) -> bool:
    """Wait until ``pid`` exits, without reaping it; False on timeout."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return _poll_for_exit(pid, timeout)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)


def _poll_for_exit(pid: int, timeout: float | None) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.002)
    return True


def kill_group(pgid: int) -> None:
    procs.signal_group(pgid, signal.SIGKILL)


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"the task process was killed by signal {name} without writing a result"
    return f"the task process exited with code {os.waitstatus_to_exitcode(status)} without writing a result"


def supervise(job: TaskJob, launch: Launcher = fork_task) -> Outcome:
    """Run one task to a published result; never returns before ``done/`` or ``fail/`` exists."""
    paths = job.paths
    started = time.monotonic()
    handle = launch(job)
    pid = handle if isinstance(handle, int) else handle.pid
    exited = wait_for_exit(pid, job.autokill)
    # Kill the group while the leader is still unreaped, so the pgid cannot have been reused:
    # on autokill this stops the task, otherwise it removes anything the task left behind.
    kill_group(pid)
    _, status = os.waitpid(pid, 0)
    if not isinstance(handle, int):
        handle.returncode = os.waitstatus_to_exitcode(status)
    if paths.result() is not None:
        state = "done" if paths.done.exists() else "fail"
        return Outcome(job.uuid, state, "ok" if state == "done" else "error")
    error: Exception
    if exited:
        reason, error = "died", WorkerDied(describe_exit(status))
        if records.read_status(paths) == RunStatus.CANCELLED:
            error = WorkerDied("the task was cancelled (its process group was killed)")
    else:
        reason, error = "autokilled", AutoKilled(f"the task ran longer than autokill={job.autokill} s; "
                                                 "its process group was killed")
    publish_failure(job, error, reason, time.monotonic() - started)
    return Outcome(job.uuid, "fail", reason)


def publish_failure(job: TaskJob, error: BaseException, reason: str, runtime: float,
                    isolate: bool = True) -> None:
    """Write ``fail/<uuid>.pkl`` for a task that could not write its own result."""
    paths = job.paths
    records.mark_finished(paths, paths.fail, error, None, reason)
    if not isolate:
        write_failure_record(paths.todo, paths.fail, error, job.uuid, runtime)
        return
    # Loading the todo file may import user modules: do it in a throw-away fork, so this
    # supervisor stays clean for the next task.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - forked helper
        code = 1
        try:
            write_failure_record(paths.todo, paths.fail, error, job.uuid, runtime)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0 or not paths.fail.exists():
        import dill

        task = placeholder_task(job.uuid)
        task.returnvalue, task.errorvalue, task.traceback, task.runtime = None, error, None, runtime
        atomic_write(paths.fail, dill.dumps(task))
