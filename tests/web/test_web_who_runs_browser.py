"""Who runs what, in Debian's Chromium against real Celery workers: the workers page lists the
running step under its worker (``worker1@host``) with its elapsed time, the resources page
names the step holding the unit."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import ACTIONS_ON, LiveServer

from tests.support.cluster import STEPS_DIR, Cluster, stop_group
from tests.waiting import wait_for
from trunq.scheduler.redis import RedisStateStore
from trunq.web import create_app

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

SETTINGS = {**ACTIONS_ON, "resources": {"gpu": 1}}


@pytest.fixture
def server(cluster: Cluster, tmp_path: Path) -> Iterator[LiveServer]:
    store = RedisStateStore(cluster.url)
    with LiveServer(create_app(SETTINGS, store=store, runs_root=tmp_path / "runs")) as running:
        yield running
    store.close()


@pytest.fixture
def waiting_build(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Path, str]]:
    """`trunq build DistWaiter`: a step holding the ``gpu`` unit until ``root/go`` exists."""
    sys.path.insert(0, str(STEPS_DIR))
    import dist_steps

    root = tmp_path / "build"
    (root / "out").mkdir(parents=True)
    client = cluster.spawn("build", "DistWaiter", "--module", "dist_steps", "--no-lock", "--root", str(root),
                           env=cluster.env(TRUNQ__resources__gpu="1"))
    yield client, root, dist_steps.DistWaiter(root=str(root)).step_id
    (root / "go").touch()
    try:
        client.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        stop_group(client)


def test_workers_and_resources_pages_name_the_running_step(server: LiveServer, waiting_build: Any,
                                                           page: Any) -> None:
    client, root, step_id = waiting_build
    pid = int(wait_for(lambda: (root / "waiter.pid").exists() and (root / "waiter.pid").read_text(),
                       what="the step to start on a worker"))

    page.goto(server.url + "/workers")
    item = page.locator(f'#workers-body tr[data-worker] li[data-step="{step_id}"]')
    item.wait_for(timeout=15_000)
    row = page.locator("#workers-body tr[data-worker]", has=page.locator(f'li[data-step="{step_id}"]'))
    assert re.fullmatch(r"worker[12]@[^:]+:\d+", row.get_attribute("data-worker"))  # the Celery name
    assert item.locator("a.steplink").inner_text() == step_id
    assert item.locator("a.steplink").get_attribute("href") == f"/step?id={step_id}"
    first = item.locator(".elapsed").inner_text()
    assert re.fullmatch(rf"running for [\d.]+ s, pid {pid}", first), first
    page.wait_for_function(  # the elapsed time grows while the step runs
        f"document.querySelector('li[data-step=\"{step_id}\"] .elapsed').textContent !== {first!r}")

    page.goto(server.url + "/resources")
    holder = page.locator('#resources-body tr[data-resource="gpu"] li[data-holder]')
    holder.wait_for(timeout=10_000)
    assert holder.locator("a.steplink").all_inner_texts() == [step_id]
    assert holder.inner_text().endswith("× 1")
    assert page.locator('#resources-body tr[data-resource="gpu"] td').nth(1).inner_text() == "1"

    (root / "go").touch()
    out, err = client.communicate(timeout=30)
    assert client.returncode == 0, err + out
    page.goto(server.url + "/workers")
    page.wait_for_selector("#workers-body tr[data-worker]")
    assert page.locator(f'li[data-step="{step_id}"]').count() == 0  # finished: no longer listed
    assert page.js_errors == []
