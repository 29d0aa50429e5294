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

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def record_step(step: Any) -> Iterator[Run | None]:
    """Record one execution of ``step.run()`` as a STEP run; re-raises the step's exception."""
    if not recording_enabled():
        yield None
        return
    state = _process_state()
    recorder = _StepRecorder(_new_step_run(step), state)
    state.start(recorder)
    try:
        with ActiveRun(recorder.run), recorder:
            yield recorder.run
    except BaseException as exc:
        recorder.run.status = RunStatus.ERROR
        recorder.run.error = f"{type(exc).__name__}: {exc}"
        recorder.run.traceback = traceback.format_exc()
        raise
    else:
        recorder.run.status = RunStatus.COMPLETED
    finally:
        recorder.run.end_time = _fs.utc_now()
        try:
            state.finish(recorder)
        except Exception as exc:  # a full disk must not turn a good step into a failed one
            _warn(f"trunq: could not record step run {recorder.run.name}: {exc}")


def flush_step_records(timeout: float | None = 10.0) -> bool:
    """Kept for callers of the former queued writer: records are written synchronously now."""
    return True


def _new_step_run(step: Any) -> Run:
    started = _fs.utc_now()
    step_id = str(step.step_id)
    name = _fs.safe_name(f"{step_id}@{started:%Y%m%dT%H%M%S.%fZ}")
    run = Run.__new__(Run)  # skips the "load existing config" lookup of Run.__init__: the name is new
    run.__dict__.update(
        name=name, path=_runs_root() / name, status=RunStatus.RUNNING, start_time=started, end_time=None,
        fn_name=None, cmds=None, run_type=RunType.STEP_RUN,
        upstream_artifacts=_target_paths(step.input()), downstream_artifacts=_target_paths(step.output()),
        pid=os.getpid(), pgid=_fs.own_pgid(), pid_start=_fs.own_start_ticks(), host=_fs.HOST,
        error=None, traceback=None, status_reason=None, extras={}, _capture=None, _active=None,
        step={"family": step.step_family, "step_id": step_id, "params": dict(step.to_str_params())},
    )
    return run


_root_cache: tuple[str | None, str, Path] | None = None


def _runs_root() -> Path:
    """``_fs.runs_root()``, memoised on its inputs ($TRUNQ_RUNS_DIR and the cwd)."""
    global _root_cache
    key = (os.environ.get("TRUNQ_RUNS_DIR"), os.getcwd())
    cached = _root_cache
    if cached is not None and (cached[0], cached[1]) == key and key[0]:
        return cached[2]
    root = _fs.runs_root()
    _root_cache = (key[0], key[1], root)
    return root


def _target_paths(structure: Any) -> list[str]:
    step_module = sys.modules.get("trunq.step")
    flatten = getattr(step_module, "flatten", None) or _flatten
    paths: list[str] = []
    for target in flatten(structure):
        path = getattr(target, "path", None)
        if path is not None and str(path) not in paths:
            paths.append(str(path))
    return paths


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
                self._write(index, text)
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
            os.write(self.state.journal_fd(self.run.path.parent), journal.encode(self.run.config()))
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
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.journals: dict[Path, int] = {}
        self.running: dict[int, _StepRecorder] = {}
        self.watchdog: threading.Thread | None = None

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
    if state is None or state.pid != os.getpid():
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
