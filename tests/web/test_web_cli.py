"""``trunq web`` as a user runs it, in a subprocess on a loopback port."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
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


def test_without_redis_it_starts_and_says_how_to_get_cluster_views() -> None:
    port = free_port()
    process = subprocess.Popen(["trunq", "web", "--port", str(port), "--redis-url", "redis://127.0.0.1:1/0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert get_json(f"http://127.0.0.1:{port}/api/tasklists")["tasklists"] == []
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/steps", timeout=10)
            raise AssertionError("the steps API answered without Redis")
        except urllib.error.HTTPError as error:
            body = json.loads(error.read())
            assert error.code == 503 and "trunq server" in body["hint"]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "unreachable" in err and "trunq server" in err and "Traceback" not in err


def test_a_bad_port_is_refused_by_the_option_parser() -> None:
    result = subprocess.run(["trunq", "web", "--port", "eighty"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "eighty" in result.stderr and "Traceback" not in result.stderr


def _config(tmp_path, text: str) -> dict:
    import os

    path = tmp_path / "trunq.toml"
    path.write_text(text)
    return {**os.environ, "TRUNQ_CONFIG_PATH": str(path)}


def test_a_short_token_is_refused_at_startup(tmp_path) -> None:
    env = _config(tmp_path, '[web]\ntoken = "short"\n')
    result = subprocess.run(["trunq", "web", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "at least 16 characters" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_non_loopback_host_needs_a_token_or_allow_remote(tmp_path) -> None:
    env = _config(tmp_path, "[web]\n")
    result = subprocess.run(["trunq", "web", "--host", "0.0.0.0", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "--allow-remote" in result.stderr and "Traceback" not in result.stderr
    port = free_port()
    process = subprocess.Popen(["trunq", "web", "--host", "0.0.0.0", "--port", str(port), "--allow-remote",
                                "--redis-url", "redis://127.0.0.1:1/0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert get_json(f"http://127.0.0.1:{port}/api/config")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)
            raise AssertionError("/metrics answered without Redis")
        except urllib.error.HTTPError as error:
            assert error.code == 503 and "error" in json.loads(error.read())
    finally:
        process.send_signal(2)  # SIGINT: a clean stop, like Ctrl-C
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err and "reads open" in err


def test_reads_need_the_token_on_a_non_loopback_host(tmp_path) -> None:
    env = _config(tmp_path, '[web]\ntoken = "a-long-enough-token-1"\n')
    port = free_port()
    process = subprocess.Popen(["trunq", "web", "--host", "0.0.0.0", "--port", str(port),
                                "--redis-url", "redis://127.0.0.1:1/0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/config",
                                         headers={"X-Trunq-Token": "a-long-enough-token-1"})
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    assert json.loads(response.read())["poll_ms"] > 0
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config", timeout=5)
            raise AssertionError("a read without the token was served")
        except urllib.error.HTTPError as error:
            assert error.code == 401
    finally:
        process.terminate()  # SIGTERM: also a clean stop
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "reads need the token" in err


def test_without_redis_local_runs_are_listed(tmp_path, monkeypatch) -> None:
    import os

    from trunq.runs import run

    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(tmp_path / "runs"))
    with run(name="laptop_run"):
        print("hello from a laptop")
    port = free_port()
    process = subprocess.Popen(["trunq", "web", "--port", str(port), "--redis-url", "redis://127.0.0.1:1/0"],
                               env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        listed = get_json(f"http://127.0.0.1:{port}/api/runs")["runs"]
        assert [(item["name"], item["status"]) for item in listed] == [("laptop_run", "COMPLETED")]
        log = get_json(f"http://127.0.0.1:{port}/api/runs/laptop_run/stdout")
        assert "hello from a laptop" in log["text"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/runs", timeout=5) as page:
            assert page.status == 200 and b"runs.js" in page.read()
    finally:
        process.terminate()
        process.communicate(timeout=10)
