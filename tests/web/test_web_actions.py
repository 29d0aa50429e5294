"""Message console and actions: off by default, token-guarded, acting on the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_web_api import chain, run_to_end, start_running
from web_support import TOKEN

from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord
from trunq.web import create_app

HEADERS = {"X-Trunq-Token": TOKEN}


def listener(store: Any) -> str:
    store.register([StepRecord("Listen()", "Listen", accepts_messages=True)])
    start_running(store, "Listen()")
    return "Listen()"


@pytest.mark.parametrize("config", [{}, {"allow_actions": True}, {"allow_actions": False, "token": TOKEN}])
def test_actions_are_off_unless_switched_on_with_a_token(config: dict, runs_root: Path) -> None:
    store = MemoryStateStore()
    step_id = listener(store)
    client = create_app(config, store=store, runs_root=runs_root).test_client()
    response = client.post(f"/api/step/message?id={step_id}", json={"content": "hi"}, headers=HEADERS)
    assert response.status_code == 403 and "allow_actions" in response.get_json()["error"]
    assert store.take_messages(step_id) == []
    assert client.get("/api/config").get_json()["actions_enabled"] is False


@pytest.mark.parametrize("headers", [{}, {"X-Trunq-Token": "wrong"}])
def test_a_missing_or_wrong_token_is_refused(client: Any, store: Any, headers: dict) -> None:
    step_id = listener(store)
    for path in ("message", "cancel"):
        response = client.post(f"/api/step/{path}?id={step_id}", json={"content": "hi"}, headers=headers)
        assert response.status_code == 401
    assert store.take_messages(step_id) == []
    assert store.get(step_id).status == "RUNNING"


def test_message_reaches_the_step_and_its_answer_comes_back(client: Any, store: Any) -> None:
    step_id = listener(store)
    sent = client.post(f"/api/step/message?id={step_id}", json={"content": "status?"}, headers=HEADERS)
    assert sent.status_code == 202
    message_id = sent.get_json()["message_id"]
    waiting = client.get(f"/api/step/message?id={step_id}&message_id={message_id}", headers=HEADERS).get_json()
    assert waiting["answered"] is False and waiting["response"] is None
    assert store.take_messages(step_id) == [(message_id, "status?")]
    store.respond(step_id, message_id, "all good")
    answer = client.get(f"/api/step/message?id={step_id}&message_id={message_id}", headers=HEADERS).get_json()
    assert answer == {"step_id": step_id, "message_id": message_id, "response": "all good", "answered": True}


def test_messages_lists_the_conversation_with_answers_in_order(client: Any, store: Any) -> None:
    step_id = listener(store)
    ids = [client.post(f"/api/step/message?id={step_id}", json={"content": text}, headers=HEADERS)
           .get_json()["message_id"] for text in ("one", "two")]
    store.take_messages(step_id)
    store.respond(step_id, ids[0], "first answer")
    said = client.get(f"/api/step/messages?id={step_id}", headers=HEADERS).get_json()["messages"]
    assert [(m["message_id"], m["content"], m["response"]) for m in said] == \
        [(ids[0], "one", "first answer"), (ids[1], "two", None)]
    assert client.get(f"/api/step/messages?id={step_id}").status_code == 401


def test_messages_need_a_running_step_that_accepts_them(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    start_running(store, ids[0])
    response = client.post(f"/api/step/message?id={ids[0]}", json={"content": "x"}, headers=HEADERS)
    assert response.status_code == 409 and "does not accept" in response.get_json()["error"]
    store.register([StepRecord("Idle()", "Idle", accepts_messages=True)])
    assert client.post("/api/step/message?id=Idle()", json={"content": "x"}, headers=HEADERS).status_code == 409
    step_id = listener(store)
    empty = client.post(f"/api/step/message?id={step_id}", json={"content": " "}, headers=HEADERS)
    assert empty.status_code == 400
    assert client.post("/api/step/message?id=Nope()", json={"content": "x"}, headers=HEADERS).status_code == 404


def test_re_enable_and_forgive(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    run_to_end(store, ids[0], "FAILED")
    store.record_failure(ids[0], 3600)
    store.disable(ids[0], 3600)
    assert client.post(f"/api/step/re-enable?id={ids[1]}", headers=HEADERS).status_code == 409
    enabled = client.post(f"/api/step/re-enable?id={ids[0]}", headers=HEADERS)
    assert enabled.status_code == 200 and enabled.get_json()["status"] == "FAILED"
    assert store.disabled([ids[0]]) == [False] and store.get(ids[0]).retries == 0
    store.record_failure(ids[0], 3600)
    assert client.post(f"/api/step/forgive?id={ids[0]}", headers=HEADERS).status_code == 200
    assert store.get(ids[0]).retries == 0
    assert store.record_failure(ids[0], 3600) == 1  # the count starts again
    assert client.post(f"/api/step/forgive?id={ids[1]}", headers=HEADERS).status_code == 409


def test_cancel_flags_the_running_execution_for_its_worker(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    token = start_running(store, ids[0], worker="w7")
    after = store.last_event_id()
    response = client.post(f"/api/step/cancel?id={ids[0]}", headers=HEADERS)
    assert response.status_code == 202
    assert response.get_json() == {"step_id": ids[0], "requested": True, "worker": "w7"}
    assert store.cancel_requested(ids[0], token)
    events = [e for e in store.read_events(after) if e.kind == "cancel"]
    assert [(e.step_id, e.data["requested_by"]) for e in events] == [(ids[0], "web")]
    refused = client.post(f"/api/step/cancel?id={ids[1]}", headers=HEADERS)
    assert refused.status_code == 409 and "PENDING" in refused.get_json()["error"]
