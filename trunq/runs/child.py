"""Executes one prepared run folder: ``python -m trunq.runs.child RUN_DIR --token TOKEN``.

The folder holds ``config_for_run.json`` (run type, commands) and, for function runs,
``function.pkl`` + ``inputs.pkl``. stdout/stderr are the run's ``.out``/``.err`` files
(the launcher opened them). The child records RUNNING, executes, writes ``result.pkl``
atomically, then the final status, and finally releases the lock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from trunq.runs.layout import FUNCTION_FILE, INPUTS_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trunq.runs.child")
    parser.add_argument("run_dir")
    parser.add_argument("--token", default=None)
    options = parser.parse_args(argv)
    folder = Path(options.run_dir)

    from trunq.runs import _fs, locks
    from trunq.runs.control import cancel_requested, mark_cancelled
    from trunq.runs.record import Run, RunStatus, RunType

    run = Run(path=folder)
    if options.token and run.extras.get("launch_id") not in (None, options.token):
        return 1  # the folder already belongs to a newer execution
    if options.token:
        locks.adopt(folder, options.token)
    run.status, run.start_time, run.host = RunStatus.RUNNING, _fs.utc_now(), _fs.HOST
    run.error = run.traceback = run.status_reason = None
    run.pid, run.pgid, run.pid_start = os.getpid(), os.getpgid(0), _fs.own_start_ticks()
    run.write_config()
    if cancel_requested(folder):  # cancelled before we started: do not run at all
        mark_cancelled(folder)
        if options.token:
            locks.release(folder, options.token)
        return 1
    try:
        if run.run_type == RunType.FUNCTION_RUN:
            value = _call_function(folder)
            _fs.write_bytes_atomic(folder / Run.RESULT_FILE, _dumps(value))
            run.status = RunStatus.COMPLETED
        else:
            codes = _run_commands(run.cmds or [], python=bool(run.extras.get("python")))
            run.extras["return_codes"] = codes
            _fs.write_bytes_atomic(folder / Run.RESULT_FILE, _dumps(codes))
            failed = [code for code in codes if code != 0]
            run.status = RunStatus.ERROR if failed else RunStatus.COMPLETED
            if failed:
                run.status_reason = f"exit_code={failed[0]}"
                run.error = f"a command exited with {failed[0]}"
    except BaseException as exc:  # noqa: B036 - SystemExit/KeyboardInterrupt are failures too
        run.status = RunStatus.ERROR
        run.error = f"{type(exc).__name__}: {exc}"
        run.traceback = traceback.format_exc()
        sys.stderr.write(run.traceback)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if cancel_requested(folder):
            mark_cancelled(folder)
        elif _still_ours(run, options.token):
            run.end_time = _fs.utc_now()
            run.write_config()
        if options.token:
            locks.release(folder, options.token)
    return 0 if run.status == RunStatus.COMPLETED else 1


def _still_ours(run: Any, token: str | None) -> bool:
    """Do not overwrite a CANCELLED status written by ``trunq cancel`` meanwhile."""
    from trunq.runs.record import Run, RunStatus

    try:
        on_disk = Run(path=run.path)
    except (OSError, ValueError):
        return True
    if token and on_disk.extras.get("launch_id") not in (None, token):
        return False
    return on_disk.status != RunStatus.CANCELLED


def _call_function(folder: Path) -> Any:
    import dill

    with open(folder / FUNCTION_FILE, "rb") as handle:
        packed = dill.load(handle)
    for entry in reversed(packed["sys_path"]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    function = dill.loads(packed["function"])
    with open(folder / INPUTS_FILE, "rb") as handle:
        inputs = dill.load(handle)
    return function(*inputs["args"], **inputs["kwargs"])


def _run_commands(cmds: list[str], python: bool) -> list[int]:
    sys.stdout.flush()
    if python:
        return [subprocess.run([sys.executable, "-c", "\n".join(cmds)]).returncode]
    return [subprocess.run(command, shell=True).returncode for command in cmds]


def _dumps(value: Any) -> bytes:
    import dill

    return dill.dumps(value, recurse=True)


if __name__ == "__main__":
    sys.exit(main())
