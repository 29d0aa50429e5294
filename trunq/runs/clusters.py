"""Where functions and commands execute: ``cluster("local")`` (child processes of this machine).

Backend seam
------------
A :class:`Cluster` prepares a run folder under its runs root, owns the ``.lock`` in it
and then calls ``self._launch(run, token)``. ``_launch`` must start
``python -m trunq.runs.child <run folder> --token <token>`` somewhere that sees the same
folder, in a new session (process group), with stdout/stderr going to the run's
``<name>.out``/``<name>.err``. Everything else (caching by name, waiting, status, result
loading, logs) reads the folder and is shared. ``_cancel(run)`` may be overridden too
(default: kill the process group recorded in the run config).

``cluster("celery")`` imports ``trunq.tasks.runs_cluster.CeleryCluster`` lazily; that class
is expected to subclass :class:`Cluster` and implement ``_launch`` with a Celery task.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import dill

from trunq.runs import _fs, locks
from trunq.runs.control import CANCEL_MARKER, cancel_requested, cancel_run, mark_cancelled
from trunq.runs.layout import FUNCTION_FILE, INPUTS_FILE, RESULT_FILE
from trunq.runs.record import (
    TERMINAL,
    Run,
    RunInProgress,
    RunNotFound,
    RunStatus,
    RunType,
    load_run,
    new_run_name,
)

_RESET_FILES = (RESULT_FILE, INPUTS_FILE, FUNCTION_FILE, CANCEL_MARKER)


class Cluster:
    """Base class: run folders, locking and caching; subclasses only launch."""

    name = "base"

    def __init__(self, runs_root: str | os.PathLike[str] | None = None) -> None:
        self._root = Path(runs_root).absolute() if runs_root is not None else None

    @property
    def runs_root(self) -> Path:
        return self._root if self._root is not None else _fs.runs_root()

    # ---- the seam ----------------------------------------------------------------------------
    def _launch(self, run: Run, token: str) -> None:
        raise NotImplementedError

    def _cancel(self, run: Run) -> bool:
        return cancel_run(run)

    # ---- public API --------------------------------------------------------------------------
    def run(self, commands: list[str], *, run_name: str | None = None) -> list[int]:
        """Run shell commands one after the other; returns their return codes."""
        started = self.submit_commands(commands, run_name=run_name)
        return started.wait().extras.get("return_codes") or _codes_or_raise(started)

    def run_python(self, commands: list[str], *, run_name: str | None = None) -> list[int]:
        """Run the lines as one Python program (``sys.executable -c``); returns ``[return code]``."""
        started = self.submit_commands(commands, run_name=run_name, python=True)
        return started.wait().extras.get("return_codes") or _codes_or_raise(started)

    def get_run(self, run_name: str) -> Run:
        return load_run(run_name, root=self.runs_root)

    def cancel(self, run_name: str) -> bool:
        """Kill the run's whole process group and mark it CANCELLED (False if it had ended)."""
        return self._cancel(self.get_run(run_name))

    def submit_commands(self, commands: list[str], *, run_name: str | None = None,
                        python: bool = False) -> Run:
        name = run_name or new_run_name("cmd")
        extras = {"python": True} if python else {}
        return self._start(name, RunType.CMD_RUN, cached=False, cmds=list(commands), extras=extras)

    def submit_function(self, fn: Any, fn_name: str, args: tuple, kwargs: dict, *,
                        run_name: str | None = None, cached: bool = False) -> Run:
        name = run_name or new_run_name(fn_name)
        # recurse=True: a lambda or closure travels by value with only the globals it uses.
        packed = {"function": dill.dumps(fn, recurse=True), "sys_path": list(sys.path)}
        files = {FUNCTION_FILE: dill.dumps(packed),
                 INPUTS_FILE: dill.dumps({"args": list(args), "kwargs": dict(kwargs)}, recurse=True)}
        return self._start(name, RunType.FUNCTION_RUN, cached=cached, fn_name=fn_name, files=files)

    # ---- shared machinery ----------------------------------------------------------------------
    def _start(self, name: str, run_type: RunType, *, cached: bool, fn_name: str | None = None,
               cmds: list[str] | None = None, files: dict[str, bytes] | None = None,
               extras: dict[str, Any] | None = None) -> Run:
        folder = self.runs_root / _fs.safe_name(name)
        token = self._own_folder(folder, cached)
        if token is None:  # a cached COMPLETED run
            return Run(path=folder)
        try:
            extras = {**(extras or {}), "launch_id": token}  # tells this execution's record from a later one
            run = self._prepare(folder, name, run_type, fn_name, cmds, files or {}, extras)
            self._launch(run, token)
        except BaseException:
            locks.release(folder, token)
            raise
        return run

    def _own_folder(self, folder: Path, cached: bool) -> str | None:
        """Take the folder's lock; None means "cached: use the COMPLETED run already there"."""
        delay = 0.01
        while True:
            if cached and _completed(folder):
                return None
            token = locks.acquire(folder)
            if token is not None:
                if cached and _completed(folder):  # finished between the check and the lock
                    locks.release(folder, token)
                    return None
                return token
            info = locks.read(folder)
            if info is None:
                continue
            if locks.is_stale(folder, info):
                locks.break_stale(folder, info)
                continue
            if not cached:
                raise RunInProgress(f"run {folder.name!r} is already running (pid {info.get('pid')})")
            time.sleep(delay)  # attach: wait for the running execution instead of starting twice
            delay = min(delay * 1.5, 0.2)

    def _prepare(self, folder: Path, name: str, run_type: RunType, fn_name: str | None,
                 cmds: list[str] | None, files: dict[str, bytes], extras: dict[str, Any]) -> Run:
        for stale in (*_RESET_FILES, f"{name}.out", f"{name}.err", Run.RUN_CONFIG_FILE):
            (folder / stale).unlink(missing_ok=True)
        for filename, payload in files.items():
            _fs.write_bytes_atomic(folder / filename, payload)
        run = Run(name=name, path=folder, run_type=run_type, fn_name=fn_name, cmds=cmds, **extras)
        run.pid, run.pid_start, run.host = os.getpid(), _fs.own_start_ticks(), _fs.HOST
        run.extras["cluster"] = self.name
        return run.write_config()


def _completed(folder: Path) -> bool:
    try:
        existing = Run(path=folder) if (folder / Run.RUN_CONFIG_FILE).exists() else None
    except (OSError, ValueError):
        return False
    return existing is not None and existing.status == RunStatus.COMPLETED and \
        (folder / Run.RESULT_FILE).exists()


def _codes_or_raise(run: Run) -> list[int]:
    if run.status != RunStatus.COMPLETED:
        from trunq.runs.record import RunFailed

        raise RunFailed(run)
    return []


class LocalCluster(Cluster):
    """Runs each execution in a child process of this machine, in its own process group."""

    name = "local"

    def _launch(self, run: Run, token: str) -> None:
        with open(run.stdout_path, "ab") as out, open(run.stderr_path, "ab") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "trunq.runs.child", str(run.path), "--token", token],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=os.getcwd(),
                start_new_session=True, close_fds=True,
            )
        watcher = threading.Thread(target=_supervise, args=(process, run.path, token),
                                   name=f"trunq-run-{run.name}", daemon=True)
        watcher.start()


def _supervise(process: subprocess.Popen, folder: Path, token: str) -> None:
    """Reap the child; if it died without a final status (kill -9, os._exit), record why."""
    record_end(folder, token, process.wait())


def record_end(folder: Path, token: str, code: int) -> bool:
    """The run process of launch ``token`` exited with ``code``: record why, if it did not.

    Returns False when the folder no longer belongs to that launch (nothing is touched).
    Shared by the local watcher thread and the Celery supervisor.
    """
    try:
        recorded = _fs.read_json(folder / Run.RUN_CONFIG_FILE)  # raw: Run() would already say "lost"
    except (OSError, ValueError):
        return False
    if recorded.get("launch_id") != token:
        return False  # the folder was already reused by a newer execution
    if cancel_requested(folder):
        mark_cancelled(folder)
    elif recorded.get("status") not in {status.value for status in TERMINAL}:
        run = Run(path=folder)
        run.status = RunStatus.ERROR
        run.status_reason = f"killed by signal {-code}" if code < 0 else f"exit_code={code}"
        run.error = f"the run process ended without a result ({run.status_reason})"
        run.end_time = _fs.utc_now()
        run.write_config()
    locks.release(folder, token)
    return True


_BACKENDS = {"local": "trunq.runs.clusters:LocalCluster", "celery": "trunq.tasks.runs_cluster:CeleryCluster"}


def cluster(name: str = "local", **options: Any) -> Cluster:
    """``cluster("local")`` or ``cluster("celery")`` (the latter lives in ``trunq.tasks``)."""
    spec = _BACKENDS.get(name)
    if spec is None:
        raise ValueError(f"unknown cluster {name!r}; choose one of {', '.join(sorted(_BACKENDS))}")
    module_name, class_name = spec.split(":")
    try:
        backend = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"cluster {name!r} is not available: {module_name}.{class_name} "
                           f"could not be loaded ({exc})") from None
    return backend(**options)


__all__ = ["Cluster", "LocalCluster", "RunNotFound", "cluster"]
