"""Step executions as Runs: ``with record_step(step): step.run()``.

Recording must cost a few microseconds per step, and a folder per run (mkdir + atomic JSON
write) costs ~100-150 µs of CPU on a plain disk, so a run only gets a folder when someone
will look into it:

- a quick, silent, successful step becomes one line of this process's journal
  (:mod:`trunq.runs.journal`). Inside a build loop (:func:`recording_session`) the lines
  are written in groups: at most :data:`FLUSH_AFTER` seconds (plus a watchdog tick) or
  :data:`FLUSH_LINES` lines after the step ended, and when the loop ends. A group costs one
  write() and is formatted in one tight loop (~2.5 µs a line less than one line formatted
  and written at each step's end, ~10 µs, in the engine); a kill -9 loses only the lines
  of that last fraction of a second. Outside a loop a line is written at once;
- a step that fails, or writes to stdout/stderr, gets its folder (config + ``.out``/``.err``)
  written at its end;
- a step still running after :data:`FOLDER_AFTER` seconds gets its RUNNING folder from the
  process's single watchdog thread, and its output goes straight to its files from then
  on, so ``trunq logs --follow`` works and a kill -9 leaves a run that reads as lost.

Set ``TRUNQ_RECORD_STEPS=0`` to switch recording off.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from trunq.config import recording_enabled
from trunq.core.graph import flatten, output_paths, target_paths
from trunq.runs import _fs, journal
from trunq.runs.capture import begin_block, end_block, held_routers
from trunq.runs.record import Run, RunStatus, RunType

FOLDER_AFTER = 1.0  # seconds a step runs before its RUNNING folder appears
FLUSH_AFTER = 0.2  # seconds a journal line may wait to be written with others
FLUSH_LINES = 256
WATCH_INTERVAL = 0.25
MAX_BUFFERED_CHARS = 64 * 1024  # more output than this and the folder is made at once


def record_step(step: Any, deps: list[Any] | None = None) -> AbstractContextManager[StepRecording | None]:
    """Record one execution of ``step.run()`` as a STEP run; the step's exception propagates.

    ``deps`` are the step's requirements when the caller has them (their outputs are the run's
    upstream artifacts); otherwise ``step.input()`` is used. ``with record_step(step) as
    recording:`` gives the recording (None when recording is switched off); its ``run`` is the Run.
    """
    root = _session_root
    if root is None:
        if not recording_enabled():
            return nullcontext()
        root = _runs_root()
    return StepRecording(step, deps, root)


_session_root: Path | None = None  # the runs root while a recording_session() is open


@contextmanager
def recording_session() -> Iterator[None]:
    """Around a loop running many steps: the settings are read once, the output routers stay."""
    global _session_root
    if not recording_enabled():
        yield
        return
    previous, _session_root = _session_root, _runs_root()
    try:
        with held_routers():
            yield
    finally:
        _session_root = previous
        state = _STATE
        if state is not None:
            state.flush()


class StepRecording:
    """One step execution being recorded: the output sink and artifact sink of its context.

    The fast path (a quick, silent, successful step) builds no Run object: the journal line
    is formatted straight from these fields. ``run`` builds the Run on demand (a folder is
    needed, or a caller asks).
    """

    # Class-level defaults: most recordings never change them, so they cost nothing per step.
    status = RunStatus.RUNNING
    ended_us: int | None = None
    error: str | None = None
    traceback: str | None = None
    buffered: tuple[list[str], list[str]] | None = None  # output not yet in files (stdout, stderr)
    buffered_chars = 0
    files: list[BinaryIO | None] | None = None  # set once the folder exists
    finished = False
    gave_up = False
    _run: Run | None = None

    def __init__(self, step: Any, deps: list[Any] | None, root: Path) -> None:
        self.step = step
        self.root = root
        self.upstream = _upstream_paths(step, deps)
        self.downstream = output_paths(step)  # shared, never changed: see _register_artifact

    # ---- context manager -----------------------------------------------------------------
    def __enter__(self) -> StepRecording:
        self.state = _process_state()
        self.started_us = time.time_ns() // 1000
        self.state.start(self)
        self._tokens = begin_block(self)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        end_block(self._tokens)
        self.ended_us = time.time_ns() // 1000
        if exc is None:
            self.status = RunStatus.COMPLETED
        else:
            self.status = RunStatus.ERROR
            self.error = f"{type(exc).__name__}: {exc}"
            self.traceback = "".join(traceback.format_exception(exc_type, exc, tb))
            self.add(1, self.traceback)  # where a worker's log has it: `trunq logs RUN --stderr`
        try:
            self.state.finish(self)
        except Exception as error:  # a full disk must not turn a good step into a failed one
            _warn(f"trunq: could not record step run {self.name}: {error}")
        return False

    # ---- the Run ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"{_fs.safe_name(str(self.step.step_id))}@{_compact_time(self.started_us)}"

    @property
    def run(self) -> Run:
        """The Run of this recording, built on first use and kept in step with it."""
        run = self._run
        if run is None:
            run = self._run = _StepRun.__new__(_StepRun)  # skips Run.__init__'s lookup: the name is new
            state = self.state
            run.__dict__.update(
                name=self.name, root=self.root, start_time=_datetime(self.started_us), fn_name=None, cmds=None,
                run_type=RunType.STEP_RUN, pid=state.pid, pgid=state.pgid, pid_start=state.pid_start,
                host=_fs.HOST, status_reason=None, extras={}, _capture=None, step=self._step_fields(),
            )
        run.status = self.status
        run.end_time = None if self.ended_us is None else _datetime(self.ended_us)
        run.error, run.traceback = self.error, self.traceback
        run.upstream_artifacts, run.downstream_artifacts = list(self.upstream), list(self.downstream)
        return run

    def _step_fields(self) -> dict[str, Any]:
        step = self.step
        return {"family": step.step_family, "step_id": str(step.step_id), "params": dict(step.to_str_params())}

    def journal_line(self) -> bytes:
        """The line of a quick (completed) run: compact, unless its Run was given unusual fields."""
        run = self._run
        if run is None or not (run.extras or run.status_reason):
            step, name = self.step, self.name
            step_id = str(step.step_id)
            line = journal.compact_line(
                name, "COMPLETED", self.started_us, self.ended_us,  # type: ignore[arg-type]
                self.upstream, self.downstream, step.step_family, step.to_str_params(),
                None if name.rpartition("@")[0] == step_id else step_id)  # as the reader derives it
            if line is not None:
                return line
        return journal.encode(self.run.config())

    # ---- sinks of the step's context -------------------------------------------------------
    def _register_artifact(self, path: str, direction: str) -> None:
        # The lists may be the steps' output-path memos: replaced, never appended to.
        if direction == "upstream":
            if path not in self.upstream:
                self.upstream = [*self.upstream, path]
        elif path not in self.downstream:
            self.downstream = [*self.downstream, path]

    def add(self, index: int, text: str) -> None:
        """Output of the step: buffered until the run has a folder, then written through."""
        with self.state.lock:
            if self.files is not None:
                try:
                    self._write(index, text)
                except OSError as exc:  # the step's print must not fail because its log cannot be written
                    _warn(f"trunq: could not write the log of step run {self.name}: {exc}")
                return
            if self.buffered is None:
                self.buffered = ([], [])
            self.buffered[index].append(text)
            self.buffered_chars += len(text)
            if self.buffered_chars >= MAX_BUFFERED_CHARS and not self.gave_up:
                self.try_materialise_locked()

    # ---- the folder, when the run needs one ----------------------------------------------
    def materialise_locked(self) -> None:
        """Make the run folder with the current config and the output so far."""
        run = self.run
        run.path.mkdir(parents=True, exist_ok=True)
        _fs.write_json_atomic(run.config_path, run.config())
        self.files = [None, None]
        buffered, self.buffered = self.buffered, None
        for index, chunks in enumerate(buffered or ()):
            if chunks:
                self._write(index, "".join(chunks))

    def try_materialise_locked(self) -> None:
        try:
            self.materialise_locked()
        except Exception as exc:  # keep buffering; the end of the step tries again
            self.gave_up = True
            _warn(f"trunq: could not make the folder of running step run {self.name}: {exc}")

    def _write(self, index: int, text: str) -> None:
        handle = self.files[index]  # type: ignore[index]
        if handle is None:
            path = self.run.stdout_path if index == 0 else self.run.stderr_path
            handle = self.files[index] = open(path, "ab", buffering=0)  # type: ignore[index]  # noqa: SIM115
        handle.write(text.encode("utf-8", errors="replace"))

    @property
    def quick(self) -> bool:
        """A successful step with no output and no folder: its record is a journal line."""
        return self.files is None and self.buffered_chars == 0 and self.status == RunStatus.COMPLETED

    def write_folder_locked(self) -> None:
        """The final record of a run that needs a folder."""
        try:
            if self.files is None:
                self.materialise_locked()  # also writes the buffered output
            run = self.run
            _fs.write_json_atomic(run.config_path, run.config())
        finally:
            for handle in self.files or ():
                if handle is not None:
                    handle.close()


class _StepRun(Run):
    """A Run whose folder path is only built when needed."""

    @property
    def path(self) -> Path:
        folder = self.__dict__.get("_path")
        if folder is None:
            folder = self.__dict__["_path"] = self.__dict__["root"] / self.name
        return folder

    @path.setter
    def path(self, value: Path) -> None:
        self.__dict__["_path"] = Path(value)


# ---- cheap pieces of a record ------------------------------------------------------------------
def _upstream_paths(step: Any, deps: list[Any] | None) -> list[str]:
    if deps is None:
        return target_paths(flatten(step.input()))
    if len(deps) == 1:
        return output_paths(deps[0])  # shared, never changed: see _register_artifact
    paths: list[str] = []
    for dep in deps:
        paths += output_paths(dep)
    return paths if len(set(paths)) == len(paths) else list(dict.fromkeys(paths))


_second: tuple[int, str] = (-1, "")  # an epoch second and its "%Y%m%dT%H%M%S"


def _compact_time(epoch_us: int) -> str:
    """``strftime("%Y%m%dT%H%M%S.%fZ")`` of a microsecond timestamp, the calendar part once per second."""
    global _second
    second, micro = divmod(epoch_us, 1_000_000)
    cached = _second
    if cached[0] != second:
        cached = _second = (second, time.strftime("%Y%m%dT%H%M%S", time.gmtime(second)))
    return f"{cached[1]}.{str(micro + 1_000_000)[1:]}Z"  # zero-padded: cheaper than {micro:06d}


def _datetime(epoch_us: int) -> datetime:
    second, micro = divmod(epoch_us, 1_000_000)
    return datetime.fromtimestamp(second, UTC).replace(microsecond=micro)


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


# ---- per-process state: journal descriptors, running steps, the watchdog -------------------------
class _ProcessState:
    """Created on first use in a process and dropped in a forked child (see the end of the module)."""

    def __init__(self) -> None:
        self.pid = os.getpid()  # a syscall of a few µs in some sandboxes: asked once per process
        self.pgid = _fs.own_pgid()
        self.pid_start = _fs.own_start_ticks()
        self.lock = threading.Lock()
        self.journals: dict[Path, int] = {}
        self.running: dict[int, StepRecording] = {}
        self.watchdog: threading.Thread | None = None
        # Quick runs whose journal line is not written yet. Formatting them in one go at the
        # flush costs ~3 µs a line less than formatting each at its step's end (warm code).
        self.pending: list[StepRecording] = []

    def start(self, recorder: StepRecording) -> None:
        self.running[id(recorder)] = recorder
        if self.watchdog is None:
            self.watchdog = threading.Thread(target=self._watch, name="trunq-step-watchdog", daemon=True)
            self.watchdog.start()

    def finish(self, recorder: StepRecording) -> None:
        with self.lock:
            self.running.pop(id(recorder), None)
            recorder.finished = True
            if not recorder.quick:
                recorder.write_folder_locked()
                return
            pending = self.pending
            pending.append(recorder)
            if (_session_root is None or len(pending) >= FLUSH_LINES
                    or recorder.ended_us - pending[0].ended_us >= FLUSH_AFTER * 1_000_000):  # type: ignore[operator]
                self.flush_locked()

    def flush(self) -> None:
        with self.lock:
            self.flush_locked()

    def flush_locked(self) -> None:
        """Write the pending journal lines: one write() per runs root."""
        pending, self.pending = self.pending, []
        lines: dict[Path, list[bytes]] = {}
        for recorder in pending:
            try:
                line = recorder.journal_line()
            except Exception as error:  # one step's odd parameters must not cost the others their records
                _warn(f"trunq: could not record step run {recorder.name}: {error}")
                continue
            lines.setdefault(recorder.root, []).append(line)
        for root, group in lines.items():
            try:
                os.write(self.journal_fd(root), b"".join(group))
            except OSError as error:  # a full disk must not turn good steps into failed ones
                _warn(f"trunq: could not record {len(group)} step run(s) in {root}: {error}")

    def journal_fd(self, root: Path) -> int:
        fd = self.journals.get(root)
        if fd is None:
            fd = self.journals[root] = journal.open_journal(
                root, {"pid": self.pid, "pgid": self.pgid, "pid_start": self.pid_start, "host": _fs.HOST})
        return fd

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL)
            if _STATE is not self:
                return  # this state was replaced (fork): the new one has its own watchdog
            now_us = time.time_ns() // 1000
            for recorder in list(self.running.values()):
                if (recorder.files is None and not recorder.gave_up
                        and recorder.started_us <= now_us - FOLDER_AFTER * 1_000_000):
                    self._materialise(recorder)
            pending = self.pending
            if pending and pending[0].ended_us <= now_us - FLUSH_AFTER * 1_000_000:  # type: ignore[operator]
                self.flush()

    def _materialise(self, recorder: StepRecording) -> None:
        with self.lock:
            if not recorder.finished and recorder.files is None:
                recorder.try_materialise_locked()


def _warn(message: str) -> None:
    try:
        sys.__stderr__.write(message + "\n")  # type: ignore[union-attr]  # None only without a console; caught below
    except Exception:
        pass


_STATE: _ProcessState | None = None


def _process_state() -> _ProcessState:
    global _STATE
    state = _STATE
    if state is None:  # the fork hook resets it, so no getpid() check per step
        state = _STATE = _ProcessState()
    return state


def _flush_at_exit() -> None:
    state = _STATE
    if state is not None:
        state.flush()


def _forget_parent_state() -> None:
    """After a fork: the parent's lock may be held by its watchdog, its journal and its pending
    lines are not ours (the parent writes them)."""
    global _STATE
    state, _STATE = _STATE, None
    if state is not None:
        for fd in state.journals.values():
            try:
                os.close(fd)
            except OSError:
                pass


os.register_at_fork(after_in_child=_forget_parent_state)
atexit.register(_flush_at_exit)

__all__ = ["FLUSH_AFTER", "FLUSH_LINES", "FOLDER_AFTER", "StepRecording", "record_step", "recording_enabled", "recording_session"]
