"""A real ``redis-server`` for tests (pytest plugin module).

Use it with ``pytest_plugins = ["tests.redis_fixtures"]``. Fixtures:

- ``redis_server`` (session): a private redis-server on a free 127.0.0.1 port, no
  persistence, in a temp dir; ``.url``, ``.port``, ``.pid``, ``.restart()``, ``.stop()``.
- ``redis_url`` (function): the server's URL on an emptied database.

The binary comes from ``$TRUNQ_REDIS_SERVER`` or PATH. Without one, the tests that need it
are skipped on a laptop and FAIL when ``$CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 10.0


def find_redis_server() -> str | None:
    configured = os.environ.get("TRUNQ_REDIS_SERVER")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_command(port: int, *words: str, timeout: float = 2.0) -> str:
    """Send one inline command over a raw socket; returns the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall((" ".join(words) + "\r\n").encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def wait_for_ping(port: int, process: subprocess.Popen | None = None, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with status {process.returncode}")
        try:
            if redis_command(port, "PING", timeout=0.5) == "+PONG":
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"redis-server on port {port} did not answer PING within {timeout}s")


class RedisServer:
    """One redis-server process, stopped by PID."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.workdir), "--loglevel", "warning"]
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        wait_for_ping(self.port, self.process)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        reply = redis_command(self.port, "FLUSHALL")
        if reply != "+OK":
            raise RuntimeError(f"FLUSHALL failed: {reply}")


def _missing_binary() -> None:
    message = "redis-server not found: set $TRUNQ_REDIS_SERVER or put redis-server on PATH"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = find_redis_server()
    if binary is None:
        _missing_binary()
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()  # a test stopped it
    redis_server.flush()
    yield redis_server.url
