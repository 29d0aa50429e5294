"""Step executions as Runs: ``with record_step(step): step.run()``.

Recording must cost a few microseconds per step, and on a plain disk one mkdir plus one
atomic JSON write take ~150 µs, so the files are written by one background thread per
process. The caller only builds the record and queues it. When a step ends before the
writer reached its RUNNING record, only the final config is written. The queue is drained
at interpreter exit (and at multiprocessing worker exit); executors can call
:func:`flush_step_records` themselves. Set ``TRUNQ_RECORD_STEPS=0`` to switch recording off.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trunq.runs import _fs
from trunq.runs.capture import ActiveRun, Capture
from trunq.runs.record import Run, RunStatus, RunType

_FALSE_VALUES = ("0", "false", "no", "off")


def recording_enabled() -> bool:
    return os.environ.get("TRUNQ_RECORD_STEPS", "1").strip().lower() not in _FALSE_VALUES


@contextmanager
def record_step(step: Any) -> Iterator[Run | None]:
    """Record one execution of ``step.run()`` as a STEP run; re-raises the step's exception."""
    if not recording_enabled():
        yield None
        return
    run = _new_step_run(step)
    writer = _writer()
    writer.put(("start", run))
    try:
        with ActiveRun(run), Capture(lambda index, text: writer.put(("log", run, index, text))):
            yield run
    except BaseException as exc:
        run.status = RunStatus.ERROR
        run.error = f"{type(exc).__name__}: {exc}"
        run.traceback = traceback.format_exc()
        raise
    else:
        run.status = RunStatus.COMPLETED
    finally:
        run.end_time = _fs.utc_now()
        writer.put(("end", run))


def flush_step_records(timeout: float | None = 10.0) -> bool:
    """Wait until every queued step record is on disk; False on timeout."""
    writer = _WRITER
    if writer is None or writer.pid != os.getpid():
        return True
    return writer.drain(timeout)


def _new_step_run(step: Any) -> Run:
    started = _fs.utc_now()
    step_id = str(step.step_id)
    name = _fs.safe_name(f"{step_id}@{started:%Y%m%dT%H%M%S.%fZ}")
    run = Run.__new__(Run)  # skips the "load existing config" lookup of Run.__init__: the name is new
    run.__dict__.update(
        name=name, path=_fs.runs_root() / name, status=RunStatus.RUNNING, start_time=started, end_time=None,
        fn_name=None, cmds=None, run_type=RunType.STEP_RUN,
        upstream_artifacts=_target_paths(step.input()), downstream_artifacts=_target_paths(step.output()),
        pid=os.getpid(), pgid=_fs.own_pgid(), pid_start=_fs.own_start_ticks(), host=_fs.HOST,
        error=None, traceback=None, status_reason=None, extras={}, _capture=None, _active=None,
        step={"family": step.step_family, "step_id": step_id, "params": dict(step.to_str_params())},
    )
    return run


def _target_paths(structure: Any) -> list[str]:
    flatten = getattr(_step_module(), "flatten", None) or _flatten
    paths: list[str] = []
    for target in flatten(structure):
        path = getattr(target, "path", None)
        if path is not None and str(path) not in paths:
            paths.append(str(path))
    return paths


def _step_module() -> Any:
    import sys

    return sys.modules.get("trunq.step")


def _flatten(structure: Any) -> list[Any]:
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [item for value in structure.values() for item in _flatten(value)]
    if isinstance(structure, (list, tuple, set, frozenset)):
        return [item for value in structure for item in _flatten(value)]
    return [structure]


# ---- the background writer -----------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._made: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="trunq-step-records", daemon=True)
        self._thread.start()

    def put(self, item: tuple[Any, ...]) -> None:
        self._queue.put(item)

    def drain(self, timeout: float | None) -> bool:
        done = threading.Event()
        self._queue.put(("mark", done))
        return done.wait(timeout)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                self._handle(item)
            except Exception as exc:  # a full disk must not kill the writer or the steps
                _warn(f"trunq: could not record step run: {exc}")

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "mark":
            item[1].set()
            return
        run: Run = item[1]
        if kind == "start":
            if run.end_time is None:  # still running: make the RUNNING record visible
                self._folder(run)
                _fs.write_json_atomic(run.config_path, run.config())
        elif kind == "log":
            self._folder(run)
            target = run.stdout_path if item[2] == 0 else run.stderr_path
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(item[3])
        elif kind == "end":
            self._folder(run)
            _fs.write_json_atomic(run.config_path, run.config())
            self._made.discard(run.name)

    def _folder(self, run: Run) -> Path:
        if run.name not in self._made:
            run.path.mkdir(parents=True, exist_ok=True)
            self._made.add(run.name)
        return run.path


def _warn(message: str) -> None:
    import sys

    try:
        sys.__stderr__.write(message + "\n")
    except Exception:
        pass


_WRITER: _Writer | None = None
_WRITER_LOCK = threading.Lock()


def _writer() -> _Writer:
    global _WRITER
    writer = _WRITER
    if writer is not None and writer.pid == os.getpid():
        return writer
    with _WRITER_LOCK:  # first use in this process (or first use after a fork)
        if _WRITER is None or _WRITER.pid != os.getpid():
            _WRITER = _Writer()
            _register_exit_flush()
        return _WRITER


def _register_exit_flush() -> None:
    atexit.register(flush_step_records)
    try:
        from multiprocessing import util

        util.Finalize(None, flush_step_records, exitpriority=100)
    except Exception:
        pass


__all__ = ["flush_step_records", "record_step", "recording_enabled"]


