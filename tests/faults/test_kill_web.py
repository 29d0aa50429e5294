"""The kill/term/int matrix for ``trunq web``, with and without Redis: a bounded exit, status 0
for SIGTERM/SIGINT (a server's normal way to stop) without a traceback, no child left, and the
same port bound again at once by the next ``trunq web``."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.killing import Started, alive, tree_hashes, unchanged
from tests.redis_fixtures import free_port
from tests.waiting import wait_for

pytest_plugins = ["tests.redis_fixtures"]
TRUNQ = str(Path(sys.executable).with_name("trunq"))


@pytest.fixture
def started() -> Iterator[Started]:
    processes = Started()
    yield processes
    processes.kill_all()


def _answers(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasklists", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "no-redis"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 0), (signal.SIGINT, 0)],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_web_signal_matrix(request: pytest.FixtureRequest, tmp_path: Path, started: Started, signum: int,
                           code: int, with_redis: bool) -> None:
    url = request.getfixturevalue("redis_url") if with_redis else "redis://127.0.0.1:1/0"
    (tmp_path / "trunq.cfg").write_text("[web]\n")
    env = {**os.environ, "HOME": str(tmp_path), "TRUNQ_RUNS_DIR": str(tmp_path / "runs")}
    before = tree_hashes(tmp_path)
    port = free_port()
    argv = [TRUNQ, "web", "--port", str(port), "--redis-url", url]
    web = started.popen(argv, cwd=tmp_path, env=env)
    assert wait_for(lambda: _answers(port), timeout=60, what="trunq web to answer HTTP") == {"tasklists": []}
    children = started.track_children(web.pid)
    web.send_signal(signum)
    _, err = web.communicate(timeout=15)
    assert web.returncode == code, err
    assert "Traceback" not in err
    wait_for(lambda: not alive(children), timeout=15, what="the server's children to exit")
    assert unchanged(before, tree_hashes(tmp_path))

    again = started.popen(argv, cwd=tmp_path, env=env)
    assert wait_for(lambda: _answers(port), timeout=60, what="a new trunq web on the same port") == {"tasklists": []}
    again.send_signal(signal.SIGTERM)
    _, err = again.communicate(timeout=15)
    assert again.returncode == 0 and "cannot listen" not in err
