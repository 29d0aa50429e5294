"""Hardening of the web app: Host allow-list, read auth, token throttling, JSON errors, body limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_web_actions import listener
from web_support import TOKEN

from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord
from trunq.web import create_app
from trunq.web.runfiles import OutsideRunsRoot, run_folder
from trunq.web.settings import WebSettings


def make_client(runs_root: Path, **options: Any) -> Any:
    settings = WebSettings(**{"allow_actions": True, "token": TOKEN, **options})
    store = MemoryStateStore()
    store.register([StepRecord("Hard(x=1)", "Hard")])
    return create_app(settings, store=store, runs_root=runs_root).test_client()


def test_unknown_host_names_are_refused_and_ip_literals_accepted(runs_root: Path) -> None:
    client = make_client(runs_root, allowed_hosts=("ops.example.com",))
    refused = client.get("/api/steps", headers={"Host": "evil.example.net:8082"})
    assert refused.status_code == 421 and "allowed_hosts" in refused.get_json()["error"]
    assert client.get("/", headers={"Host": "rebind.attacker.test"}).status_code == 403
    for host in ("localhost:8082", "127.0.0.1", "10.1.2.3:80", "[::1]:8082", "OPS.example.com"):
        assert client.get("/api/steps", headers={"Host": host}).status_code == 200, host


def test_every_api_error_is_json(runs_root: Path) -> None:
    client = make_client(runs_root)
    missing = client.get("/api/no/such/route")
    assert missing.status_code == 404 and missing.is_json and missing.get_json()["status"] == 404
    wrong_method = client.delete("/api/steps")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    big = client.post("/api/step/message?id=Hard(x=1)", data=b"x" * (2 * 1024 * 1024),
                      headers={"X-Trunq-Token": TOKEN, "Content-Type": "application/json"})
    assert big.status_code == 413 and big.is_json


def test_an_unexpected_exception_is_a_json_500(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trunq.web import queries

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "overview", broken)
    answer = make_client(runs_root).get("/api/overview")
    assert answer.status_code == 500 and answer.get_json()["error"] == "internal error: RuntimeError"


def test_non_object_json_bodies_are_400(runs_root: Path) -> None:
    settings = WebSettings(allow_actions=True, token=TOKEN)
    store = MemoryStateStore()
    step_id = listener(store)
    client = create_app(settings, store=store, runs_root=runs_root).test_client()
    for body in (b"[1, 2]", b"42", b'"text"', b"not json"):
        answer = client.post(f"/api/step/message?id={step_id}", data=body,
                             headers={"X-Trunq-Token": TOKEN, "Content-Type": "application/json"})
        assert answer.status_code == 400, body
        assert answer.get_json()["error"] == "the request body must be a JSON object"


def test_wrong_tokens_are_throttled_per_client(runs_root: Path) -> None:
    client = make_client(runs_root)
    codes = [client.post("/api/step/re-enable?id=Hard(x=1)", headers={"X-Trunq-Token": "wrong-token-xxxxx"},
                         environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    throttled = client.post("/api/step/re-enable?id=Hard(x=1)", headers={"X-Trunq-Token": TOKEN},
                            environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    other = client.post("/api/step/re-enable?id=Hard(x=1)", headers={"X-Trunq-Token": TOKEN},
                        environ_base={"REMOTE_ADDR": "10.0.0.10"})
    assert other.status_code != 429


def test_reads_need_the_token_when_bound_beyond_loopback(runs_root: Path) -> None:
    client = make_client(runs_root, bind_host="0.0.0.0")
    assert client.get("/api/steps").status_code == 401
    assert client.get("/api/steps", headers={"X-Trunq-Token": TOKEN}).status_code == 200
    assert client.get("/api/steps", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/healthcheck").status_code == 200
    login = client.get(f"/?token={TOKEN}&family=Hard")
    assert login.status_code == 302 and login.headers["Location"].endswith("/?family=Hard")
    assert "HttpOnly" in login.headers["Set-Cookie"] and "SameSite=Strict" in login.headers["Set-Cookie"]
    assert client.get("/api/steps").status_code == 200  # the cookie now carries the token


def test_reads_are_open_on_loopback(runs_root: Path) -> None:
    assert make_client(runs_root).get("/api/steps").status_code == 200


def test_tilde_run_names_are_refused(tmp_path: Path) -> None:
    for name in ("~", "~root", "run~1"):
        with pytest.raises(OutsideRunsRoot):
            run_folder(tmp_path, name)


def test_unchanged_polls_are_304(runs_root: Path) -> None:
    client = make_client(runs_root)
    first = client.get("/api/steps")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/steps", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_a_step_with_many_dependencies_is_paged(runs_root: Path) -> None:
    store = MemoryStateStore()
    deps = [f"Leaf(n={n})" for n in range(2000)]
    store.register([StepRecord(dep, "Leaf") for dep in deps] + [StepRecord("Wide()", "Wide", deps=deps)])
    client = create_app(WebSettings(dependents_max=100), store=store, runs_root=runs_root).test_client()
    first = client.get("/api/step?id=Wide()")
    detail = first.get_json()
    assert len(first.data) < 50_000
    assert detail["deps_total"] == 2000 and len(detail["deps"]) == 100 and len(detail["dependencies"]) == 100
    assert detail["dependencies_complete"] is False
    later = client.get("/api/step?id=Wide()&deps_offset=1900").get_json()
    assert [d["step_id"] for d in later["dependencies"]] == deps[1900:]


def test_a_done_step_shows_no_stale_progress(runs_root: Path) -> None:
    from test_web_api import start_running

    store = MemoryStateStore()
    store.register([StepRecord("Prog(x=1)", "Prog")])
    token = start_running(store, "Prog(x=1)")
    store.update("Prog(x=1)", progress=40.0, status_message="copying")
    client = create_app(WebSettings(), store=store, runs_root=runs_root).test_client()
    running = client.get("/api/step?id=Prog(x=1)").get_json()
    assert running["progress"] == 40.0 and running["status_message"] == "copying"
    store.finish([("Prog(x=1)", token)], "DONE")
    assert store.get("Prog(x=1)").progress == 40.0  # the store keeps it; the UI must not show it
    for shown in (client.get("/api/step?id=Prog(x=1)").get_json(), client.get("/api/steps").get_json()["steps"][0]):
        assert shown["status"] == "DONE" and shown["progress"] is None and shown["status_message"] is None


def test_step_detail_says_its_batch_and_the_store_clock(runs_root: Path) -> None:
    store = MemoryStateStore()
    store.register([StepRecord("Member(x=1)", "Member")])
    store.update("Member(x=1)", batch_id="batch-42")
    client = create_app(WebSettings(), store=store, runs_root=runs_root).test_client()
    detail = client.get("/api/step?id=Member(x=1)").get_json()
    assert detail["batch_id"] == "batch-42" and detail["now"] > 0
    assert client.get("/api/steps").get_json()["steps"][0]["batch_id"] == "batch-42"
    assert "UPSTREAM_FAILED" in client.get("/api/config").get_json()["statuses"]
