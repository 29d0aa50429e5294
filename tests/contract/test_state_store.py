"""One contract for every StateStore (see trunq/scheduler/state.py): memory and Redis.

Expiry tests use short leases (TTL_MS) and ``clock.advance(PAST_TTL)``, which is instant
for the memory store and a real wait for Redis.
"""

from __future__ import annotations

import threading
import time

from trunq.scheduler.state import StateStore, StepRecord

TTL_MS = 200
PAST_TTL = 0.3
LONG_MS = 60_000


def record(step_id: str, family: str = "Fam", **fields) -> StepRecord:
    return StepRecord(step_id=step_id, family=family, **fields)


def test_both_stores_implement_the_protocol(store):
    assert isinstance(store, StateStore)


# ---- step records ----------------------------------------------------------------------
def test_register_and_get_round_trip_every_field(store):
    store.register([record("A(x=1)", module="mod", params={"x": "1"}, deps=["B()"], priority=5,
                           resources={"db": 2}, accepts_messages=True)])
    got = store.get("A(x=1)")
    assert (got.step_id, got.family, got.module) == ("A(x=1)", "Fam", "mod")
    assert (got.params, got.deps, got.priority, got.resources) == ({"x": "1"}, ["B()"], 5, {"db": 2})
    assert got.accepts_messages is True and got.status == "PENDING"
    assert got.progress is None and got.started is None and got.expl is None
    assert abs(got.updated - store.now()) < 5
    assert store.get("missing") is None


def test_get_many_keeps_order_and_gaps(store):
    store.register([record("a"), record("b")])
    assert [r and r.step_id for r in store.get_many(["b", "nope", "a"])] == ["b", None, "a"]


def test_register_resets_status_to_pending_but_keeps_retries(store):
    store.register([record("s")])
    store.record_failure("s", 60)
    token = store.acquire("s", "w", LONG_MS)
    store.finish([("s", token)], "FAILED")
    store.register([record("s", priority=3)])
    got = store.get("s")
    assert (got.status, got.priority, got.retries) == ("PENDING", 3, 1)


def test_register_keeps_status_of_a_leased_step(store):
    store.register([record("s")])
    store.acquire("s", "w", LONG_MS)
    store.register([record("s", module="new")])
    got = store.get("s")
    assert (got.status, got.module) == ("RUNNING", "new")


def test_register_keeps_disabled_steps_disabled(store):
    store.register([record("s")])
    store.disable("s", 60)
    store.register([record("s")])
    assert store.get("s").status == "DISABLED"


def test_update_sets_display_fields(store):
    store.register([record("s")])
    store.update("s", status_message="half way", progress=0.5, tracking_url="http://x/1")
    got = store.get("s")
    assert (got.status_message, got.progress, got.tracking_url) == ("half way", 0.5, "http://x/1")
    store.update("s", status_message=None)
    assert store.get("s").status_message is None
    store.update("unknown-step", progress=1.0)
    assert store.get("unknown-step") is None


def test_list_steps_filters_pages_and_orders_newest_first(store, clock):
    store.register([record(f"A({i})", "A") for i in range(5)] + [record("B(0)", "B")])
    for step_id in ("A(3)", "A(1)", "B(0)"):
        clock.advance(0.01)
        store.acquire(step_id, "w", LONG_MS)
    total, page = store.list_steps(status="RUNNING")
    assert total == 3 and [r.step_id for r in page] == ["B(0)", "A(1)", "A(3)"]
    total, page = store.list_steps(status="RUNNING", family="A")
    assert total == 2 and [r.step_id for r in page] == ["A(1)", "A(3)"]
    total, page = store.list_steps(family="A", offset=1, limit=2)
    assert total == 5 and len(page) == 2
    total, page = store.list_steps(status="PENDING", family="A")
    assert total == 3 and {r.step_id for r in page} == {"A(0)", "A(2)", "A(4)"}
    assert store.list_steps(limit=50)[0] == 6


def test_list_steps_search_is_a_case_insensitive_substring(store):
    store.register([record("Report(day=1)"), record("Report(day=2)"), record("Other()")])
    total, page = store.list_steps(search="REPORT")
    assert total == 2 and {r.step_id for r in page} == {"Report(day=1)", "Report(day=2)"}
    total, page = store.list_steps(search="day=", offset=1, limit=1)
    assert total == 2 and len(page) == 1
    assert store.list_steps(search="nothing")[0] == 0


def test_status_and_family_counts_follow_every_change(store):
    store.register([record("a1", "A"), record("a2", "A"), record("b1", "B")])
    assert store.status_counts() == {"PENDING": 3}
    assert store.family_counts() == {"A": 2, "B": 1}
    token = store.acquire("a1", "w", LONG_MS)
    store.finish([("a1", token)], "DONE")
    store.disable("b1", 60)
    assert store.status_counts() == {"PENDING": 1, "DONE": 1, "DISABLED": 1}
    assert store.status_counts(family="A") == {"PENDING": 1, "DONE": 1}
    assert store.status_counts(family="B") == {"DISABLED": 1}
    store.register([record("a1", "A")])  # re-registered: counted once, PENDING again
    assert store.status_counts() == {"PENDING": 2, "DISABLED": 1}
    assert store.family_counts() == {"A": 2, "B": 1}


# ---- leases ----------------------------------------------------------------------------
def test_acquire_gives_a_token_and_refuses_a_second_holder(store):
    store.register([record("s")])
    token = store.acquire("s", "client-1", LONG_MS)
    assert token is not None and token.startswith("client-1:")
    assert store.acquire("s", "client-2", LONG_MS) is None
    assert store.holders(["s", "other"]) == [token, None]
    assert store.get("s").status == "RUNNING"


def test_acquire_many_leases_each_step_as_acquire_does(store):
    store.register([record("a"), record("b"), record("c")])
    held = store.acquire("b", "client-1", LONG_MS)
    tokens = store.acquire_many(["a", "b", "c"], "client-2", LONG_MS, status="BATCH_RUNNING")
    assert tokens[1] is None and all(token.startswith("client-2:") for token in (tokens[0], tokens[2]))
    assert store.holders(["a", "b", "c"]) == [tokens[0], held, tokens[2]]
    assert [store.get(step_id).status for step_id in "ac"] == ["BATCH_RUNNING", "BATCH_RUNNING"]
    assert store.acquire_many([], "client-2", LONG_MS) == []


def test_finish_then_start_ends_one_job_and_begins_the_next_each_fenced(store):
    store.register([record("a"), record("b"), record("c")])
    token_a, token_b, token_c = (store.acquire(step_id, "client", LONG_MS) for step_id in "abc")
    assert store.start("a", token_a, "w1@host", pid=7)
    finished, started = store.finish_then_start([("a", token_a)], "DONE", expl="ok", step_id="b", token=token_b,
                                                worker="w1@host", pid=7)
    assert (finished, started) == ([True], True)
    assert store.get("a").status == "DONE" and store.holders(["a"]) == [None]
    assert store.started_by(["b"]) == [token_b] and store.get("b").worker == "w1@host"
    # a stale finish is refused on its own; a second start of the same token does nothing
    finished, started = store.finish_then_start([("a", token_a)], "FAILED", step_id="b", token=token_b,
                                                worker="w1@host")
    assert (finished, started) == ([False], False) and store.get("a").status == "DONE"
    finished, started = store.finish_then_start([("b", token_b)], "DONE", step_id="c", token=token_c,
                                                worker="w1@host")
    assert (finished, started) == ([True], True)


def test_acquire_sets_the_requested_status(store):
    store.register([record("s")])
    store.acquire("s", "w", LONG_MS, status="BATCH_RUNNING")
    assert store.get("s").status == "BATCH_RUNNING"


def test_expired_lease_is_taken_over_with_a_higher_fence(store, clock):
    store.register([record("s")])
    first = store.acquire("s", "old", TTL_MS)
    clock.advance(PAST_TTL)
    assert store.holders(["s"]) == [None]
    second = store.acquire("s", "new", LONG_MS)
    assert second is not None
    assert int(second.rsplit(":", 1)[1]) > int(first.rsplit(":", 1)[1])
    assert not store.renew("s", first, LONG_MS)
    assert not store.start("s", first, "w-old")
    assert store.finish([("s", first)], "DONE") == [False]
    assert store.get("s").status == "RUNNING"
    assert store.holders(["s"]) == [second]


def test_start_and_renew_with_the_current_token(store, clock):
    store.register([record("s")])
    token = store.acquire("s", "w", TTL_MS)
    assert store.start("s", token, "worker-7")
    got = store.get("s")
    assert got.worker == "worker-7" and got.started is not None
    for _ in range(3):  # renewing keeps the lease alive past its first TTL
        clock.advance(0.1)
        assert store.renew("s", token, TTL_MS)
    assert store.holders(["s"]) == [token]
    assert not store.renew("s", "w:999", TTL_MS)


def test_a_token_starts_a_step_only_once(store):
    store.register([record("s")])
    token = store.acquire("s", "w", LONG_MS)
    assert store.start("s", token, "worker-1")
    assert not store.start("s", token, "worker-2")  # the same message delivered again
    store.finish([("s", token)], "FAILED")
    again = store.acquire("s", "w", LONG_MS)
    assert store.start("s", again, "worker-2")  # a new lease starts again


def test_finish_writes_status_releases_lease_and_logs_an_event(store):
    store.register([record("s")])
    after = store.last_event_id()
    token = store.acquire("s", "w", LONG_MS)
    assert store.finish([("s", token)], "FAILED", expl="boom") == [True]
    got = store.get("s")
    assert (got.status, got.expl) == ("FAILED", "boom") and got.finished is not None
    assert store.holders(["s"]) == [None]
    events = store.read_events(after)
    assert [(e.kind, e.step_id, e.data["status"]) for e in events] == [("status", "s", "FAILED")]
    assert store.finish([("s", token)], "DONE") == [False]  # a token finishes once
    assert store.acquire("s", "w", LONG_MS) is not None


def test_an_execution_finishes_after_its_lease_and_its_workers_heartbeat_lapsed(store, clock):
    # A Redis frozen for longer than both TTLs expires them on resume, before the worker beats
    # again: the step's own finish must still land, or nobody would ever finish it.
    store.register([record("s"), record("t")])
    tokens = {sid: store.acquire(sid, "w", TTL_MS) for sid in ("s", "t")}
    store.heartbeat("w1", {"host": "a"}, TTL_MS)
    for sid, token in tokens.items():
        assert store.start(sid, token, "w1@a", pid=1, worker_id="w1")
    clock.advance(PAST_TTL)
    assert store.live_workers() == []
    assert store.finish([("s", tokens["s"])], "DONE") == [True]
    assert store.get("s").status == "DONE"
    assert store.lost([("t", tokens["t"])]) == [True]  # given up as lost first: then refused
    assert store.finish([("t", tokens["t"])], "DONE") == [False]


def test_finish_of_a_batch_with_one_stale_token(store, clock):
    store.register([record("a"), record("b"), record("c")])
    stale = store.acquire("b", "w", TTL_MS)
    clock.advance(PAST_TTL)
    thief = store.acquire("b", "other", LONG_MS)
    tokens = {sid: store.acquire(sid, "w", LONG_MS) for sid in ("a", "c")}
    after = store.last_event_id()
    results = store.finish([("a", tokens["a"]), ("b", stale), ("c", tokens["c"])], "DONE")
    assert results == [True, False, True]
    assert [store.get(s).status for s in "abc"] == ["DONE", "RUNNING", "DONE"]
    assert store.holders(["b"]) == [thief]
    assert [e.step_id for e in store.read_events(after)] == ["a", "c"]


def test_finish_releases_the_holders_resources(store):
    store.register([record("s")])
    token = store.acquire("s", "w", LONG_MS)
    assert store.acquire_resources("holder-s", {"db": 2}, {"db": 2}, LONG_MS)
    store.finish([("s", token)], "DONE", holder="holder-s")
    assert store.resource_usage() == {}
    assert store.acquire_resources("next", {"db": 2}, {"db": 2}, LONG_MS)


# ---- counted resources -----------------------------------------------------------------
def test_resources_respect_capacity(store):
    limits = {"db": 2}
    assert store.acquire_resources("h1", {"db": 1}, limits, LONG_MS)
    assert store.acquire_resources("h2", {"db": 1}, limits, LONG_MS)
    assert not store.acquire_resources("h3", {"db": 1}, limits, LONG_MS)
    assert store.resource_usage() == {"db": {"h1": 1, "h2": 1}}


def test_resources_are_all_or_nothing(store):
    limits = {"db": 1, "gpu": 1}
    assert store.acquire_resources("h1", {"db": 1}, limits, LONG_MS)
    assert not store.acquire_resources("h2", {"gpu": 1, "db": 1}, limits, LONG_MS)
    assert store.resource_usage() == {"db": {"h1": 1}}
    assert store.acquire_resources("h3", {"gpu": 1}, limits, LONG_MS)


def test_resource_missing_from_limits_has_capacity_one(store):
    assert store.acquire_resources("h1", {"lock": 1}, {}, LONG_MS)
    assert not store.acquire_resources("h2", {"lock": 1}, {}, LONG_MS)
    assert not store.acquire_resources("h3", {"big": 2}, {}, LONG_MS)


def test_expired_resource_holders_are_reaped(store, clock):
    assert store.acquire_resources("crashed", {"db": 2}, {"db": 2}, TTL_MS)
    assert store.acquire_resources("alive", {"gpu": 1}, {}, LONG_MS)
    clock.advance(PAST_TTL)
    assert store.resource_usage() == {"gpu": {"alive": 1}}
    assert store.acquire_resources("next", {"db": 2}, {"db": 2}, LONG_MS)


def test_renewed_resources_outlive_their_first_ttl_and_expired_ones_stay_lost(store, clock):
    assert store.acquire_resources("h", {"db": 1}, {}, TTL_MS)
    clock.advance(0.1)
    store.renew_resources("h", TTL_MS)
    clock.advance(0.15)
    assert store.resource_usage() == {"db": {"h": 1}}
    clock.advance(PAST_TTL)
    store.renew_resources("h", LONG_MS)
    assert store.resource_usage() == {}


def test_partial_and_full_release(store):
    limits = {"db": 3, "gpu": 1}
    assert store.acquire_resources("h", {"db": 3, "gpu": 1}, limits, LONG_MS)
    store.release_resources("h", {"db": 2})
    assert store.resource_usage() == {"db": {"h": 1}, "gpu": {"h": 1}}
    assert store.acquire_resources("other", {"db": 2}, limits, LONG_MS)
    store.release_resources("h")
    assert store.resource_usage() == {"db": {"other": 2}}


def test_reacquiring_replaces_the_holders_own_amount(store):
    assert store.acquire_resources("h", {"db": 2}, {"db": 2}, LONG_MS)
    assert store.acquire_resources("h", {"db": 1}, {"db": 2}, LONG_MS)
    assert store.resource_usage() == {"db": {"h": 1}}


# ---- events ----------------------------------------------------------------------------
def test_events_are_ordered_and_readable_from_any_id(store):
    assert store.last_event_id() in ("0-0", "0")
    ids = [store.publish("custom", f"s{i}", {"n": i}) for i in range(3)]
    events = store.read_events("0")
    assert [e.id for e in events] == ids and [e.data["n"] for e in events] == [0, 1, 2]
    assert [e.kind for e in events] == ["custom"] * 3
    assert [e.step_id for e in store.read_events(ids[0])] == ["s1", "s2"]
    assert len(store.read_events("0", count=2)) == 2
    assert store.read_events(ids[-1]) == []
    assert store.last_event_id() == ids[-1]


def test_event_data_round_trips_unchanged(store):
    data = {"empty": [], "nested": {"list": [1, "two", None], "flag": True}, "big": 2**53, "text": "a/b"}
    event_id = store.publish("custom", "s", data)
    assert [(e.id, e.data) for e in store.read_events("0")] == [(event_id, data)]


def test_dollar_means_only_new_events(store):
    store.publish("old", "s", {})
    assert store.read_events("$") == []


def test_blocking_read_wakes_up_on_a_new_event(store):
    store.publish("old", "s", {})
    publisher = threading.Timer(0.1, lambda: store.publish("fresh", "s", {"x": 1}))
    publisher.start()
    try:
        began = time.monotonic()
        events = store.read_events("$", block_ms=5000)
        assert [e.kind for e in events] == ["fresh"]
        assert time.monotonic() - began < 4
    finally:
        publisher.cancel()
        publisher.join()


def test_blocking_read_times_out_empty(store):
    began = time.monotonic()
    assert store.read_events(store.last_event_id(), block_ms=200) == []
    assert 0.15 <= time.monotonic() - began < 3


# ---- failures and disabling ------------------------------------------------------------
def test_failures_are_counted_within_the_window(store, clock):
    store.register([record("s")])
    assert store.record_failure("s", window_s=0.25) == 1
    assert store.record_failure("s", window_s=0.25) == 2
    assert store.get("s").retries == 2
    clock.advance(PAST_TTL)
    assert store.record_failure("s", window_s=0.25) == 1


def test_disable_and_re_enable(store, clock):
    store.register([record("s"), record("t")])
    after = store.last_event_id()
    store.record_failure("s", 60)
    store.disable("s", 60)
    assert store.disabled(["s", "t"]) == [True, False]
    assert store.get("s").status == "DISABLED"
    assert [(e.step_id, e.data["status"]) for e in store.read_events(after)] == [("s", "DISABLED")]
    store.re_enable("s")
    assert store.disabled(["s"]) == [False]
    got = store.get("s")
    assert (got.status, got.retries) == ("FAILED", 0)
    assert store.record_failure("s", 60) == 1


def test_disabling_expires(store, clock):
    store.register([record("s")])
    store.disable("s", 0.2)
    clock.advance(PAST_TTL)
    assert store.disabled(["s"]) == [False]
    store.register([record("s")])
    assert store.get("s").status == "PENDING"


# ---- workers ---------------------------------------------------------------------------
def test_heartbeats_expire(store, clock):
    store.heartbeat("w1", {"host": "a"}, TTL_MS)
    store.heartbeat("w2", {"host": "b"}, LONG_MS)
    workers = {w["id"]: w for w in store.live_workers()}
    assert set(workers) == {"w1", "w2"} and workers["w1"]["host"] == "a"
    assert abs(workers["w1"]["last_heartbeat"] - store.now()) < 5
    clock.advance(PAST_TTL)
    assert [w["id"] for w in store.live_workers()] == ["w2"]
    store.heartbeat("w1", {"host": "a", "queues": [], "slots": 4}, LONG_MS)
    workers = {w["id"]: w for w in store.live_workers()}
    assert set(workers) == {"w1", "w2"}
    assert (workers["w1"]["queues"], workers["w1"]["slots"]) == ([], 4)


# ---- dependents (reverse index of deps) ------------------------------------------------
def test_dependents_are_indexed_at_register_time(store):
    store.register([record("C()"), record("B()", deps=["C()"]), record("A()", deps=["B()", "C()"])])
    assert store.dependents("C()") == ["A()", "B()"]
    assert store.dependents("B()") == ["A()"]
    assert store.dependents("A()") == [] and store.dependents("unknown") == []


def test_dependents_follow_a_step_registered_again_with_other_deps(store):
    store.register([record("A()", deps=["B()", "C()"])])
    store.register([record("A()", deps=["C()", "D()"])])
    assert store.dependents("B()") == []
    assert store.dependents("C()") == ["A()"] and store.dependents("D()") == ["A()"]
    store.register([record("A()")])
    assert store.dependents("C()") == [] and store.dependents("D()") == []


# ---- cancelling a running step -----------------------------------------------------------
def test_cancel_flags_the_execution_holding_the_lease_and_logs_an_event(store):
    store.register([record("s")])
    assert store.request_cancel("s", "web") is False  # nothing runs: nothing to stop
    token = store.acquire("s", "w", LONG_MS)
    assert store.cancel_requested("s", token) is False
    after = store.last_event_id()
    assert store.request_cancel("s", "web") is True
    assert store.cancel_requested("s", token) is True
    assert store.cancel_requested("s", "w:999") is False  # another execution is not concerned
    assert [(e.kind, e.step_id, e.data) for e in store.read_events(after)] == [("cancel", "s", {"requested_by": "web"})]


def test_a_cancel_does_not_outlive_its_execution(store, clock):
    store.register([record("s"), record("t")])
    finished = store.acquire("s", "w", LONG_MS)
    store.request_cancel("s")
    store.finish([("s", finished)], "FAILED", expl="cancelled")
    rerun = store.acquire("s", "w", LONG_MS)
    assert not store.cancel_requested("s", finished) and not store.cancel_requested("s", rerun)
    expired = store.acquire("t", "w", TTL_MS)
    store.request_cancel("t")
    assert store.cancel_requested("t", expired)
    clock.advance(PAST_TTL)
    taken_over = store.acquire("t", "other", LONG_MS)
    assert not store.cancel_requested("t", taken_over)


# ---- messages --------------------------------------------------------------------------
def test_messages_are_queued_taken_once_and_answered(store):
    after = store.last_event_id()
    first = store.send_message("s", "hello")
    second = store.send_message("s", "again")
    assert first != second
    assert store.take_messages("s") == [(first, "hello"), (second, "again")]
    assert store.take_messages("s") == []
    assert store.response("s", first) is None
    store.respond("s", first, "hi back")
    assert store.response("s", first) == "hi back"
    events = store.read_events(after)
    assert [e.kind for e in events] == ["message", "message", "response"]
    assert events[0].data == {"message_id": first, "content": "hello"}
    assert events[2].data == {"message_id": first, "response": "hi back"}


def test_conversation_keeps_sent_messages_and_answers_after_they_are_taken(store):
    first = store.send_message("s", "hello")
    second = store.send_message("s", "again")
    store.take_messages("s")
    store.respond("s", second, "second answer")
    said = store.conversation("s")
    assert [(m["message_id"], m["content"], m["response"]) for m in said] == \
        [(first, "hello", None), (second, "again", "second answer")]
    assert abs(said[0]["sent"] - store.now()) < 5
    assert [m["content"] for m in store.conversation("s", limit=1)] == ["again"]
    assert store.conversation("other") == []


def test_conversation_keeps_only_the_last_messages(store):
    from trunq.scheduler.state import MAX_CONVERSATION
    for n in range(MAX_CONVERSATION + 5):
        store.send_message("s", f"m{n}")
    said = store.conversation("s")
    assert len(said) == MAX_CONVERSATION and said[0]["content"] == "m5"


def test_now_moves_forward(store, clock):
    before = store.now()
    clock.advance(0.01)
    assert store.now() > before


def _ids(page):
    return [r.step_id for r in page]


def test_list_steps_sorts_by_id_family_status_and_updated_with_id_tiebreak(store, clock):
    store.register([record("b(1)", "B"), record("a(2)", "A"), record("a(1)", "A"), record("c(0)", "C")])
    clock.advance(0.01)
    store.acquire("c(0)", "w", LONG_MS)
    clock.advance(0.01)
    store.acquire("a(2)", "w", LONG_MS)
    assert _ids(store.list_steps(sort="id", descending=False)[1]) == ["a(1)", "a(2)", "b(1)", "c(0)"]
    assert _ids(store.list_steps(sort="id")[1]) == ["c(0)", "b(1)", "a(2)", "a(1)"]
    assert _ids(store.list_steps(sort="family", descending=False)[1]) == ["a(1)", "a(2)", "b(1)", "c(0)"]
    # status groups in name order (PENDING < RUNNING), ties broken by id
    assert _ids(store.list_steps(sort="status", descending=False)[1]) == ["a(1)", "b(1)", "a(2)", "c(0)"]
    assert _ids(store.list_steps(sort="status")[1]) == ["c(0)", "a(2)", "b(1)", "a(1)"]
    # same registration time: the id breaks the tie, in the direction asked for
    assert _ids(store.list_steps(sort="updated")[1]) == ["a(2)", "c(0)", "b(1)", "a(1)"]
    assert _ids(store.list_steps(sort="updated", descending=False)[1]) == ["a(1)", "b(1)", "c(0)", "a(2)"]


def test_sorted_pages_filter_search_and_stay_stable(store):
    store.register([record(f"S({i:02d})", "F" if i % 2 else "G") for i in range(30)])
    total, page = store.list_steps(sort="id", descending=False, offset=5, limit=4)
    assert total == 30 and _ids(page) == ["S(05)", "S(06)", "S(07)", "S(08)"]
    assert _ids(store.list_steps(sort="id", descending=False, offset=5, limit=4)[1]) == _ids(page)
    total, page = store.list_steps(sort="family", descending=True, offset=14, limit=3)
    assert total == 30 and _ids(page) == ["S(00)", "S(29)", "S(27)"]
    total, page = store.list_steps(sort="status", family="F", descending=False, limit=2)
    assert total == 15 and _ids(page) == ["S(01)", "S(03)"]
    total, page = store.list_steps(sort="id", search="s(1", descending=True, offset=1, limit=2)
    assert total == 10 and _ids(page) == ["S(18)", "S(17)"]
    total, page = store.list_steps(sort="updated", search="s(2", descending=False, limit=3)
    assert total == 10 and _ids(page) == ["S(20)", "S(21)", "S(22)"]


def test_list_steps_rejects_an_unknown_sort(store):
    import pytest

    from trunq.core.errors import UsageError
    with pytest.raises(UsageError, match="unknown sort 'bogus'"):
        store.list_steps(sort="bogus")
