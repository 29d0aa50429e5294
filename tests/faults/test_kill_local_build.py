"""A killed ``--local-scheduler --workers 2`` build leaves nothing behind and never blocks a rerun."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.waiting import wait_for

MODULE = '''
import os, time, trunq

class Slow(trunq.Step):
    tag = trunq.Parameter(default="a")

    def run(self):
        print("SLOW-STARTED", flush=True)
        time.sleep(float(os.environ.get("SLOW_SECONDS", "60")))
        print("SLOW-DONE", flush=True)
'''


class Builds:
    """Starts ``trunq`` builds in ``workdir``; kills what is left of them by pid at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[subprocess.Popen] = []
        self.pids: set[int] = set()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, TMPDIR=str(self.workdir), PYTHONUNBUFFERED="1", **extra)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.workdir), env.get("PYTHONPATH", "")]))
        return env

    def args(self, *extra: str) -> list[str]:
        return ["trunq", "--module", "m", "Slow", "--local-scheduler", "--workers", "2", *extra]

    def start(self, *extra: str) -> subprocess.Popen:
        process = subprocess.Popen(self.args(*extra), cwd=self.workdir, env=self.env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        self.pids.add(process.pid)
        return process

    def wait_started(self, process: subprocess.Popen) -> list[int]:
        """Wait for the step's marker line; returns the pids of the build's pool processes."""
        line = wait_for(process.stdout.readline, timeout=60, what="the step's marker line")
        assert "SLOW-STARTED" in line
        children = wait_for(lambda: _children(process.pid) if len(_children(process.pid)) >= 2 else None,
                            timeout=30, what="two pool processes")
        self.pids.update(children)
        return children

    def rerun(self, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.args(*extra), cwd=self.workdir, env=self.env(SLOW_SECONDS="0"),
                              capture_output=True, text=True, timeout=120)

    def kill_all(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.started:
            process.wait(timeout=10)
            for stream in (process.stdout, process.stderr):
                stream.close()


def _children(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


@pytest.fixture
def builds(tmp_path: Path) -> Iterator[Builds]:
    (tmp_path / "m.py").write_text(MODULE)
    started = Builds(tmp_path)
    yield started
    started.kill_all()


def _assert_rerun_completes(builds: Builds) -> None:
    rerun = builds.rerun()
    assert rerun.returncode == 0, rerun.stderr
    assert "already running" not in rerun.stderr
    assert "SLOW-DONE" in rerun.stdout


def test_kill_9_leaves_no_pool_process_and_no_lock(builds: Builds) -> None:
    build = builds.start()
    pool = builds.wait_started(build)
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=10)
    wait_for(lambda: _gone(pool), timeout=15, what="the pool processes to die with their parent")
    _assert_rerun_completes(builds)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_build_cleanly(builds: Builds, signum: int, code: int) -> None:
    build = builds.start()
    pool = builds.wait_started(build)
    build.send_signal(signum)
    _, stderr = build.communicate(timeout=30)
    assert build.returncode == code
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [f"trunq: error: interrupted by {signal.Signals(signum).name}: running steps were stopped; "
                     "rerun to continue"]
    assert "Traceback" not in stderr
    wait_for(lambda: _gone(pool), timeout=15, what="the pool processes to stop")
    _assert_rerun_completes(builds)


def test_lock_pid_dir_holds_the_lock_file(builds: Builds, tmp_path: Path) -> None:
    shared, other = tmp_path / "locks-a", tmp_path / "locks-b"
    first = builds.start("--lock-pid-dir", str(shared))
    builds.wait_started(first)
    assert [path.suffix for path in shared.iterdir()] == [".pid"]

    blocked = builds.rerun("--lock-pid-dir", str(shared))
    assert blocked.returncode == 6
    assert blocked.stderr.strip() == (f"trunq: error: this build is already running (pid {first.pid}); "
                                      "use --no-lock to run it anyway")

    elsewhere = builds.rerun("--lock-pid-dir", str(other))
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "SLOW-DONE" in elsewhere.stdout
    assert first.poll() is None  # the first build still runs meanwhile


def test_take_lock_is_refused_with_one_line(builds: Builds) -> None:
    result = builds.rerun("--take-lock")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "--take-lock is not supported" in result.stderr
    assert "Traceback" not in result.stderr


