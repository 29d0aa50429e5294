"""``trunq web`` as a user runs it, in a subprocess on a loopback port."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.redis_fixtures import free_port
from trunq.scheduler.redis import RedisStateStore
from trunq.scheduler.state import StepRecord


@pytest.fixture
def web_process(redis_url: str) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    process = subprocess.Popen(["trunq", "web", "--port", str(port), "--redis-url", redis_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def get_json(url: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_trunq_web_serves_the_state_of_redis_on_loopback(web_process: tuple, redis_url: str) -> None:
    process, port = web_process
    store = RedisStateStore(redis_url)
    store.register([StepRecord("Served(x=1)", "Served")])
    page = get_json(f"http://127.0.0.1:{port}/api/steps")
    assert [step["step_id"] for step in page["steps"]] == ["Served(x=1)"]
    assert get_json(f"http://127.0.0.1:{port}/api/config")["actions_enabled"] is False
    store.close()
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in err and "actions off" in err


def test_unreachable_redis_is_one_line_and_a_failure_exit() -> None:
    result = subprocess.run(["trunq", "web", "--port", str(free_port()), "--redis-url", "redis://127.0.0.1:1/0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "cannot reach Redis" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_port_is_refused_by_the_option_parser() -> None:
    result = subprocess.run(["trunq", "web", "--port", "eighty"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "eighty" in result.stderr and "Traceback" not in result.stderr
