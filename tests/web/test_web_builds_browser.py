"""Builds pages and the no-Redis notice in Debian's Chromium (Playwright)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from web_build_steps import WebRoot
from web_support import TOKEN, LiveServer

from trunq.execution.builds import open_build
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.redis import RedisStateStore
from trunq.web import create_app
from trunq.web.settings import WebSettings

SETTINGS = WebSettings(allow_actions=True, token=TOKEN, poll_ms=300)


def test_builds_home_and_build_actions_with_confirmation(page: Any, runs_root: Path) -> None:
    store = MemoryStateStore()
    record = open_build(store, [WebRoot(n=7)], {}, detached=True)
    store.builds.save(dataclasses.replace(record, status="RUNNING", counts={"DONE": 3, "RUNNING": 1, "PENDING": 4}))
    with LiveServer(create_app(SETTINGS, store=store, runs_root=runs_root)) as server:
        page.goto(server.url + "/")
        row = page.locator(f'#builds-running tr[data-build="{record.build_id}"]')
        row.wait_for()
        segments = row.locator(".segment")
        assert sorted(segments.evaluate_all("(s) => s.map((x) => x.dataset.status)")) == ["DONE", "PENDING", "RUNNING"]
        row.locator("a").click()
        page.wait_for_selector("#build-roots tr[data-step-id]")
        assert page.locator("#build-links a").first.get_attribute("href").startswith("/graph?id=WebRoot")
        page.fill("#token-input", TOKEN)
        page.click("#token-form button")
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("#build-cancel")
        assert not store.builds.cancel_requested(record.build_id)  # dismissed: nothing sent
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#build-cancel")
        page.wait_for_function("document.getElementById('build-action-result').textContent === 'cancel requested'")
        assert store.builds.cancel_requested(record.build_id)
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#build-rerun")
        page.wait_for_selector("#rerun-link")
        new_id = page.locator("#rerun-link").inner_text()
        assert store.builds.get(new_id).root_ids == record.root_ids
        assert page.js_errors == []


def test_live_pages_say_how_to_start_redis(page: Any, runs_root: Path) -> None:
    store = RedisStateStore("redis://127.0.0.1:1/0")
    with LiveServer(create_app(SETTINGS, store=store, runs_root=runs_root)) as server:
        page.goto(server.url + "/steps")
        page.wait_for_selector("#notice:not([hidden])")
        assert "trunq server" in page.locator("#notice").inner_text()
        page.goto(server.url + "/runs")
        page.wait_for_selector("#runs-body tr")
        assert page.locator("#notice").is_hidden()
    store.close()
