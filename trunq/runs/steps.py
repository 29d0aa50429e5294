"""Step executions as Runs: ``with record_step(step): step.run()``.

Recording must cost a few microseconds per step, and a folder per run (mkdir + atomic JSON
write) costs ~100-150 µs of CPU on a plain disk, so a run only gets a folder when someone
will look into it:

- a quick, silent, successful step appends one line to this process's journal
  (:mod:`trunq.runs.journal`), synchronously: nothing is queued, nothing is lost on a kill;
- a step that fails, or writes to stdout/stderr, gets its folder (config + ``.out``/``.err``)
  written at its end;
- a step still running after :data:`FOLDER_AFTER` seconds gets its RUNNING folder from the
  process's single watchdog thread, and its output goes straight to its files from then
  on, so ``trunq logs --follow`` works and a kill -9 leaves a run that reads as lost.

Set ``TRUNQ_RECORD_STEPS=0`` to switch recording off.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from trunq.runs import _fs, journal
from trunq.runs.capture import ActiveRun, Capture
from trunq.runs.record import Run, RunStatus, RunType

FOLDER_AFTER = 1.0  # seconds a step runs before its RUNNING folder appears
WATCH_INTERVAL = 0.5
MAX_BUFFERED_CHARS = 64 * 1024  # more output than this and the folder is made at once
_FALSE_VALUES = ("0", "false", "no", "off")


def recording_enabled() -> bool:
    return os.environ.get("TRUNQ_RECORD_STEPS", "1").strip().lower() not in _FALSE_VALUES


def record_step(step: Any, deps: list[Any] | None = None) -> AbstractContextManager[Run | None]:
    """Record one execution of ``step.run()`` as a STEP run; the step's exception propagates.

    ``with record_step(step) as run:`` gives the Run (None when recording is switched off).
    """
    if not recording_enabled():
        return nullcontext()
    return _StepRecording(step, deps)


class _StepRecording:
    """The context manager of :func:`record_step` (a class: cheaper than a generator)."""

    __slots__ = ("_step", "_deps", "_recorder", "_active")

    def __init__(self, step: Any, deps: list[Any] | None) -> None:
        self._step = step
        self._deps = deps
        self._recorder: _StepRecorder | None = None
        self._active: ActiveRun | None = None

    def __enter__(self) -> Run:
        state = _process_state()
        recorder = self._recorder = _StepRecorder(_new_step_run(self._step, state, self._deps), state)
        state.start(recorder)
        self._active = ActiveRun(recorder.run)
        self._active.__enter__()
        recorder.__enter__()
        return recorder.run

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        recorder, run = self._recorder, self._recorder.run  # type: ignore[union-attr]
        recorder.__exit__(exc_type, exc, tb)  # type: ignore[union-attr]
        self._active.__exit__(exc_type, exc, tb)  # type: ignore[union-attr]
        run.end_time = _fs.utc_now()
        if exc is None:
            run.status = RunStatus.COMPLETED
        else:
            run.status = RunStatus.ERROR
            run.error = f"{type(exc).__name__}: {exc}"
            run.traceback = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            recorder.state.finish(recorder)  # type: ignore[union-attr]
        except Exception as error:  # a full disk must not turn a good step into a failed one
            _warn(f"trunq: could not record step run {run.name}: {error}")
        return False


def flush_step_records(timeout: float | None = 10.0) -> bool:
    """Kept for callers of the former queued writer: records are written synchronously now."""
    return True


def _new_step_run(step: Any, state: _ProcessState, deps: list[Any] | None = None) -> Run:
    started = _fs.utc_now()
    step_id = str(step.step_id)
    name = _fs.safe_name(f"{step_id}@{_compact_time(started)}")
    run = _StepRun.__new__(_StepRun)  # skips the "load existing config" lookup of Run.__init__: the name is new
    run.__dict__.update(
        name=name, root=_runs_root(), status=RunStatus.RUNNING, start_time=started, end_time=None,
        fn_name=None, cmds=None, run_type=RunType.STEP_RUN,
        upstream_artifacts=_target_paths(step.input() if deps is None else [dep.output() for dep in deps]), downstream_artifacts=_target_paths(step.output()),
        pid=state.pid, pgid=state.pgid, pid_start=state.pid_start, host=_fs.HOST,
        error=None, traceback=None, status_reason=None, extras={}, _capture=None, _active=None,
        step={"family": step.step_family, "step_id": step_id, "params": dict(step.to_str_params())},
    )
    return run


class _StepRun(Run):
    """A Run whose folder path is only built when needed: most step runs never get a folder."""

    @property  # type: ignore[override]
    def path(self) -> Path:
        folder = self.__dict__.get("_path")
        if folder is None:
            folder = self.__dict__["_path"] = self.__dict__["root"] / self.name
        return folder

    @path.setter
    def path(self, value: Path) -> None:
        self.__dict__["_path"] = Path(value)


def _compact_time(moment: datetime) -> str:
    """``20240101T120000.123456Z``, like strftime("%Y%m%dT%H%M%S.%fZ") at a third of its cost."""
    return (f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T{moment.hour:02d}{moment.minute:02d}"
            f"{moment.second:02d}.{moment.microsecond:06d}Z")


_root_cache: tuple[str, Path] | None = None


def _runs_root() -> Path:
    """``_fs.runs_root()``, memoised while $TRUNQ_RUNS_DIR holds the same absolute path."""
    global _root_cache
    from_env = os.environ.get("TRUNQ_RUNS_DIR")
    cached = _root_cache
    if cached is not None and cached[0] == from_env:
        return cached[1]
    root = _fs.runs_root()
    if from_env and os.path.isabs(from_env):
        _root_cache = (from_env, root)
    return root


def _target_paths(structure: Any) -> list[str]:
    path = getattr(structure, "path", None)
    if path is not None:  # the common single-target case, without flattening
        return [str(path)]
    step_module = sys.modules.get("trunq.step")
    flatten = getattr(step_module, "flatten", None) or _flatten
    paths: dict[str, None] = {}  # ordered and de-duplicated in O(n)
    for target in flatten(structure):
        path = getattr(target, "path", None)
        if path is not None:
            paths[str(path)] = None
    return list(paths)


def _flatten(structure: Any) -> list[Any]:
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [item for value in structure.values() for item in _flatten(value)]
    if isinstance(structure, (list, tuple, set, frozenset)):
        return [item for value in structure for item in _flatten(value)]
    return [structure]


# ---- one step's recording ------------------------------------------------------------------------
class _StepRecorder(Capture):
    """Buffers a step's output in memory until the run gets a folder, then writes through.

    Installed as the capture of the step's context; ``add`` runs in the step's thread, the
    materialisation maybe in the watchdog's, both under the process state's lock.
    """

    def __init__(self, run: Run, state: _ProcessState) -> None:
        self.run = run
        self.state = state
        self.started = time.monotonic()
        self.buffered: tuple[list[str], list[str]] = ([], [])
        self.buffered_chars = 0
        self.files: list[BinaryIO | None] | None = None  # set once the folder exists
        self.finished = False
        self.gave_up = False
        self._token: Any = None

    def add(self, index: int, text: str) -> None:
        with self.state.lock:
            if self.files is not None:
                try:
                    self._write(index, text)
                except OSError as exc:  # the step's print must not fail because its log cannot be written
                    _warn(f"trunq: could not write the log of step run {self.run.name}: {exc}")
                return
            self.buffered[index].append(text)
            self.buffered_chars += len(text)
            if self.buffered_chars >= MAX_BUFFERED_CHARS and not self.gave_up:
                self.try_materialise_locked()

    def flush(self) -> None:
        """Called by Capture.__exit__; the end of the run is handled by ``finish_locked``."""

    @property
    def needs_folder(self) -> bool:
        return self.files is not None or self.buffered_chars > 0 or self.run.status != RunStatus.COMPLETED

    def materialise_locked(self) -> None:
        """Make the run folder with the current config and the output so far."""
        self.run.path.mkdir(parents=True, exist_ok=True)
        _fs.write_json_atomic(self.run.config_path, self.run.config())
        self.files = [None, None]
        for index in (0, 1):
            if self.buffered[index]:
                self._write(index, "".join(self.buffered[index]))
                self.buffered[index].clear()

    def try_materialise_locked(self) -> None:
        try:
            self.materialise_locked()
        except Exception as exc:  # keep buffering; the end of the step tries again
            self.gave_up = True
            _warn(f"trunq: could not make the folder of running step run {self.run.name}: {exc}")

    def _write(self, index: int, text: str) -> None:
        handle = self.files[index]  # type: ignore[index]
        if handle is None:
            path = self.run.stdout_path if index == 0 else self.run.stderr_path
            handle = self.files[index] = open(path, "ab", buffering=0)  # type: ignore[index]  # noqa: SIM115
        handle.write(text.encode("utf-8", errors="replace"))

    def finish_locked(self) -> None:
        """Write the final record: a journal line, or the folder when it needs one."""
        self.finished = True
        if not self.needs_folder:
            os.write(self.state.journal_fd(self.run.root), self.state.journal_line(self.run))
            return
        try:
            if self.files is None:
                self.materialise_locked()  # also writes the buffered output
            _fs.write_json_atomic(self.run.config_path, self.run.config())
        finally:
            for handle in self.files or ():
                if handle is not None:
                    handle.close()


# ---- per-process state: journal descriptors, running steps, the watchdog -------------------------
class _ProcessState:
    """Created on first use in a process and dropped in a forked child (see the end of the module)."""

    def __init__(self) -> None:
        self.pid = os.getpid()  # a syscall of a few µs in some sandboxes: asked once per process
        self.pgid = _fs.own_pgid()
        self.pid_start = _fs.own_start_ticks()
        self.lock = threading.Lock()
        self.journals: dict[Path, int] = {}
        self.running: dict[int, _StepRecorder] = {}
        self.watchdog: threading.Thread | None = None
        # The fields every quick, successful step run of this process shares, encoded once.
        self.shared_fields = json.dumps({
            "run_type": RunType.STEP_RUN.value, "fn_name": None, "cmds": None, "pid": self.pid, "pgid": self.pgid,
            "pid_start": self.pid_start, "host": _fs.HOST, "error": None, "traceback": None, "status_reason": None,
        })[1:-1]

    def journal_line(self, run: Run) -> bytes:
        """``run.config()`` as one JSON line; only the fields that vary per run are encoded here."""
        if run.error or run.traceback or run.status_reason or run.fn_name or run.cmds:
            return journal.encode(run.config())
        varying = {"name": run.name, "status": run.status.value, "start_time": run.start_time.isoformat(),
                   "end_time": run.end_time.isoformat(), "upstream_artifacts": run.upstream_artifacts,
                   "downstream_artifacts": run.downstream_artifacts, "step": run.step, **run.extras}
        try:
            text = json.dumps(varying)
        except TypeError:
            return journal.encode(run.config())
        return f"{text[:-1]}, {self.shared_fields}}}\n".encode()

    def start(self, recorder: _StepRecorder) -> None:
        self.running[id(recorder)] = recorder
        if self.watchdog is None:
            self.watchdog = threading.Thread(target=self._watch, name="trunq-step-watchdog", daemon=True)
            self.watchdog.start()

    def finish(self, recorder: _StepRecorder) -> None:
        with self.lock:
            self.running.pop(id(recorder), None)
            recorder.finish_locked()

    def journal_fd(self, root: Path) -> int:
        fd = self.journals.get(root)
        if fd is None:
            fd = self.journals[root] = journal.open_journal(root)
        return fd

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL)
            if _STATE is not self:
                return  # this state was replaced (fork): the new one has its own watchdog
            now = time.monotonic()
            for recorder in list(self.running.values()):
                if recorder.files is None and not recorder.gave_up and now - recorder.started >= FOLDER_AFTER:
                    self._materialise(recorder)

    def _materialise(self, recorder: _StepRecorder) -> None:
        with self.lock:
            if not recorder.finished and recorder.files is None:
                recorder.try_materialise_locked()


def _warn(message: str) -> None:
    try:
        sys.__stderr__.write(message + "\n")
    except Exception:
        pass


_STATE: _ProcessState | None = None


def _process_state() -> _ProcessState:
    global _STATE
    state = _STATE
    if state is None:  # the fork hook resets it, so no getpid() check per step
        state = _STATE = _ProcessState()
    return state


def _forget_parent_state() -> None:
    """After a fork: the parent's lock may be held by its watchdog and its journal is not ours."""
    global _STATE
    state, _STATE = _STATE, None
    if state is not None:
        for fd in state.journals.values():
            try:
                os.close(fd)
            except OSError:
                pass


os.register_at_fork(after_in_child=_forget_parent_state)

__all__ = ["FOLDER_AFTER", "flush_step_records", "record_step", "recording_enabled"]
