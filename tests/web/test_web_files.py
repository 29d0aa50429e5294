"""Runs with their logs, the history DB, escaping of pages; logs never leave the runs root."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from web_support import ACTIONS_ON

from trunq.history import History
from trunq.runs import Run
from trunq.runs._fs import safe_name
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord
from trunq.web import create_app

STEP_ID = "Load(day=2024-05-01)"


def record_run(root: Path, step_id: str, stamp: str, fail: bool = False) -> Run:
    run = Run(name=f"{safe_name(step_id)}@{stamp}", root=root, step={"family": "Load", "step_id": step_id})
    try:
        with run:
            print(f"loading {stamp}")
            if fail:
                raise RuntimeError("disk full")
    except RuntimeError:
        pass
    return run


def test_runs_of_a_step_with_stdout_stderr_and_traceback(runs_root: Path) -> None:
    store = MemoryStateStore()
    store.register([StepRecord(STEP_ID, "Load")])
    record_run(runs_root, STEP_ID, "20240501T010000Z")
    record_run(runs_root, STEP_ID, "20240502T010000Z", fail=True)
    record_run(runs_root, "Load(day=2024-05-02)", "20240502T010000Z")
    client = create_app(ACTIONS_ON, store=store, runs_root=runs_root).test_client()
    runs = client.get(f"/api/step/runs?id={STEP_ID}").get_json()["runs"]
    assert [r["status"] for r in runs] == ["ERROR", "COMPLETED"]
    assert "RuntimeError: disk full" in runs[0]["traceback"]
    log = client.get(f"/api/runs/{runs[1]['name']}/stdout").get_json()
    assert log["text"] == "loading 20240501T010000Z\n" and log["offset"] == len(log["text"])
    more = client.get(f"/api/runs/{runs[1]['name']}/stdout?offset={log['offset']}").get_json()
    assert more["text"] == ""
    assert client.get(f"/api/runs/{runs[1]['name']}/stdin").status_code == 400
    assert client.get("/api/runs/nope/stdout").status_code == 404


def test_log_endpoints_cannot_read_outside_the_runs_root(runs_root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    run = record_run(runs_root, STEP_ID, "20240501T010000Z")
    run.stdout_path.unlink()
    os.symlink(secret, run.stdout_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / Run.RUN_CONFIG_FILE).write_text("{}")
    os.symlink(outside, runs_root / "linked")
    client = create_app(ACTIONS_ON, store=MemoryStateStore(), runs_root=runs_root).test_client()
    for url in (f"/api/runs/{run.name}/stdout", "/api/runs/../stdout", "/api/runs/%2e%2e/stdout",
                "/api/runs/..%2fsecret.txt/stdout", "/api/runs/linked/stdout", "/api/runs/linked"):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert b"top secret" not in response.data


def test_family_history_from_the_history_db(tmp_path: Path, runs_root: Path) -> None:
    history = History.from_url(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    history.bulk_step_events(
        {"step_id": f"Load(day={day})", "family": "Load", "params": {}, "status": "FAILED" if day == 2 else "DONE",
         "ts": start + timedelta(days=day), "duration": 10.0 + day, "worker": "w1"} for day in range(4))
    client = create_app(ACTIONS_ON, store=MemoryStateStore(), history=history, runs_root=runs_root).test_client()
    assert client.get("/api/history").get_json()["families"] == ["Load"]
    data = client.get("/api/history/Load").get_json()
    assert data["stats"]["runs"] == 4 and data["stats"]["failures"] == 1
    assert [day["failures"] for day in data["stats"]["by_day"]] == [0, 0, 1, 0]
    assert [run["duration"] for run in data["runs"]] == [13.0, 12.0, 11.0, 10.0]
    history.close()


def test_pages_escape_user_data(runs_root: Path) -> None:
    evil = "<script>alert(1)</script>"
    client = create_app({}, store=MemoryStateStore(), runs_root=runs_root).test_client()
    for url in (f"/step?id={evil}", f"/graph?id={evil}", f"/timeline?root={evil}", f"/history?family={evil}"):
        page = client.get(url)
        assert page.status_code == 200
        assert evil.encode() not in page.data and b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.data
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_every_page_renders(runs_root: Path, tmp_path: Path) -> None:
    history = History.from_url(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    client = create_app({}, store=MemoryStateStore(), history=history, runs_root=runs_root).test_client()
    for url in ("/", "/step?id=A()", "/graph?id=A()", "/timeline", "/workers", "/resources", "/history",
                "/history?family=A", "/static/common.js", "/static/app.css"):
        assert client.get(url).status_code == 200, url
    history.close()


def test_an_unreachable_redis_is_a_503_with_one_line(runs_root: Path) -> None:
    app = create_app({"redis_url": "redis://127.0.0.1:1/0"}, runs_root=runs_root)
    response = app.test_client().get("/api/steps")
    assert response.status_code == 503
    assert "cannot reach Redis" in response.get_json()["error"]
    assert app.test_client().get("/healthcheck").status_code == 503


def test_a_damaged_history_db_is_a_json_error_and_fails_the_healthcheck(runs_root: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "history.db"
    garbage.write_bytes(b"this is not a database" * 100)
    app = create_app({"history_url": f"sqlite:///{garbage}"}, store=MemoryStateStore(), runs_root=runs_root)
    response = app.test_client().get("/api/history")
    assert response.status_code == 500 and response.is_json
    assert "history database" in response.get_json()["error"] and "cannot be read" in response.get_json()["error"]
    health = app.test_client().get("/healthcheck")
    assert health.status_code == 503 and "cannot be read" in health.get_json()["history"]
    assert garbage.read_bytes() == b"this is not a database" * 100  # nothing overwritten


def test_app_reads_the_web_section_of_the_active_config(runs_root: Path, monkeypatch: Any) -> None:
    from trunq.config import config_overrides

    with config_overrides({"web": {"allow_actions": "true", "token": "t0k", "poll_ms": "750"}}):
        client = create_app(store=MemoryStateStore(), runs_root=runs_root).test_client()
        assert client.get("/api/config").get_json()["actions_enabled"] is True
        assert client.get("/api/config").get_json()["poll_ms"] == 750
