from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from trunq.tasklist import TaskList

HERE = Path(__file__).parent


@pytest.fixture
def tasklist(tmp_path: Path) -> TaskList:
    return TaskList(tmp_path / "tl")


@pytest.fixture
def call_log(tmp_path: Path) -> Path:
    return tmp_path / "calls.log"


class ProcessReaper:
    """Starts processes for a test and kills them (and their descendants) by pid afterwards."""

    def __init__(self) -> None:
        self.pids: set[int] = set()

    def track(self, pid: int) -> None:
        self.pids.add(pid)
        try:
            self.pids.update(child.pid for child in psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
        process = subprocess.Popen(args, env=env, **kwargs)
        self.pids.add(process.pid)
        return process

    def python(self, script: str, *args: str, **kwargs) -> subprocess.Popen:
        return self.popen([sys.executable, "-c", script, *args], **kwargs)

    def kill_all(self) -> None:
        for pid in list(self.pids):
            try:
                descendants = psutil.Process(pid).children(recursive=True)
            except psutil.NoSuchProcess:
                descendants = []
            for process in [*descendants]:
                _kill(process.pid)
            _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def reaper():
    tracker = ProcessReaper()
    yield tracker
    tracker.kill_all()
