"""A real cluster: redis-server plus `celery -A trunq worker` processes (a plain module, not a conftest).

The session fixture ``cluster`` (tests/conftest.py) starts ONE of these for every distributed
test (tests/tasks, the real-build web tests): one Redis and two workers (prefork, 2 processes
each). Tests talk to it through the ``trunq`` command (``cluster.trunq(...)``/``cluster.spawn(...)``)
or in-process. Every process is started in its own session and stopped by PID (its process
group) when the block of ``running_cluster`` ends. The workers find the step modules of
``worker_steps/`` on their PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.redis_fixtures import RedisServer, find_redis_server

STEPS_DIR = Path(__file__).resolve().parent / "worker_steps"
TRUNQ = shutil.which("trunq") or "trunq"
CELERY = shutil.which("celery") or "celery"
LEASE_SECONDS = "3"
WORKER_ARGS = ["--pool", "prefork", "-c", "2", "--without-gossip", "--without-mingle", "-l", "info"]


def stop_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a process started with start_new_session=True, and its children, by PID."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Cluster:
    """Redis + workers + helpers to run `trunq` against them."""

    def __init__(self, redis: RedisServer, workdir: Path) -> None:
        self.redis = redis
        self.workdir = workdir
        self.workers: list[subprocess.Popen] = []
        self.clients: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return self.redis.url

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "TRUNQ_REDIS_URL": self.url,
            "TRUNQ__core__local_scheduler": "false",
            "TRUNQ__core__lease_seconds": LEASE_SECONDS,
            "TRUNQ_RUNS_DIR": str(self.workdir / "runs"),
            "PYTHONPATH": os.pathsep.join([str(STEPS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    # ---- workers -----------------------------------------------------------------------
    def start_worker(self, name: str, via_trunq: bool = False) -> subprocess.Popen:
        """`celery -A trunq worker` (or its alias `trunq worker`) named ``name@host``."""
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        command = [TRUNQ, "worker"] if via_trunq else [CELERY, "-A", "trunq", "worker"]
        process = subprocess.Popen([*command, "-n", f"{name}@%h", *WORKER_ARGS],
                                   cwd=self.workdir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        self.workers.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen) -> None:
        stop_group(process)
        self.workers.remove(process)

    def live_worker_names(self) -> set[str]:
        store = self.store()
        try:
            return {str(info.get("hostname")) for info in store.live_workers()}
        finally:
            store.close()

    def wait_for_workers(self, count: int, timeout: float = 30.0) -> None:
        from trunq.scheduler.redis import connect

        store = connect(self.url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if len(store.live_workers()) >= count:
                    return
                if any(worker.poll() is not None for worker in self.workers):
                    break
                time.sleep(0.1)
        finally:
            store.close()
        logs = "\n".join(path.read_text()[-2000:] for path in self.workdir.glob("*.log"))
        raise RuntimeError(f"{count} workers did not start:\n{logs}")

    def worker_pids(self) -> set[int]:
        """The workers' main processes and their pool processes."""
        import psutil

        pids = set()
        for worker in self.workers:
            if worker.poll() is None:
                main = psutil.Process(worker.pid)
                pids |= {main.pid, *(child.pid for child in main.children(recursive=True))}
        return pids

    def worker_logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.workdir.glob("worker*.log")))

    # ---- clients -----------------------------------------------------------------------
    def trunq(self, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess:
        process = self.spawn(*args, env=env, cwd=cwd)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def spawn(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
        process = subprocess.Popen([TRUNQ, *args], cwd=cwd or self.workdir, env=env or self.env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        self.clients.append(process)
        return process

    def store(self):  # noqa: ANN201 - a RedisStateStore
        from trunq.scheduler.redis import connect

        return connect(self.url)

    def clear_step_state(self) -> None:
        """Forget every step, event and index (not the workers' heartbeats nor Celery's queues),
        for a test that counts what the store holds on this shared cluster."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            keep = (b"{trunq}:worker:", b"{trunq}:workers")
            doomed = [key for key in client.scan_iter(match="{trunq}:*", count=1000) if not key.startswith(keep)]
            for start in range(0, len(doomed), 500):
                client.delete(*doomed[start:start + 500])
        finally:
            client.close()

    def stop(self) -> None:
        for process in [*self.clients, *self.workers]:
            stop_group(process)


def _redis_binary() -> str:
    binary = find_redis_server()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server not found: set $TRUNQ_REDIS_SERVER or put redis-server on PATH")
        pytest.skip("redis-server not found")
    return binary


def start_cluster(workdir: Path, workers: int = 2) -> Cluster:
    redis = RedisServer(_redis_binary(), workdir)
    redis.start()
    cluster = Cluster(redis, workdir)
    try:
        for index in range(workers):
            cluster.start_worker(f"worker{index + 1}")
        cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        redis.stop()
        raise
    return cluster


@contextmanager
def running_cluster(workdir: Path, workers: int = 2) -> Iterator[Cluster]:
    """``start_cluster`` for the length of a block: workers and Redis stopped by PID after."""
    running = start_cluster(workdir, workers=workers)
    try:
        yield running
    finally:
        running.stop()
        running.redis.stop()
