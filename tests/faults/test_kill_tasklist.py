"""The kill/term/int matrix for ``trunq tasklist run``: a bounded exit, a clean status for
TERM (143) and INT (130) without a traceback, no task process left behind, and a rerun that
resumes and completes at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.faults.killing import Started, alive, tree_hashes, unchanged
from tests.waiting import wait_for

TRUNQ = str(Path(sys.executable).with_name("trunq"))
FUNCS = '''
import os, time

def slow(workdir, value):
    open(os.path.join(workdir, f"started-{value}"), "w").close()
    if not os.path.exists(os.path.join(workdir, "fast")):
        time.sleep(120)
    return value
'''
SCHEDULE = '''
import sys
from killfuncs import slow
from trunq.tasklist import TaskList, defer
tasklist = TaskList(sys.argv[1])
for value in range(3):
    tasklist.schedule(defer(slow, sys.argv[2], value))
'''


@pytest.fixture
def started() -> Iterator[Started]:
    processes = Started()
    yield processes
    processes.kill_all()


def _env(workdir: Path) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(workdir), os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path, "HOME": str(workdir), "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_tasklist_run_signal_matrix(tmp_path: Path, started: Started, signum: int, code: int) -> None:
    (tmp_path / "killfuncs.py").write_text(FUNCS)
    env = _env(tmp_path)
    subprocess.run([sys.executable, "-c", SCHEDULE, str(tmp_path / "tl"), str(tmp_path)], env=env, check=True,
                   timeout=60)
    before = tree_hashes(tmp_path, skip=("tl",))
    run = started.popen([TRUNQ, "tasklist", "run", str(tmp_path / "tl"), "-n", "2"], cwd=tmp_path, env=env)
    wait_for(lambda: len(list(tmp_path.glob("started-*"))) >= 2, timeout=60, what="two tasks to start")
    children = started.track_children(run.pid)
    assert children, "the task processes run as children of the command"
    run.send_signal(signum)
    _, err = run.communicate(timeout=20)
    assert run.returncode == code, err
    if signum != signal.SIGKILL:
        assert "Traceback" not in err
        assert f"interrupted by {signal.Signals(signum).name}" in err
    wait_for(lambda: not alive(children), timeout=15, what="the task processes to die with the command")
    assert unchanged(before, tree_hashes(tmp_path, skip=("tl",)))

    (tmp_path / "fast").touch()
    rerun = subprocess.run([TRUNQ, "tasklist", "run", str(tmp_path / "tl"), "-n", "2"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=90)
    assert rerun.returncode == 0, rerun.stderr
    status = subprocess.run([TRUNQ, "tasklist", "status", str(tmp_path / "tl")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert status.stdout.splitlines()[0] == "todo=0 running=0 done=3 fail=0"
    assert psutil.pid_exists(run.pid) is False or psutil.Process(run.pid).status() == psutil.STATUS_ZOMBIE
