"""A step killed in the pool (worker_timeout) takes its own subprocesses with it, as luigi's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import trunq


@pytest.fixture
def child_pid_file(tmp_path: Path):
    path = tmp_path / "child.pid"
    yield path
    if path.exists():  # the test failed: stop the child by its pid
        try:
            os.kill(int(path.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def test_a_timed_out_step_leaves_no_subprocess_behind(tmp_path: Path, child_pid_file: Path) -> None:
    class SpawnsAndHangs(trunq.Step):
        worker_timeout = 2

        def output(self):
            return trunq.LocalTarget(str(tmp_path / "never"))

        def run(self):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(97)"])
            child_pid_file.write_text(str(child.pid))
            time.sleep(30)

    assert trunq.build([SpawnsAndHangs()], workers=2) is False
    pid = int(child_pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(pid):
        assert time.monotonic() < deadline, "the step's subprocess outlived the step"
        time.sleep(0.05)
    child_pid_file.unlink()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
