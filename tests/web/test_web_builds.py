"""Builds API: list, detail (failures first), cancel and re-run, token-guarded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_web_api import run_to_end
from web_build_steps import WebRoot
from web_support import TOKEN

from trunq.execution.builds import open_build
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord
from trunq.web import create_app
from trunq.web.settings import WebSettings

HEADERS = {"X-Trunq-Token": TOKEN}


def setup(runs_root: Path, store: Any) -> Any:
    return create_app(WebSettings(allow_actions=True, token=TOKEN), store=store, runs_root=runs_root).test_client()


def test_builds_list_and_detail(runs_root: Path) -> None:
    store = MemoryStateStore()
    roots = [WebRoot(n=1), WebRoot(n=2)]
    store.register([StepRecord(root.step_id, "WebRoot") for root in roots])
    run_to_end(store, roots[1].step_id, status="FAILED")
    record = open_build(store, roots, {"workers": 2}, detached=True)
    client = setup(runs_root, store)
    listed = client.get("/api/builds").get_json()
    assert [b["build_id"] for b in listed["running"]] == [record.build_id] and listed["recent"] == []
    assert listed["running"][0]["started_by"]["pid"] > 0 and listed["running"][0]["status"] == "QUEUED"
    detail = client.get(f"/api/builds/{record.build_id}").get_json()
    assert [r["status"] for r in detail["roots"]] == ["FAILED", "PENDING"]  # failures first
    assert detail["roots"][0]["expl"] == "boom"
    missing = client.get("/api/builds/nope")
    assert missing.status_code == 404 and "nope" in missing.get_json()["error"]


def test_cancel_and_rerun_need_the_token(runs_root: Path) -> None:
    store = MemoryStateStore()
    record = open_build(store, [WebRoot(n=3)], {}, detached=True)
    client = setup(runs_root, store)
    assert client.post(f"/api/builds/{record.build_id}/cancel").status_code == 401
    assert client.post(f"/api/builds/{record.build_id}/rerun").status_code == 401
    assert not store.builds.cancel_requested(record.build_id)
    cancelled = client.post(f"/api/builds/{record.build_id}/cancel", headers=HEADERS)
    assert cancelled.status_code == 202 and store.builds.cancel_requested(record.build_id)
    rerun = client.post(f"/api/builds/{record.build_id}/rerun", headers=HEADERS)
    assert rerun.status_code == 202
    again = store.builds.get(rerun.get_json()["build_id"])
    assert again.root_ids == record.root_ids and again.detached and again.status == "QUEUED"


def test_build_pages_render(runs_root: Path) -> None:
    store = MemoryStateStore()
    record = open_build(store, [WebRoot(n=4)], {}, detached=True)
    client = setup(runs_root, store)
    home = client.get("/")
    assert home.status_code == 200 and b"builds.js" in home.data
    page = client.get(f"/builds/{record.build_id}")
    assert page.status_code == 200 and record.build_id.encode() in page.data and b"build-rerun" in page.data
