"""The kill/term/int matrix of `trunq tasklist run`: it stops within a bound with one line and
130 / 143 (-9 for SIGKILL), no traceback, and a rerun finishes the work with every task run
exactly once (tasks already running finish in their own sessions and are adopted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.waiting import wait_for

TRUNQ = str(Path(sys.executable).with_name("trunq"))
TASKLIST_FUNCS = Path(__file__).resolve().parents[1] / "tasklist"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
CLEAN_EXIT = {"tasklist": {signal.SIGINT: 130, signal.SIGTERM: 143}}


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts: killed with their whole group afterwards."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        for child in _descendants(process.pid):
            _kill(child.pid)
        if process.poll() is None:
            _kill(process.pid)
            process.wait(timeout=10)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(processes: list[psutil.Process]) -> bool:
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def _check_stop(kind: str, signum: int, code: int, err: str) -> None:
    assert "Traceback" not in err, err
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == CLEAN_EXIT[kind][signum], (code, err)


# ---- trunq tasklist run ----------------------------------------------------------------------
# Tasks run in their own sessions and outlive their driver on purpose (TaskList is crash-safe):
# the next `run` adopts a task still running instead of starting it again, so nothing runs twice.
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_tasklist_run_stops_and_a_rerun_finishes_the_work(tmp_path: Path, started: list, signum: int) -> None:
    sys.path.insert(0, str(TASKLIST_FUNCS))
    try:
        from tasklist_funcs import read_calls, record_when_released

        from trunq.tasklist import TaskList, defer
    finally:
        sys.path.remove(str(TASKLIST_FUNCS))
    log, flag = tmp_path / "calls.log", tmp_path / "go"
    tasklist = TaskList(tmp_path / "tl")
    for value in range(3):
        tasklist.schedule(defer(record_when_released, str(log), value, str(flag)))
    env = {**os.environ, "PYTHONPATH": str(TASKLIST_FUNCS)}
    command = [TRUNQ, "tasklist", "run", str(tasklist.directory), "-n", "2"]
    with open(tmp_path / "err.txt", "w") as err_file:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err_file,
                                   start_new_session=True)
    started.append(process)
    wait_for(lambda: _claimed(tasklist.directory) == 2, 30, "two tasks running")
    helpers = _descendants(process.pid)
    sent = time.monotonic()
    os.kill(process.pid, signum)
    code = process.wait(timeout=20)
    assert time.monotonic() - sent < 20
    _check_stop("tasklist", signum, code, (tmp_path / "err.txt").read_text())
    assert read_calls(log) == []  # nothing finished while it ran
    flag.write_text("go")
    rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(read_calls(log)) == ["0", "1", "2"]  # every task ran exactly once, none lost
    status = subprocess.run([TRUNQ, "tasklist", "status", str(tasklist.directory)], capture_output=True,
                            text=True, timeout=60)
    assert status.stdout.splitlines()[0] == "todo=0 running=0 done=3 fail=0"
    wait_for(lambda: _gone(helpers), 20, "the first run's runners and tasks to exit once done")


def _claimed(directory: Path) -> int:
    """Tasks running now: each has a claim file (what `trunq tasklist status` counts)."""
    return len(list((Path(directory) / ".claims").glob("*.json")))
