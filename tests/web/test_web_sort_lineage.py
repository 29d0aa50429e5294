"""Server-side sorting of the step list and a node's upstream/downstream views: the API on
both stores, then the pages in Debian's Chromium (Playwright) on a real Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web_support import ACTIONS_ON, LiveServer

from trunq.scheduler.state import StepRecord
from trunq.web import create_app

# A chain Top <- Mid(i) <- Leaf(i, j): Top needs 3 Mids, each Mid needs 4 Leaves.
TOP = "Top()"
MIDS = [f"Mid(i={i})" for i in range(3)]
LEAVES = {mid: [f"Leaf(i={i},j={j})" for j in range(4)] for i, mid in enumerate(MIDS)}


def register_chain(store: Any) -> None:
    records = [StepRecord(TOP, "Top", deps=list(MIDS))]
    records += [StepRecord(mid, "Mid", deps=LEAVES[mid]) for mid in MIDS]
    records += [StepRecord(leaf, "Leaf") for leaves in LEAVES.values() for leaf in leaves]
    store.register(records)


def ids(reply: Any) -> list[str]:
    return [step["step_id"] for step in reply.get_json()["steps"]]


def test_steps_api_sorts_both_ways_and_pages_stably(client: Any, store: Any) -> None:
    register_chain(store)
    token = store.acquire("Mid(i=1)", "w", 60_000)
    assert token
    by_id = client.get("/api/steps?sort=id&order=asc&limit=3")
    assert by_id.get_json()["sort"] == "id" and by_id.get_json()["order"] == "asc"
    assert ids(by_id) == ["Leaf(i=0,j=0)", "Leaf(i=0,j=1)", "Leaf(i=0,j=2)"]
    assert ids(client.get("/api/steps?sort=id&order=desc&limit=2")) == ["Top()", "Mid(i=2)"]
    assert ids(client.get("/api/steps?sort=status&order=desc&limit=2")) == ["Mid(i=1)", "Top()"]
    family = client.get("/api/steps?sort=family&order=asc&offset=12&limit=5")
    assert ids(family) == ["Mid(i=0)", "Mid(i=1)", "Mid(i=2)", "Top()"]
    assert ids(client.get("/api/steps?sort=family&order=asc&offset=12&limit=5")) == ids(family)


@pytest.mark.parametrize("query, message", [("sort=size", "sort must be one of"),
                                            ("sort=id&order=up", "order must be asc or desc")])
def test_steps_api_rejects_a_bad_sort_in_one_line(client: Any, query: str, message: str) -> None:
    reply = client.get("/api/steps?" + query)
    assert reply.status_code == 400 and message in reply.get_json()["error"]


def test_upstream_view_is_bounded_by_depth_with_more_nodes(client: Any, store: Any) -> None:
    register_chain(store)
    graph = client.get(f"/api/step/upstream?id={TOP}&depth=1").get_json()
    steps = {n["id"] for n in graph["nodes"] if "more_of" not in n}
    assert steps == {TOP, *MIDS} and graph["direction"] == "upstream"
    more = {n["more_of"]: n["hidden"] for n in graph["nodes"] if "more_of" in n}
    assert more == {mid: 4 for mid in MIDS}
    assert {"from": TOP, "to": "Mid(i=0)"} in graph["edges"]
    full = client.get(f"/api/step/upstream?id={TOP}&depth=5").get_json()
    assert len(full["nodes"]) == 1 + 3 + 12 and not full["truncated"]


def test_downstream_view_follows_the_reverse_index_and_caps_nodes(client: Any, store: Any) -> None:
    register_chain(store)
    graph = client.get("/api/step/downstream?id=Leaf(i=2,j=3)&depth=4").get_json()
    assert {n["id"] for n in graph["nodes"]} == {"Leaf(i=2,j=3)", "Mid(i=2)", TOP}
    assert {"from": "Mid(i=2)", "to": "Leaf(i=2,j=3)"} in graph["edges"]
    capped = client.get(f"/api/step/upstream?id={TOP}&depth=5&limit=5").get_json()
    assert capped["truncated"] and capped["step_count"] == 5
    assert sum(n.get("hidden", 0) for n in capped["nodes"]) == 12 - 1
    assert client.get("/api/step/sideways?id=Top()").status_code == 404
    assert client.get("/api/step/upstream?id=Nope()").status_code == 404


@pytest.fixture
def live_chain(redis_store: Any, runs_root: Path) -> Any:
    register_chain(redis_store)
    with LiveServer(create_app(ACTIONS_ON, store=redis_store, runs_root=runs_root)) as server:
        yield server


@pytest.mark.browser
def test_sort_headers_sort_server_side_and_survive_a_reload(live_chain: Any, page: Any) -> None:
    page.goto(live_chain.url + "/steps")
    page.wait_for_selector("#steps-body tr[data-step-id]")
    first_id = "document.querySelector('#steps-body tr[data-step-id]').dataset.stepId"
    page.click('#steps-table th[data-sort="id"]')
    page.wait_for_function(f"{first_id} === 'Leaf(i=0,j=0)'")
    assert "sort=id" in page.url and "order=asc" in page.url
    page.click('#steps-table th[data-sort="id"]')
    page.wait_for_function(f"{first_id} === 'Top()'")
    assert page.get_attribute('#steps-table th[data-sort="id"]', "aria-sort") == "descending"
    page.reload()
    page.wait_for_function("document.querySelector('#steps-body tr[data-step-id]')?.dataset.stepId === 'Top()'")
    assert page.locator("#steps-body tr[data-step-id]").count() == 16
    assert page.js_errors == []


@pytest.mark.browser
def test_upstream_and_downstream_buttons_draw_only_that_lineage(live_chain: Any, page: Any) -> None:
    page.goto(f"{live_chain.url}/step?id=Mid(i=1)")
    page.click("#downstream-link")
    page.wait_for_selector('svg#graph a.node[data-id="Top()"]')
    assert sorted(page.locator("svg#graph a.node").evaluate_all("(n) => n.map((x) => x.dataset.id)")) == \
        ["Mid(i=1)", "Top()"]
    page.click('#graph-views button[data-view="upstream"]')
    page.wait_for_selector('svg#graph a.node[data-id="Leaf(i=1,j=0)"]')
    shown = page.locator("svg#graph a.node").evaluate_all("(n) => n.map((x) => x.dataset.id)")
    assert sorted(shown) == sorted(["Mid(i=1)", *LEAVES["Mid(i=1)"]])
    assert page.locator("svg#graph .edges path").count() == 4
    assert "view=upstream" in page.url
    page.goto(f"{live_chain.url}/graph?id=Top()&view=upstream&depth=1")
    more = page.locator('svg#graph a.node[data-id="more:Mid(i=0)"]')
    more.wait_for()
    assert "more… (4)" in more.text_content()
    more.click()
    page.wait_for_selector('svg#graph a.node[data-id="Leaf(i=0,j=3)"]')
    assert page.locator("#graph-title").inner_text() == "Upstream"
    assert page.js_errors == []
