"""A password-protected Redis: the password never appears in output, and a missing or wrong
one is reported as an authentication problem, not as an unreachable server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_fixtures import find_redis_server, free_port, wait_for_ping
from trunq.config import redact_url

PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def protected_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = find_redis_server()
    if binary is None:
        pytest.fail("redis-server not found")
    workdir = tmp_path_factory.mktemp("redis-auth")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir), "--requirepass", PASSWORD],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ping_authless(port, process)
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)


def wait_for_ping_authless(port: int, process: subprocess.Popen) -> None:
    """PING answers -NOAUTH on a protected server: wait for any answer at all."""
    try:
        wait_for_ping(port, process, timeout=0.5)
    except RuntimeError:
        pass  # expected: NOAUTH is not +PONG; the server is up once it answered


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "auth_steps.py").write_text(textwrap.dedent("""
        import trunq

        class Hello(trunq.Step):
            def output(self):
                return trunq.LocalTarget("hello.txt")

            def run(self):
                self.output().open("w").write("hi")
    """))
    return tmp_path


def build(project: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trunq", "--module", "auth_steps", "Hello", "--redis-url", url],
                          cwd=project, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("url_template", "expected"), [
    ("redis://127.0.0.1:{port}/0", "requires a password"),
    ("redis://:wrong-{password}@127.0.0.1:{port}/0", "refused the password"),
    ("redis://user:wrong-{password}@127.0.0.1:{port}/0", "refused the password"),
])
def test_bad_credentials_are_one_authentication_line_without_the_password(project, protected_redis, url_template,
                                                                          expected):
    url = url_template.format(port=protected_redis, password=PASSWORD)
    result = build(project, url)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert expected in result.stderr and "authentication failed" in result.stderr
    assert PASSWORD not in output and "Traceback" not in output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "hello.txt").exists()


def test_redact_url_hides_only_the_password():
    assert redact_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("redis://u:pw@h/2") == "redis://u:***@h/2"
    assert redact_url("rediss://u:p%40w@[::1]:6380/0") == "rediss://u:***@[::1]:6380/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"
    assert redact_url("redis://u@h:1/0") == "redis://u@h:1/0"
