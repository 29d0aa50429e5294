"""Execute one task file: the body of ``python -m trunq.tasklist INFILE OUTFILE``.

This is what runs inside a task's own process (forked by a runner, or exec'd fresh). It
never lets an error escape unrecorded: whatever happens (an exception, ``sys.exit``, a file
that does not load, a result that does not pickle) ends up as a result file written
atomically. Only a hard crash (segfault, SIGKILL) leaves no file; the supervisor then writes
the failure (see :func:`write_failure_record`).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import dill

from . import records
from .errors import ResultNotPicklable, TaskError, TaskFileCorrupt
from .graph import Task, _identity, evaluate
from .storage import TaskPaths, atomic_write, load_task

EXIT_OK = 0
EXIT_FAILED = 1


def placeholder_task(uuid: str | None = None) -> Task:
    """Stands in for a task whose file cannot be loaded, so the failure can still be recorded."""
    task = Task(_identity, (None,), {})
    task.metadata = None
    task.uuid = uuid
    return task


def _safe_error(error: BaseException) -> BaseException:
    """The error itself if it survives a dill round trip, else a TaskError describing it."""
    try:
        dill.loads(dill.dumps(error))
        return error
    except Exception:
        return TaskError(f"{type(error).__module__}.{type(error).__qualname__}: {error}")


def _is_success_exit(error: BaseException) -> bool:
    return isinstance(error, SystemExit) and error.code in (None, 0)


def execute(task: Any) -> tuple[Any, BaseException | None, str | None]:
    """Evaluate a task graph; returns (value, error, traceback text)."""
    try:
        return evaluate(task), None, None
    except BaseException as error:  # SystemExit and KeyboardInterrupt are task failures too
        if _is_success_exit(error):
            return None, None, None
        return None, error, traceback.format_exc()


def record_outcome(task: Any, value: Any, error: BaseException | None, trace: str | None, runtime: float) -> bytes:
    """Set the result fields and pickle the task; falls back to a picklable error."""
    task.returnvalue, task.errorvalue, task.traceback, task.runtime = value, error, trace, runtime
    if error is not None:
        task.errorvalue = _safe_error(error)
    try:
        return dill.dumps(task)
    except Exception as dump_error:
        task.returnvalue = None
        task.errorvalue = ResultNotPicklable(f"the result could not be pickled: {dump_error!r}")
        task.traceback = (trace or "") + traceback.format_exc()
        return dill.dumps(task)


def run_task_file(
    infile: Path,
    outfile: Path,
    fail_outfile: Path | None = None,
    sessionfile: Path | None = None,
    do_print: bool = False,
    do_raise: bool = False,
    run_paths: TaskPaths | None = None,
) -> int:
    """Run the task in ``infile``; write it with its result to ``outfile`` (or ``fail_outfile``).

    With ``run_paths``, the task's Run record is kept up to date as well.
    """
    start = time.perf_counter()
    uuid = Path(infile).name.removesuffix(".pkl")
    run_record = None
    trace: str | None
    try:
        if sessionfile:
            dill.load_session(str(sessionfile))
        task = load_task(Path(infile))
    except BaseException as load_error:
        task = placeholder_task(uuid)
        value, trace = None, traceback.format_exc()
        error: BaseException | None = TaskFileCorrupt(f"cannot load {infile}: {load_error!r}")
    else:
        if run_paths is not None:
            run_record = records.mark_running(run_paths, records.describe(task))
        value, error, trace = execute(task)
    data = record_outcome(task, value, error, trace, time.perf_counter() - start)
    failed = task.errorvalue is not None
    target = Path(fail_outfile) if failed and fail_outfile else Path(outfile)
    if run_paths is not None:
        # Written before the result: a published result always has a finished record.
        # A cancelled task is killed before it gets here, so our copy of the record is current.
        records.mark_finished(run_paths, target, task.errorvalue, task.traceback, record=run_record)
    atomic_write(target, data)
    if isinstance(error, TaskFileCorrupt) and not do_print:  # never silent: name the bad file
        print(f"error: {error}", file=sys.stderr, flush=True)
    if failed and do_print:
        print(f"Error in {uuid}: {task.errorvalue!r}\n{task.traceback or ''}", file=sys.stderr, flush=True)
    if failed and do_raise and error is not None:
        raise error
    return EXIT_FAILED if failed else EXIT_OK


def write_failure_record(todo: Path, fail: Path, error: BaseException, uuid: str, runtime: float) -> None:
    """Write ``fail`` for a task whose process died without a result."""
    try:
        task = load_task(todo)
    except Exception:
        task = placeholder_task(uuid)
    task.returnvalue, task.errorvalue, task.traceback, task.runtime = None, error, None, runtime
    atomic_write(fail, dill.dumps(task))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trunq.tasklist",
        description="Run one TaskList task file and write it, with its result, to OUTFILE.",
    )
    parser.add_argument("infile", type=Path, help="a task file, e.g. tasklist/fail/<uuid>.pkl")
    parser.add_argument("outfile", type=Path, help="where to write the finished task")
    parser.add_argument("-s", "--sessionfile", type=Path, help="a dill session to load first")
    parser.add_argument("-p", "--do_print", action="store_true", help="print errors with their traceback")
    parser.add_argument("-r", "--do_raise", action="store_true", help="re-raise the task's error")
    parser.add_argument("--fail-outfile", type=Path, help="write failed tasks here instead of OUTFILE")
    parser.add_argument("--tasklist-dir", type=Path, help="keep the task's Run record in DIR/runs/<uuid>/")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.infile.is_file():
        print(f"error: task file not found: {args.infile}", file=sys.stderr)
        return 2
    run_paths = None
    if args.tasklist_dir is not None:
        run_paths = TaskPaths(args.tasklist_dir, args.infile.name.removesuffix(".pkl"))
    return run_task_file(
        args.infile, args.outfile, args.fail_outfile, args.sessionfile, args.do_print, args.do_raise, run_paths
    )
