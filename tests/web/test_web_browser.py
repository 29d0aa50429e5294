"""The pages in Debian's Chromium (Playwright), against a live app on a real Redis while a
build runs: the list updates, the graph renders, the console talks to a running step, and
user data shows as text."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from build_driver import LISTENER_ID, ROOT_ID, XSS_ID, XSS_VALUE, BuildDriver
from web_build_steps import WebRoot
from web_support import ACTIONS_ON, TOKEN, LiveServer

from trunq.execution.builds import open_build
from trunq.history import History
from trunq.scheduler.redis import RedisStateStore
from trunq.web import create_app

pytestmark = pytest.mark.browser

PARTS = 6
TOTAL_STEPS = 2 * PARTS + 3


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    opened = History.from_url(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield opened
    opened.close()


@pytest.fixture
def live(redis_url: str, runs_root: Path, history: History) -> Iterator[tuple[LiveServer, BuildDriver]]:
    app_store, build_store = RedisStateStore(redis_url), RedisStateStore(redis_url)
    app = create_app(ACTIONS_ON, store=app_store, history=history, runs_root=runs_root)
    driver = BuildDriver(build_store, parts=PARTS, step_seconds=0.4)
    with LiveServer(app) as server:
        driver.start()
        try:
            yield server, driver
        finally:
            driver.stop()
            app_store.close()
            build_store.close()


def done_count(page: Any) -> int:
    return int(page.locator('.count[data-status="DONE"] .n').inner_text())


def test_step_list_updates_while_steps_finish(live: tuple, page: Any) -> None:
    server, _ = live
    page.goto(server.url + "/steps")
    page.wait_for_selector("#steps-body tr[data-step-id]")
    assert page.locator("#steps-body tr[data-step-id]").count() == TOTAL_STEPS
    page.evaluate("window.notReloaded = true")
    first = done_count(page)
    page.wait_for_function(f"Number(document.querySelector('.count[data-status=\"DONE\"] .n').textContent) >= {first + 3}",
                           timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator('#steps-body tr[data-status="DONE"]').count() >= first + 3
    page.locator('.count[data-status="RUNNING"]').click()
    page.wait_for_function("[...document.querySelectorAll('#steps-body tr[data-status]')]"
                           ".every((row) => row.dataset.status === 'RUNNING')")
    assert "status=RUNNING" in page.url
    assert page.js_errors == []


def test_graph_renders_the_whole_build_coloured_by_status(live: tuple, page: Any) -> None:
    server, _ = live
    page.goto(f"{server.url}/graph?id={ROOT_ID}")
    page.wait_for_selector("svg#graph a.node")
    assert page.locator("svg#graph a.node").count() == TOTAL_STEPS
    # the root needs each Extract, Listen and Note; each Extract needs its Fetch
    assert page.locator("svg#graph .edges path").count() == 2 * PARTS + 2
    page.wait_for_selector(f'svg#graph a.node[data-id="{LISTENER_ID}"][data-status="RUNNING"]')
    rows = page.evaluate("Object.fromEntries([...document.querySelectorAll('svg#graph a.node')]"
                         ".map((n) => [n.dataset.id, Number(n.querySelector('rect').getAttribute('y'))]))")
    assert rows[ROOT_ID] < rows["Extract(part=0)"] < rows["Fetch(part=0)"]  # dependencies below what needs them
    assert page.evaluate("typeof dagre.layout") == "function"  # the vendored layout, served locally
    assert page.locator("svg#graph .edges path").first.get_attribute("d").count("L") >= 1  # routed by dagre
    page.fill("#graph-search", "Fetch(part=3)")
    page.wait_for_selector('svg#graph a.node.match[data-id="Fetch(part=3)"]')  # the page redraws as it polls
    assert page.locator("svg#graph a.node.match").count() == 1
    page.check("#graph-focus")
    page.wait_for_selector('svg#graph a.node[data-id="Fetch(part=0)"].dimmed')
    assert page.locator(f'svg#graph a.node[data-id="{LISTENER_ID}"]:not(.dimmed)').count() == 1
    width = float(page.locator("svg#graph").get_attribute("width"))
    page.locator("#graph-zoom").fill("0.5")
    assert float(page.locator("svg#graph").get_attribute("width")) == width / 2
    page.select_option("#graph-collapse", "yes")
    page.wait_for_selector('svg#graph a.node[data-id="family:Fetch"]')
    assert page.locator("svg#graph a.node").count() == 5  # root + Fetch, Extract, Listen, Note
    # a grouped family shows one segment per status, not one colour for the whole group
    shares = page.locator('svg#graph a.node[data-id="family:Extract"] rect.share')
    assert shares.count() >= 1 and shares.first.get_attribute("data-share") in ("DONE", "PENDING", "RUNNING")
    assert page.js_errors == []


def test_console_message_reaches_the_running_step_and_its_answer_appears(live: tuple, page: Any) -> None:
    server, driver = live
    page.goto(f"{server.url}/step?id={LISTENER_ID}")
    page.fill("#token-input", TOKEN)
    page.click("#token-form button")
    page.wait_for_selector("#console:not([hidden])")
    page.fill("#console-input", "hello <b>there</b>")
    page.click("#console-send")
    answer = page.locator("#console-log .answer").first
    answer.wait_for()
    page.wait_for_function("document.querySelector('#console-log .answer').textContent.startsWith('echo:')",
                           timeout=10_000)
    assert answer.inner_text() == "echo: hello <b>there</b>"
    assert driver.heard == ["hello <b>there</b>"]
    assert page.locator("#console-log b").count() == 0
    assert page.js_errors == []


def test_console_without_the_token_shows_the_refusal(live: tuple, page: Any) -> None:
    server, driver = live
    page.goto(f"{server.url}/step?id={LISTENER_ID}")
    page.wait_for_selector("#console:not([hidden])")
    page.fill("#console-input", "hi")
    page.click("#console-send")
    page.wait_for_selector("#console-log .answer.error")
    assert "X-Trunq-Token" in page.locator("#console-log .answer").inner_text()
    assert driver.heard == []


def test_script_in_a_parameter_shows_as_text(live: tuple, page: Any) -> None:
    server, _ = live
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}/step?id={XSS_ID}")
    cell = page.locator("#step-params td.param")
    cell.wait_for()
    assert cell.inner_text() == XSS_VALUE
    assert page.locator("#step-id").inner_text() == XSS_ID
    page.goto(server.url + "/steps?search=Note")
    page.wait_for_selector("#steps-body tr[data-step-id]")
    assert page.locator("#steps-body a.steplink").inner_text() == XSS_ID
    assert page.title() != "pwned" and dialogs == []
    assert page.locator("#page script").count() == 0


def test_screenshot_of_every_page(live: tuple, history: History, page: Any, tmp_path: Path) -> None:
    """Also writes them to $TRUNQ_WEB_SCREENSHOTS (docs/screenshots when refreshing the docs)."""
    server, driver = live
    target = Path(os.environ.get("TRUNQ_WEB_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    record_history(history)
    page.goto(server.url + "/steps")
    page.wait_for_function("Number(document.querySelector('.count[data-status=\"DONE\"] .n')?.textContent) >= 8",
                           timeout=15_000)
    build = open_build(driver.store, [WebRoot(n=1)], {}, detached=True)
    driver.store.builds.save(dataclasses.replace(build, status="RUNNING", started=build.created,
                                                 counts={"DONE": 8, "RUNNING": 2, "PENDING": 5}))
    shots = {
        "builds": ("/", f'#builds-running tr[data-build="{build.build_id}"] .segment'),
        "build": (f"/builds/{build.build_id}", "#build-roots tr[data-step-id]"),
        "steps": ("/steps", "#steps-body tr[data-step-id]"),
        "step": (f"/step?id={LISTENER_ID}", "#step-params td"),
        "graph": (f"/graph?id={ROOT_ID}", "svg#graph a.node"),
        "timeline": (f"/timeline?root={ROOT_ID}", "svg#timeline a.bar"),
        "workers": ("/workers", "#workers-body tr[data-worker]"),
        "resources": ("/resources", "#resources-body tr[data-resource]"),
        "history": ("/history?family=Load", "#duration-chart circle"),
        "runs": ("/runs", "#runs-body tr"),
    }
    driver.store.acquire_resources(LISTENER_ID, {"db": 1, "gpu": 1}, {"db": 2, "gpu": 1}, ttl_ms=60_000)
    for name, (url, ready) in shots.items():
        page.goto(server.url + url)
        page.wait_for_selector(ready)
        if name == "step":
            page.fill("#token-input", TOKEN)
            page.click("#token-form button")
            page.fill("#console-input", "progress?")
            page.click("#console-send")
            page.wait_for_function("document.querySelector('#console-log .answer')?.textContent.startsWith('echo')")
        path = target / f"{name}.png"
        page.screenshot(path=str(path), full_page=name not in ("graph", "timeline", "steps", "runs"))
        assert path.stat().st_size > 10_000, name
    assert page.js_errors == []


def record_history(history: History) -> None:
    """A family's past six days in the live app's history DB."""
    start = datetime.now(UTC) - timedelta(days=6)
    history.bulk_step_events(
        {"step_id": f"Load(day={i})", "family": "Load", "params": {}, "worker": "worker-1",
         "status": "FAILED" if i % 7 == 3 else "DONE", "ts": start + timedelta(hours=4 * i),
         "duration": 30 + (i * 37) % 50, "error": "timeout" if i % 7 == 3 else None} for i in range(36))
