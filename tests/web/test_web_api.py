"""The JSON API through Flask's test client, on MemoryStateStore and on a real Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web_support import ACTIONS_ON, TOKEN

from trunq.scheduler.state import StepRecord
from trunq.web import create_app

HEADERS = {"X-Trunq-Token": TOKEN}


def chain(store: Any, count: int, family: str = "Chain") -> list[str]:
    """``count`` steps, each needing the previous one; returns their ids, first to last."""
    ids = [f"{family}(n={n})" for n in range(count)]
    store.register([StepRecord(step_id, family, params={"n": str(n)}, deps=[ids[n - 1]] if n else [])
                    for n, step_id in enumerate(ids)])
    return ids


def run_to_end(store: Any, step_id: str, status: str = "DONE", worker: str = "w1") -> None:
    token = store.acquire(step_id, worker, ttl_ms=60_000)
    store.start(step_id, token, worker)
    store.finish([(step_id, token)], status, expl="boom" if status == "FAILED" else None)


def start_running(store: Any, step_id: str, worker: str = "w1") -> str:
    token = store.acquire(step_id, worker, ttl_ms=60_000)
    store.start(step_id, token, worker)
    return token


def test_step_list_pages_filters_and_counts(client: Any, store: Any) -> None:
    ids = chain(store, 30)
    store.register([StepRecord("Other(x=needle)", "Other")])
    for step_id in ids[:5]:
        run_to_end(store, step_id)
    first = client.get("/api/steps?limit=10").get_json()
    assert first["total"] == 31 and len(first["steps"]) == 10
    second = client.get("/api/steps?limit=10&offset=10").get_json()
    assert not {s["step_id"] for s in first["steps"]} & {s["step_id"] for s in second["steps"]}
    done = client.get("/api/steps?status=done").get_json()
    assert done["total"] == 5 and {s["status"] for s in done["steps"]} == {"DONE"}
    assert client.get("/api/steps?family=Other").get_json()["total"] == 1
    assert [s["step_id"] for s in client.get("/api/steps?search=NEEDLE").get_json()["steps"]] == ["Other(x=needle)"]
    overview = client.get("/api/overview").get_json()
    assert overview["status_counts"] == {"DONE": 5, "PENDING": 26}
    assert overview["family_counts"] == {"Chain": 30, "Other": 1}


@pytest.mark.parametrize("query", ["limit=0", "limit=100000", "offset=-1", "limit=ten"])
def test_bad_paging_is_a_400_with_a_message(client: Any, query: str) -> None:
    response = client.get(f"/api/steps?{query}")
    assert response.status_code == 400
    assert "must be" in response.get_json()["error"]


def test_step_detail_shows_dependencies_dependents_and_failure(client: Any, store: Any) -> None:
    ids = chain(store, 3)
    run_to_end(store, ids[0], "FAILED")
    detail = client.get(f"/api/step?id={ids[1]}").get_json()
    assert detail["params"] == {"n": "1"}
    assert detail["dependencies"] == [{"step_id": ids[0], "family": "Chain", "status": "FAILED"}]
    assert [d["step_id"] for d in detail["dependents"]] == [ids[2]] and detail["dependents_complete"]
    failed = client.get(f"/api/step?id={ids[0]}").get_json()
    assert failed["expl"] == "boom" and failed["worker"] == "w1" and failed["finished"] >= failed["started"]
    assert client.get("/api/step?id=Nope()").status_code == 404
    assert client.get("/api/step").status_code == 400


def test_dependents_come_from_the_reverse_index_not_from_recent_steps(store: Any, runs_root: Path) -> None:
    store.register([StepRecord(f"Need(n={n})", "Need", deps=["Base()"]) for n in range(3)])
    store.register([StepRecord("Base()", "Base")])
    store.register([StepRecord(f"Noise(n={n})", "Noise") for n in range(40)])  # newer than the dependents
    client = create_app({"dependents_max": 2}, store=store, runs_root=runs_root).test_client()
    detail = client.get("/api/step?id=Base()").get_json()
    assert [d["step_id"] for d in detail["dependents"]] == ["Need(n=0)", "Need(n=1)"]
    assert detail["dependents"][0] == {"step_id": "Need(n=0)", "family": "Need", "status": "PENDING"}
    assert detail["dependents_complete"] is False
    roomy = create_app({}, store=store, runs_root=runs_root).test_client().get("/api/step?id=Base()").get_json()
    assert len(roomy["dependents"]) == 3 and roomy["dependents_complete"] is True


def test_graph_lists_the_upstream_steps_and_groups_big_graphs_by_family(store: Any, runs_root: Path) -> None:
    app = create_app({**ACTIONS_ON, "graph_collapse_above": 10, "graph_max_nodes": 40}, store=store,
                     runs_root=runs_root)
    client = app.test_client()
    small = chain(store, 4)
    graph = client.get(f"/api/graph?id={small[-1]}").get_json()
    assert not graph["collapsed"] and len(graph["nodes"]) == 4
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {(small[n], small[n - 1]) for n in range(1, 4)}
    leaves = [StepRecord(f"Leaf(i={i})", "Leaf") for i in range(25)]
    store.register(leaves + [StepRecord("Top()", "Top", deps=[leaf.step_id for leaf in leaves] + [small[-1]])])
    run_to_end(store, "Leaf(i=3)", "FAILED")
    grouped = client.get("/api/graph?id=Top()").get_json()
    assert grouped["collapsed"] and grouped["step_count"] == 30
    by_id = {node["id"]: node for node in grouped["nodes"]}
    assert set(by_id) == {"Top()", "family:Leaf", "family:Chain"}
    assert by_id["family:Leaf"]["count"] == 25 and by_id["family:Leaf"]["status"] == "FAILED"
    assert by_id["family:Leaf"]["statuses"] == {"PENDING": 24, "FAILED": 1}
    assert {(e["from"], e["to"]) for e in grouped["edges"]} == {("Top()", "family:Leaf"), ("Top()", "family:Chain")}
    expanded = client.get("/api/graph?id=Top()&collapse=no").get_json()
    assert len(expanded["nodes"]) == 30
    store.register([StepRecord("Huge()", "Huge", deps=[f"Leaf(i={i})" for i in range(25)] + [f"Chain(n={n})" for n in range(4)]
                                + [f"Extra(i={i})" for i in range(20)])])
    store.register([StepRecord(f"Extra(i={i})", "Extra") for i in range(20)])
    assert client.get("/api/graph?id=Huge()").get_json()["truncated"]


def test_timeline_has_a_bar_per_started_step(client: Any, store: Any) -> None:
    ids = chain(store, 3)
    run_to_end(store, ids[0])
    start_running(store, ids[1])
    data = client.get(f"/api/timeline?root={ids[2]}").get_json()
    assert [bar["step_id"] for bar in data["bars"]] == ids[:2]
    assert data["bars"][0]["finished"] is not None and data["bars"][1]["finished"] is None
    assert data["not_started"] == 1
    assert client.get("/api/timeline?root=Nope()").status_code == 404
    assert len(client.get("/api/timeline").get_json()["bars"]) == 2


def test_workers_show_heartbeat_and_running_steps(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    start_running(store, ids[0], worker="w1")
    store.heartbeat("w1", {"host": "box", "pid": 12}, ttl_ms=10_000)
    data = client.get("/api/workers").get_json()
    (worker,) = data["workers"]
    assert worker["id"] == "w1" and worker["host"] == "box" and worker["running"] == [ids[0]]
    assert worker["last_heartbeat"] <= data["now"]


def test_resources_show_limit_use_and_holders(client: Any, store: Any) -> None:
    ids = chain(store, 1)
    assert store.acquire_resources(ids[0], {"db": 1}, {"db": 2}, ttl_ms=60_000)
    assert store.acquire_resources("someone", {"gpu": 1}, {}, ttl_ms=60_000)
    by_name = {r["name"]: r for r in client.get("/api/resources").get_json()["resources"]}
    assert by_name["db"] == {"name": "db", "limit": 2, "in_use": 1,
                             "holders": [{"holder": ids[0], "units": 1, "is_step": True, "steps": []}]}
    assert by_name["gpu"]["holders"] == [{"holder": "someone", "units": 1, "is_step": False, "steps": []}]


def test_resource_holders_list_the_steps_they_hold_for(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    assert store.acquire_resources("client:1", {"db": 2}, {"db": 2}, ttl_ms=60_000, steps=ids)
    (db,) = client.get("/api/resources").get_json()["resources"]
    assert db["holders"] == [{"holder": "client:1", "units": 2, "is_step": False, "steps": ids}]


def test_workers_list_their_running_steps_with_start_times_and_batches(client: Any, store: Any) -> None:
    ids = chain(store, 4)
    store.heartbeat("w1@box:7", {"kind": "celery", "hostname": "w1@box"}, ttl_ms=10_000)
    store.heartbeat("w2@box:8", {"kind": "celery", "hostname": "w2@box"}, ttl_ms=10_000)
    token = store.acquire(ids[0], "client", ttl_ms=60_000)
    store.start(ids[0], token, "w1@box", pid=71, worker_id="w1@box:7")
    batch = [(step_id, store.acquire(step_id, "client", 60_000, "BATCH_RUNNING")) for step_id in ids[1:3]]
    store.start(batch[0][0], batch[0][1], "w2@box", pid=81, worker_id="w2@box:8", others=batch[1:])
    data = client.get("/api/workers").get_json()
    w1, w2 = data["workers"]
    assert w1["running"] == [ids[0]] and w2["running"] == sorted(ids[1:3])
    (entry,) = w1["running_steps"]
    assert (entry["step_id"], entry["status"], entry["worker"], entry["worker_pid"]) == (ids[0], "RUNNING", "w1@box", 71)
    assert entry["started"] <= data["now"]
    assert {e["status"] for e in w2["running_steps"]} == {"BATCH_RUNNING"}
    assert data["running_elsewhere"] == {}


def test_events_poll_returns_what_happened_after_an_id(client: Any, store: Any) -> None:
    ids = chain(store, 2)
    start = client.get("/api/events").get_json()["last"]
    run_to_end(store, ids[0])
    found = client.get(f"/api/events?after={start}").get_json()
    assert [(e["kind"], e["step_id"], e["data"]["status"]) for e in found["events"]] == [("status", ids[0], "DONE")]
    assert client.get(f"/api/events?after={found['last']}").get_json()["events"] == []


def test_metrics_are_prometheus_text(client: Any, store: Any) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    ids = chain(store, 3)
    run_to_end(store, ids[0])
    run_to_end(store, ids[1], status="FAILED")
    store.heartbeat("w1", {}, ttl_ms=10_000)
    store.acquire_resources("h", {"db": 2}, {"db": 2}, ttl_ms=60_000)
    response = client.get("/metrics")
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("trunq_steps", (("status", "DONE"),))] == 1
    assert samples[("trunq_steps", (("status", "PENDING"),))] == 1
    assert samples[("trunq_steps", (("status", "DISABLED"),))] == 0  # zero-valued statuses are present
    assert samples[("trunq_steps_finished_total", (("family", "Chain"), ("status", "FAILED")))] == 1
    assert samples[("trunq_queue_depth", (("family", "Chain"),))] == 1
    assert samples[("trunq_step_duration_seconds_count", (("family", "Chain"),))] == 2
    assert samples[("trunq_step_duration_seconds_bucket", (("family", "Chain"), ("le", "+Inf")))] == 2
    assert samples[("trunq_builds", (("status", "RUNNING"),))] == 0
    assert samples[("trunq_workers_alive", ())] == 1
    assert samples[("trunq_resource_in_use", (("resource", "db"),))] == 2
    assert samples[("trunq_resource_limit", (("resource", "db"),))] == 2
    assert "# TYPE trunq_steps gauge" in text.splitlines()
    assert client.get("/healthcheck").get_json() == {"ok": True}
