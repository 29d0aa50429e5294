"""The pages in Debian's Chromium against a REAL distributed build: a `trunq build` client
(no local scheduler) running `live_steps` on two `celery -A trunq worker` processes that
share a real redis-server with the app.

The simulated-driver tests (test_web_browser.py) are the fast ones; these are the proof.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web_support import ACTIONS_ON, TOKEN, LiveServer

from tests.support.cluster import STEPS_DIR, Cluster, stop_group
from trunq.history import History
from trunq.scheduler.redis import RedisStateStore
from trunq.tasks.cancel import CANCEL_REASON
from trunq.web import create_app

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

MODULE = ["--module", "live_steps", "--no-lock"]
PARTS = 8
TOTAL_STEPS = PARTS + 4  # the parts, the note, the sleeper, the listener and the report


@pytest.fixture
def real_cluster(cluster: Cluster) -> Cluster:
    """The shared cluster, emptied of other tests' steps: these tests count what the store holds."""
    cluster.clear_step_state()
    return cluster


@pytest.fixture(scope="module")
def live_steps() -> Any:
    sys.path.insert(0, str(STEPS_DIR))
    import live_steps as module

    return module


@pytest.fixture
def app_server(real_cluster: Cluster, tmp_path: Path) -> Iterator[LiveServer]:
    store = RedisStateStore(real_cluster.url)
    history = History.from_url(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    app = create_app(ACTIONS_ON, store=store, history=history, runs_root=real_cluster.workdir / "runs")
    with LiveServer(app) as server:
        yield server
    history.close()
    store.close()


class RealBuild:
    """One `trunq build LiveReport` client; ``finish()`` waits for its exit status."""

    def __init__(self, cluster: Cluster, live_steps: Any, root: Path, listen: bool) -> None:
        self.root = root
        self.report = live_steps.LiveReport(root=str(root), parts=PARTS, listen=listen)
        self.note = live_steps.LiveNote(root=str(root), text=live_steps.XSS_TEXT)
        self.sleeper = live_steps.LiveSleeper(root=str(root))
        self.listener = live_steps.LiveListener(root=str(root))
        self.parts = [live_steps.LivePart(root=str(root), part=n) for n in range(PARTS)]
        flags = ["--root", str(root), "--parts", str(PARTS), "--listen", "true" if listen else "false"]
        self.client = cluster.spawn("build", "LiveReport", *MODULE, *flags)

    def finish(self, timeout: float = 30.0) -> subprocess.CompletedProcess:
        out, err = self.client.communicate(timeout=timeout)
        return subprocess.CompletedProcess(self.client.args, self.client.returncode, out, err)

    def stop(self) -> None:
        (self.root / "stop").touch()  # every waiting step ends, then the client
        try:
            self.client.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            stop_group(self.client)


@pytest.fixture
def build_factory(real_cluster: Cluster, live_steps: Any, tmp_path: Path) -> Iterator[Any]:
    started: list[RealBuild] = []

    def start(listen: bool = True) -> RealBuild:
        root = tmp_path / "build"
        (root / "out").mkdir(parents=True)
        started.append(RealBuild(real_cluster, live_steps, root, listen))
        return started[-1]

    yield start
    for build in started:
        build.stop()


def step_url(server: LiveServer, step: Any) -> str:
    return f"{server.url}/step?id={quote(step.step_id, safe='')}"


def status_is(step: Any, status: str) -> str:
    """JS: the step's row on the list page shows ``status``."""
    return f"document.querySelector('#steps-body tr[data-step-id=\"{step.step_id}\"]')?.dataset.status === '{status}'"


def test_step_list_follows_the_real_build_and_the_graph_renders(app_server: LiveServer, build_factory: Any,
                                                                page: Any) -> None:
    build = build_factory()
    page.goto(app_server.url + "/steps?limit=50")
    page.wait_for_function(f"document.querySelectorAll('#steps-body tr[data-step-id]').length === {TOTAL_STEPS}",
                           timeout=20_000)
    page.evaluate("window.notReloaded = true")
    first = int(page.locator('.count[data-status="DONE"] .n').inner_text() or 0)
    assert first <= PARTS - 3
    page.wait_for_function("Number(document.querySelector('.count[data-status=\"DONE\"] .n').textContent) >= "
                           f"{first + 3}", timeout=15_000)
    page.wait_for_function(status_is(build.parts[2], "DONE"), timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(f'#steps-body tr[data-step-id="{build.sleeper.step_id}"]').get_attribute("data-status") \
        == "RUNNING"

    page.goto(f"{app_server.url}/graph?id={quote(build.report.step_id, safe='')}")
    page.wait_for_selector("svg#graph a.node")
    assert page.locator("svg#graph a.node").count() == TOTAL_STEPS
    assert page.locator("svg#graph .edges path").count() == (PARTS - 1) + 4  # the chain, the report's needs
    page.wait_for_selector(f'svg#graph a.node[data-id="{build.sleeper.step_id}"][data-status="RUNNING"]')
    page.wait_for_selector(f'svg#graph a.node[data-id="{build.parts[0].step_id}"][data-status="DONE"]')

    page.goto(step_url(app_server, build.parts[0]))  # dependents come from the store's reverse index
    page.wait_for_selector("#step-dependents a")
    assert page.locator("#step-dependents a").all_inner_texts() == [build.parts[1].step_id]
    assert page.js_errors == []


def test_console_talks_to_a_running_step_and_markup_shows_as_text(app_server: LiveServer, build_factory: Any,
                                                                   live_steps: Any, page: Any) -> None:
    build = build_factory()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(step_url(app_server, build.listener))
    page.fill("#token-input", TOKEN)
    page.click("#token-form button")
    page.wait_for_selector("#console:not([hidden])", timeout=20_000)  # shown once the step RUNs
    page.fill("#console-input", "hello <b>there</b>")
    page.click("#console-send")
    page.wait_for_function("document.querySelector('#console-log .answer')?.textContent.startsWith('echo:')",
                           timeout=15_000)
    assert page.locator("#console-log .answer").inner_text() == "echo: hello <b>there</b>"
    assert page.locator("#console-log b").count() == 0
    # a second exchange, then a reload: the console shows the whole conversation, in order
    page.fill("#console-input", "second")
    page.click("#console-send")
    answers = "[...document.querySelectorAll('#console-log .answer')].map((a) => a.textContent)"
    page.wait_for_function(f"JSON.stringify({answers}) === JSON.stringify(['echo: hello <b>there</b>', 'echo: second'])",
                           timeout=15_000)
    page.reload()
    page.wait_for_function(f"{answers}.length === 2", timeout=15_000)
    assert page.locator("#console-log .sent").all_inner_texts() == ["hello <b>there</b>", "second"]
    assert page.locator("#console-log .answer").all_inner_texts() == ["echo: hello <b>there</b>", "echo: second"]

    page.goto(step_url(app_server, build.note))
    text_cell = page.locator("#step-params tr", has_text="text").locator("td.param")
    text_cell.wait_for()
    assert text_cell.inner_text() == live_steps.XSS_TEXT
    page.goto(f"{app_server.url}/steps?search={quote(build.note.step_id, safe='')}")  # other tests' notes too
    page.wait_for_selector("#steps-body tr[data-step-id]")
    assert page.locator("#steps-body a.steplink").inner_text() == build.note.step_id
    assert page.title() != "pwned" and dialogs == []
    assert page.locator("#page script").count() == 0
    assert page.js_errors == []


def test_cancel_from_the_ui_fails_the_running_step_and_the_build_ends(app_server: LiveServer, build_factory: Any,
                                                                       page: Any) -> None:
    build = build_factory(listen=False)
    page.goto(step_url(app_server, build.sleeper))
    page.fill("#token-input", TOKEN)
    page.click("#token-form button")
    cancel = page.locator('#step-actions button[data-action="cancel"]')
    cancel.wait_for(timeout=20_000)  # offered once the step RUNs
    cancel.click()
    page.wait_for_function("document.getElementById('step-status').textContent.includes('FAILED')", timeout=10_000)
    page.wait_for_selector("#expl-card:not([hidden])")
    assert page.locator("#step-expl").inner_text() == CANCEL_REASON
    result = build.finish(timeout=20)
    assert result.returncode != 0
    assert CANCEL_REASON in result.stdout + result.stderr
    assert "LiveSleeper" in result.stdout  # the summary names the failed step
    assert page.js_errors == []


def test_builds_page_follows_a_real_build_and_cancel_stops_it(app_server: LiveServer, build_factory: Any,
                                                               page: Any) -> None:
    build = build_factory(listen=False)  # the sleeper keeps the build running until cancelled
    page.goto(app_server.url + "/")
    row = page.locator("#builds-running tr[data-build]", has_text=build.report.step_id)
    row.wait_for(timeout=20_000)
    build_id = row.get_attribute("data-build")
    segments = f"[...document.querySelectorAll('tr[data-build=\"{build_id}\"] .segment')].map((s) => s.dataset.status)"
    page.wait_for_function(f"{segments}.includes('RUNNING') && {segments}.includes('DONE')", timeout=20_000)
    cells = row.locator("td").all_inner_texts()
    assert f"(pid {build.client.pid})" in cells[4] and "@" in cells[4]  # who started it
    assert cells[5].strip() != ""  # its duration so far
    assert "running" in cells[2] and "done" in cells[2]  # progress per status, in words too

    row.locator("a").click()
    page.wait_for_selector("#build-facts dd")
    page.fill("#token-input", TOKEN)
    page.click("#token-form button")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#build-cancel")
    page.wait_for_function("document.getElementById('build-action-result').textContent === 'cancel requested'")
    result = build.finish(timeout=30)
    assert result.returncode != 0
    page.wait_for_function("!document.getElementById('build-status').textContent.includes('RUNNING')",
                           timeout=15_000)
    page.goto(app_server.url + "/")
    page.locator(f'#builds-recent tr[data-build="{build_id}"]').wait_for(timeout=15_000)
    assert page.locator(f'#builds-running tr[data-build="{build_id}"]').count() == 0
    assert page.js_errors == []
