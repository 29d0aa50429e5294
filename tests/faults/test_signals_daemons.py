"""The kill/term/int matrix for the long-running commands `trunq tasklist run`, `trunq web`
and `trunq worker`: each stops within a bound, prints no traceback, leaves no child process
behind, and a rerun works at once (the work goes on, the port binds again, the step ends DONE).

Exit statuses: SIGINT and SIGTERM are a clean stop. `tasklist run` exits 130 / 143 (as `trunq
build`: interrupted work), `web` exits 0 (a server asked to stop did its job), `worker` exits
0 (Celery's warm shutdown: the running step is finished or handed back first). SIGKILL is -9.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.redis_fixtures import free_port, redis_server, redis_url  # noqa: F401  (fixtures)
from tests.waiting import wait_for

TRUNQ = str(Path(sys.executable).with_name("trunq"))
TASKLIST_FUNCS = Path(__file__).resolve().parents[1] / "tasklist"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
CLEAN_EXIT = {
    "tasklist": {signal.SIGINT: 130, signal.SIGTERM: 143},
    "web": {signal.SIGINT: 0, signal.SIGTERM: 0},
}


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


def _stop(process: subprocess.Popen, signum: int, bound: float = 20.0) -> tuple[int, str]:
    """Send ``signum``; the exit status and stderr, within ``bound`` seconds."""
    children = _descendants(process.pid)
    sent = time.monotonic()
    os.kill(process.pid, signum)
    _, err = process.communicate(timeout=bound)
    assert time.monotonic() - sent < bound
    wait_for(lambda: _gone(children), 20, "every child process to exit")
    return process.returncode, err


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


# ---- trunq web ---------------------------------------------------------------------------------
def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasklists", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _start_web(port: int, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "TRUNQ_RUNS_DIR": str(tmp_path / "runs")}
    return subprocess.Popen([TRUNQ, "web", "--port", str(port), "--redis-url", "redis://127.0.0.1:1/0"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_web_stops_and_the_port_binds_again_at_once(tmp_path: Path, started: list, signum: int) -> None:
    port = free_port()
    first = _start_web(port, tmp_path)
    started.append(first)
    wait_for(lambda: _serving(port), 30, "trunq web to answer")
    code, err = _stop(first, signum)
    _check_stop("web", signum, code, err)
    again = _start_web(port, tmp_path)
    started.append(again)
    wait_for(lambda: _serving(port), 30, "trunq web to answer on the same port again")
    assert again.poll() is None


# ---- trunq worker --------------------------------------------------------------------------------
@pytest.mark.cluster
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_worker_stops_and_its_step_still_ends_done(tmp_path: Path, started: list, signum: int,
                                                   redis_url: str) -> None:  # noqa: F811 (the fixture)
    from tests.support.cluster import STEPS_DIR, WORKER_ARGS
    from trunq.scheduler.redis import connect

    root = tmp_path / "root"
    (root / "out").mkdir(parents=True)
    env = {**os.environ, "TRUNQ_REDIS_URL": redis_url, "TRUNQ__core__local_scheduler": "false",
           "TRUNQ__core__lease_seconds": "3", "TRUNQ_RUNS_DIR": str(tmp_path / "runs"),
           "PYTHONPATH": os.pathsep.join([str(STEPS_DIR), os.environ.get("PYTHONPATH", "")])}

    def worker(name: str) -> subprocess.Popen:
        with open(tmp_path / f"{name}.log", "w") as log:
            process = subprocess.Popen([TRUNQ, "worker", "-n", f"{name}@%h", *WORKER_ARGS], cwd=tmp_path,
                                       env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        wait_for(lambda: any(w.get("hostname", "").startswith(f"{name}@") for w in store.live_workers()), 60,
                 f"worker {name} to register")
        return process

    store = connect(redis_url)
    first = worker("first")
    client = subprocess.Popen([TRUNQ, "build", "DistLeaf", "--module", "dist_steps", "--no-lock",
                               "--root", str(root), "--n", "1", "--sleep", "3"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    started.append(client)
    wait_for(lambda: _executions(root, "start") >= 1, 60, "the step to start on the first worker")
    children = _descendants(first.pid)
    os.kill(first.pid, signum)
    first.wait(timeout=30)
    err = (tmp_path / "first.log").read_text()
    assert "Traceback" not in err, err
    wait_for(lambda: _gone(children), 30, "the worker's pool processes to exit")
    if signum == signal.SIGKILL:
        assert first.returncode == -signal.SIGKILL
    else:
        assert first.returncode == 0, err  # a warm shutdown: the running step finished first
    worker("second")  # the rerun: a new worker takes what is left
    out, client_err = client.communicate(timeout=90)
    assert client.returncode == 0, client_err
    assert "1 ran successfully" in out, out
    assert _executions(root, "end") >= 1
    store.close()


def _executions(root: Path, event: str) -> int:
    log = root / "executions.log"
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if line.split()[0] == event)
