"""The loop behind ``TaskList.run()``: claim, submit, finalize, yield (rules in tasklist.py)."""

from __future__ import annotations

import json
import sys
import time
import uuid as uuid_module
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import storage
from .child import placeholder_task
from .errors import ResultNotLoadable, WorkerDied
from .records import output_paths
from .storage import TaskPaths, atomic_create, identity_alive, load_task, process_identity, read_json
from .supervisor import TaskJob, kill_group, publish_failure

if TYPE_CHECKING:
    from pathlib import Path

    from .backends import TaskBackend
    from .tasklist import TaskList

# Iterators of this process that are running right now, by claim token. A claim naming this
# process but no live token was left by an abandoned iterator, so it counts as a dead driver.
_ACTIVE_TOKENS: set[str] = set()
ADOPT_POLL_SECONDS = 0.05
RUN, SKIP, FINALIZE, ADOPT = "run", "skip", "finalize", "adopt"


class Driver:
    def __init__(self, tasklist: TaskList, pending: list[str], nprocesses: int, print_errors: bool,
                 save_session: bool, autokill: float | None, backend: str | TaskBackend) -> None:
        self.tasklist = tasklist
        self.root = tasklist.directory
        self.pending = deque(pending)
        self.nprocesses = nprocesses
        self.print_errors = print_errors
        self.save_session = save_session
        self.autokill = autokill
        self.backend_spec = backend
        self.token = uuid_module.uuid4().hex
        self.me = {**process_identity(), "token": self.token}
        self.session: str | None = None
        self.in_flight: set[str] = set()
        self.adopted: dict[str, dict] = {}

    # ---- the loop ------------------------------------------------------------------------------
    def drive(self) -> Iterator[Any]:
        self._tidy()
        if self.save_session:
            self.session = self.tasklist.dump_session()
        self.backend = self.tasklist._open_backend(self.backend_spec)
        _ACTIVE_TOKENS.add(self.token)
        try:
            self.backend.open(self.nprocesses, self.session)
            while self.pending or self.in_flight or self.adopted:
                yield from self._start_what_fits()
                if not (self.in_flight or self.adopted):
                    continue
                timeout = ADOPT_POLL_SECONDS if self.adopted else None
                for outcome in self.backend.wait(timeout):
                    yield from self._finish(outcome.uuid, outcome.state, outcome.reason)
                yield from self._check_adopted()
        finally:
            _ACTIVE_TOKENS.discard(self.token)
            self.backend.close()

    def _start_what_fits(self) -> Iterator[Any]:
        while self.pending and self.backend.free_slots() > 0:
            task_uuid = self.pending.popleft()
            action, claim = self._decide(task_uuid)
            if action == RUN:
                self._submit(task_uuid)
            elif action == FINALIZE:  # a result an earlier driver left
                paths = TaskPaths(self.root, task_uuid)
                task = self._resumed_result(paths)
                if task is None:
                    self.pending.appendleft(task_uuid)  # decided again: it runs
                else:
                    yield self._finalize(paths, task)
            elif action == ADOPT:
                assert claim is not None  # _decide pairs ADOPT with the claim to adopt
                self.adopted[task_uuid] = claim

    # ---- claims and the resume rules -------------------------------------------------------------
    def _decide(self, task_uuid: str) -> tuple[str, dict | None]:
        paths = TaskPaths(self.root, task_uuid)
        if not paths.todo.exists():
            return SKIP, None  # finished by someone else since we listed
        if not paths.claim.exists():
            return RUN, None
        claim = read_json(paths.claim)
        if claim is None:
            storage.unlink_quietly(paths.claim)  # claims appear atomically; this is debris
            return RUN, None
        if self._driver_alive(claim.get("driver")):
            return SKIP, None
        if paths.result() is not None:
            return FINALIZE, claim
        if self.backend.executor_alive(claim.get("executor") or {}):
            return ADOPT, claim
        storage.unlink_quietly(paths.claim)
        return RUN, None

    def _driver_alive(self, driver: dict | None) -> bool:
        if not driver or not identity_alive(driver):
            return False
        if driver.get("pid") == self.me["pid"] and driver.get("start") == self.me["start"]:
            return driver.get("token") in _ACTIVE_TOKENS
        return True

    def _submit(self, task_uuid: str) -> None:
        paths = TaskPaths(self.root, task_uuid)
        executor = self.backend.reserve()
        claim = {"driver": self.me, "executor": executor, "started": time.time()}
        if not atomic_create(paths.claim, json.dumps(claim).encode()):
            self.pending.appendleft(task_uuid)  # raced with another driver: decide again
            self.backend.release(executor)
            return
        if not paths.todo.exists():  # another driver finished it between our listing and our claim
            storage.unlink_quietly(paths.claim)
            self.backend.release(executor)
            return
        # We own the item now. A result already present is from an earlier execution (the user
        # put a finished task back into todo/); it must not be mistaken for the new one.
        storage.unlink_quietly(paths.done)
        storage.unlink_quietly(paths.fail)
        job = TaskJob(str(self.root), task_uuid, self.autokill, False, self.session)
        self.backend.submit(job, executor)
        self.in_flight.add(task_uuid)
        self.tasklist.log(task_uuid, "start")

    # ---- results ---------------------------------------------------------------------------------
    def _finish(self, task_uuid: str, state: str, reason: str) -> Iterator[Any]:
        self.in_flight.discard(task_uuid)
        paths = TaskPaths(self.root, task_uuid)
        if state == "lost" and paths.result() is None:
            self._recover_lost(paths, reason)
        if reason == "autokilled":
            self.tasklist.log(task_uuid, "autokilled")
        yield self._finalize(paths)

    def _recover_lost(self, paths: TaskPaths, reason: str) -> None:
        """The executor vanished: stop what is left of the task and record the failure."""
        run_record = read_json(paths.run_dir / "config_for_run.json") or {}
        if run_record.get("pgid") and identity_alive(
                {"host": run_record.get("host"), "pid": run_record["pgid"], "start": run_record.get("pid_start")}):
            kill_group(run_record["pgid"])
        job = TaskJob(str(self.root), paths.uuid, self.autokill)
        first_line = reason.strip().splitlines()[-1] if reason.strip() else "unknown reason"
        publish_failure(job, WorkerDied(f"the task's supervisor was lost: {first_line}"), "lost", 0.0,
                        isolate=False)

    def _check_adopted(self) -> Iterator[Any]:
        for task_uuid, claim in list(self.adopted.items()):
            paths = TaskPaths(self.root, task_uuid)
            if paths.result() is not None:
                del self.adopted[task_uuid]
                yield self._finalize(paths)
            elif not self.backend.executor_alive(claim.get("executor") or {}):
                del self.adopted[task_uuid]
                if paths.result() is not None:
                    yield self._finalize(paths)
                else:
                    storage.unlink_quietly(paths.claim)
                    self.pending.appendleft(task_uuid)

    def _resumed_result(self, paths: TaskPaths) -> Any:
        """The task an earlier driver's result holds; None when a crash tore that file (the todo
        file still holds the task: it is cleared to run again rather than lost)."""
        result = paths.result()
        if result is not None:  # else gone since: decided again
            try:
                return load_task(result)
            except Exception:
                print(f"trunq tasklist: {result} cannot be read; running {paths.uuid} again", file=sys.stderr)
                storage.unlink_quietly(result)
        storage.unlink_quietly(paths.claim)
        return None

    def _finalize(self, paths: TaskPaths, task: Any = None) -> Any:
        """Load the published result (unless given), retire the todo file and the claim, then
        hand it out."""
        if task is None:
            task = self._load_result(paths, paths.result())
        if "uuid" not in vars(task):
            task.uuid = paths.uuid
        # Reporting happens only after todo/ is gone, so no task can be reported twice.
        storage.unlink_quietly(paths.todo)
        storage.unlink_quietly(paths.claim)
        failed = task.errorvalue is not None
        self.tasklist.log(paths.uuid, "fail" if failed else "done")
        self._relay_output(paths)
        if failed and self.print_errors:
            print(f"Error in {paths.uuid}: {task.errorvalue!r}\n{getattr_safe(task, 'traceback') or ''}",
                  file=sys.stderr, flush=True)
        return task

    def _load_result(self, paths: TaskPaths, result: Path | None) -> Any:
        try:
            task = load_task(result)  # type: ignore[arg-type]  # a vanished result (None) fails here too
        except Exception as error:
            task = placeholder_task(paths.uuid)
            task.returnvalue, task.traceback, task.runtime = None, None, None
            task.errorvalue = ResultNotLoadable(f"cannot load {result}: {error!r}")
        return task

    def _relay_output(self, paths: TaskPaths) -> None:
        """A task's output lives in its Run files; show it in the logfile or on our terminal."""
        out_path, err_path = output_paths(paths)
        for path, stream, label in ((out_path, sys.stdout, "stdout"), (err_path, sys.stderr, "stderr")):
            try:
                if path.stat().st_size == 0:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if self.tasklist.logfile is not None:
                self.tasklist.log(paths.uuid, f"{label}:\n{text.rstrip()}")
            else:
                stream.write(text)
                stream.flush()

    def _tidy(self) -> None:
        """Remove debris of crashed writers: temp files, and claims whose todo file is gone."""
        for state in ("todo", "done", "fail", ".claims"):
            storage.remove_stale_tmp_files(self.root / state)
        for claim_path in (self.root / ".claims").glob("*.json"):
            todo = self.root / "todo" / f"{claim_path.stem}{storage.SUFFIX}"
            if not todo.exists():
                claim = read_json(claim_path)
                if not claim or not self._driver_alive(claim.get("driver")):
                    storage.unlink_quietly(claim_path)


def getattr_safe(task: Any, name: str) -> Any:
    return vars(task).get(name)
