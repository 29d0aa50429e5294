"""Stopping long-running commands: SIGTERM / SIGINT / SIGKILL end them within a bound, leave no
child behind, and leave their state files readable."""

from __future__ import annotations

import json
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
SCHEDULE = "[schedule]\nstate_file = st.json\n[schedule.nightly]\ncron = 0 1 * * *\ncommand = Hello\n"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_schedule_run_stops(tmp_path: Path, started: list[subprocess.Popen], signum: int) -> None:
    (tmp_path / "trunq.cfg").write_text(SCHEDULE)
    env = {**os.environ, "HOME": str(tmp_path)}
    process = subprocess.Popen([TRUNQ, "schedule", "run", "--poll", "30"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started.append(process)
    ready = process.stdout.readline()  # the start-up line is the ready marker
    assert "trunq schedule: 1 schedule(s)" in ready
    children = psutil.Process(process.pid).children(recursive=True)
    sent = time.monotonic()
    os.kill(process.pid, signum)
    _, err = process.communicate(timeout=10)
    assert time.monotonic() - sent < 5  # not the 30 s poll
    assert process.returncode == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
    assert "Traceback" not in err
    wait_for(lambda: not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children),
             what="the daemon's children to exit")
    state = tmp_path / "st.json"
    if state.exists():
        json.loads(state.read_text())  # consistent: a complete JSON document
