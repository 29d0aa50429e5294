"""``TaskList``: a directory of scheduled task files, and the driver that runs them.

Crash safety comes from the directory alone. For every todo item the driver writes a claim
(``.claims/<uuid>.json``: which driver, which executor) before starting it, and removes the
todo file and then the claim once the result is published. A later ``run()`` reads leftovers so:

* claim of a live driver: someone else is running it, skip;
* claim of a dead driver and a published result: finished before the crash, report it now
  (it was never reported, since reporting happens after the todo file is removed);
* claim of a dead driver, executor still alive: adopt it, wait for its result;
* claim of a dead driver and executor: re-run (the only at-least-once case);
* no claim but an old result: the user copied a failed task back to ``todo/``; re-run it.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid as uuid_module
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill

from . import storage
from .backends import TaskBackend, load_backend
from .driver import Driver
from .storage import STATE_DIRS, TaskPaths, dump_task, load_task, make_layout, task_uuids


class TaskList:
    """A crash-safe list of deferred tasks kept in ``directory`` (see spec 05)."""

    def __init__(self, directory: str | os.PathLike[str], exist_ok: bool = False, pre_clean: bool = True,
                 post_clean: bool = False, logfile: str | os.PathLike[str] | None = None,
                 noschedule_if_exist: bool = False) -> None:
        self.directory = Path(directory).absolute()
        self.logfile = Path(logfile).absolute() if logfile is not None else None
        self._noschedule = False
        if self.directory.exists():
            if noschedule_if_exist:
                self._noschedule = True
            elif not exist_ok:
                raise FileExistsError(f"TaskList directory {self.directory} already exists "
                                      "(use exist_ok=True to reuse it)")
            elif pre_clean:
                self.clean()
        make_layout(self.directory)
        if post_clean:
            weakref.finalize(self, _remove_tasklist, self.directory)

    def __repr__(self) -> str:
        return f"TaskList({str(self.directory)!r})"

    def paths(self, task_uuid: str) -> TaskPaths:
        return TaskPaths(self.directory, task_uuid)

    # ---- scheduling ------------------------------------------------------------------------
    def schedule(self, task: Any, metadata: Any = None) -> str | None:
        """Write ``task`` to ``todo/<uuid>.pkl``; returns the uuid (None when scheduling is off)."""
        if self._noschedule:
            return None
        task_uuid = str(uuid_module.uuid4())
        task.errorvalue, task.returnvalue, task.metadata, task.uuid = None, None, metadata, task_uuid
        target = self.paths(task_uuid).todo
        try:
            dump_task(task, target)
        except FileNotFoundError:  # the directory was cleaned meanwhile
            make_layout(self.directory)
            dump_task(task, target)
        self.log(task_uuid, "schedule")
        return task_uuid

    # ---- running ---------------------------------------------------------------------------
    def run(self, nprocesses: int = 4, print_errors: bool = False, save_session: bool = False,
            autokill: float | None = None, *, backend: str | TaskBackend = "local") -> TaskIterator:
        """Run every todo task, ``nprocesses`` at a time; iterate to get each finished task.

        Nothing starts until the result is iterated. Each yielded task has ``returnvalue``,
        ``errorvalue`` (None on success), ``metadata``, ``runtime``, ``traceback`` and ``uuid``.
        """
        if nprocesses < 1:
            raise ValueError(f"nprocesses must be at least 1, not {nprocesses}")
        if autokill is not None and autokill <= 0:
            raise ValueError(f"autokill must be a positive number of seconds, not {autokill}")
        pending = task_uuids(self.directory / "todo")
        driver = Driver(self, pending, nprocesses, print_errors, save_session, autokill, backend)
        return TaskIterator(driver, len(pending))

    def _open_backend(self, backend: str | TaskBackend) -> TaskBackend:
        if isinstance(backend, TaskBackend):
            return backend
        options = {}
        if backend == "local" and self.logfile is not None:
            options["log_path"] = self.logfile
        return load_backend(backend, **options)

    def dump_session(self) -> str:
        target = self.directory / "session.pkl"
        tmp = target.with_name(f".session.pkl.{os.getpid()}.tmp")
        dill.dump_session(str(tmp))
        os.replace(tmp, target)
        return str(target)

    # ---- inspecting ------------------------------------------------------------------------
    def todo_tasks(self) -> Iterator[Any]:
        return self._tasks("todo")

    def done_tasks(self) -> Iterator[Any]:
        return self._tasks("done")

    def fail_tasks(self) -> Iterator[Any]:
        return self._tasks("fail")

    def _tasks(self, state: str) -> Iterator[Any]:
        for task_uuid in task_uuids(self.directory / state):
            path = self.directory / state / f"{task_uuid}{storage.SUFFIX}"
            try:
                task = load_task(path)
            except FileNotFoundError:
                continue  # moved on while we listed
            except Exception as error:
                print(f"skipping unreadable task file {path}: {error!r}", file=sys.stderr)
                continue
            yield task

    def status(self) -> dict[str, int]:
        counts = {state: len(task_uuids(self.directory / state)) for state in STATE_DIRS}
        counts["running"] = sum(1 for _ in (self.directory / ".claims").glob("*.json"))
        return counts

    def retry_failed(self) -> int:
        """Move every ``fail/`` task back to ``todo/`` (atomic renames); returns how many."""
        moved = 0
        for task_uuid in task_uuids(self.directory / "fail"):
            paths = self.paths(task_uuid)
            try:
                os.replace(paths.fail, paths.todo)
                moved += 1
            except FileNotFoundError:
                continue
        return moved

    # ---- cleaning --------------------------------------------------------------------------
    def clean(self, clean_todo: bool = True, clean_done: bool = True, clean_fail: bool = True) -> None:
        """Delete tasks; with all three flags (the default) the whole directory goes."""
        if clean_todo and clean_done and clean_fail:
            _remove_tasklist(self.directory)
            return
        for state, wanted in zip(STATE_DIRS, (clean_todo, clean_done, clean_fail)):
            if wanted:
                for task_uuid in task_uuids(self.directory / state):
                    storage.unlink_quietly(self.directory / state / f"{task_uuid}{storage.SUFFIX}")
                    shutil.rmtree(self.paths(task_uuid).run_dir, ignore_errors=True)

    # ---- logging ---------------------------------------------------------------------------
    def log(self, task_uuid: str, message: str) -> None:
        if self.logfile is None:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(self.logfile, "a", encoding="utf-8") as stream:
            stream.write(f"{stamp} {task_uuid}{storage.SUFFIX} {message}\n")


class TaskIterator:
    """The lazy result of ``TaskList.run()``: ``len()`` is the number of todo tasks at call time."""

    def __init__(self, driver: Driver, count: int) -> None:
        self._driver = driver
        self._count = count
        self._iterator: Iterator[Any] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Any]:
        if self._iterator is None:
            self._iterator = self._driver.drive()
        return self._iterator

    def __next__(self) -> Any:
        return next(iter(self))


def _remove_tasklist(directory: Path) -> None:
    """Remove what a TaskList owns; foreign files (e.g. a logfile) and their folder stay."""
    for name in (*STATE_DIRS, "runs", ".claims"):
        shutil.rmtree(directory / name, ignore_errors=True)
    storage.unlink_quietly(directory / "session.pkl")
    try:
        directory.rmdir()
    except OSError:
        pass


__all__ = ["TaskList", "TaskIterator"]
