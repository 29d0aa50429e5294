"""Contract: who runs what (worker identity on steps, running index, resource holders as
steps) and lost executions decided by the worker's heartbeat, for every StateStore."""

from __future__ import annotations

from tests.contract.test_state_store import LONG_MS, PAST_TTL, TTL_MS, record

W1 = "w1@host:100"  # a heartbeat id: "<celery name>:<main pid>"
W2 = "w2@host:200"


def beat(store, worker_id: str, ttl_ms: int = LONG_MS) -> None:
    store.heartbeat(worker_id, {"kind": "celery", "hostname": worker_id.split(":")[0]}, ttl_ms)


def started(store, step_id: str, worker_id: str = W1, ttl_ms: int = LONG_MS, pid: int = 4242) -> str:
    token = store.acquire(step_id, "client", ttl_ms)
    assert store.start(step_id, token, worker_id.split(":")[0], pid=pid, worker_id=worker_id)
    return token


def test_start_records_the_worker_its_process_and_lists_the_step_as_running(store):
    beat(store, W1)
    store.register([record("a"), record("b")])
    token = started(store, "a")
    got = store.get("a")
    assert (got.worker, got.worker_pid, got.worker_id) == ("w1@host", 4242, W1)
    assert got.started is not None and got.finished is None and got.status == "RUNNING"
    assert store.running_steps(W1) == ["a"]
    assert store.running_steps(W2) == []
    after = store.last_event_id()
    assert store.finish([("a", token)], "DONE") == [True]
    assert store.running_steps(W1) == []
    (event,) = store.read_events(after)
    assert event.data["worker"] == "w1@host" and 0 <= event.data["duration"] < 60


def test_every_member_of_a_batch_is_listed_with_its_worker(store):
    beat(store, W1)
    store.register([record(f"m{i}") for i in range(3)])
    tokens = [store.acquire(f"m{i}", "client", LONG_MS, "BATCH_RUNNING") for i in range(3)]
    others = [(f"m{i}", tokens[i]) for i in (1, 2)]
    assert store.start("m0", tokens[0], "w1@host", pid=7, worker_id=W1, others=others)
    assert store.running_steps(W1) == ["m0", "m1", "m2"]
    assert {r.status for r in store.get_many(["m0", "m1", "m2"])} == {"BATCH_RUNNING"}
    assert {(r.worker, r.worker_pid) for r in store.get_many(["m0", "m1", "m2"])} == {("w1@host", 7)}
    store.finish([("m0", tokens[0]), *others], "DONE")
    assert store.running_steps(W1) == []


def test_a_lost_step_started_again_elsewhere_leaves_the_first_workers_list(store, clock):
    beat(store, W1, TTL_MS)
    beat(store, W2)
    store.register([record("s")])
    started(store, "s", W1, TTL_MS)
    clock.advance(PAST_TTL)  # W1's heartbeat and the lease lapse: the execution is lost
    assert store.lost([("s", store.started_by(["s"])[0])]) == [True]
    started(store, "s", W2)
    beat(store, W1)  # even were W1 alive again, the step is no longer its
    assert store.running_steps(W2) == ["s"] and store.running_steps(W1) == []


def test_running_steps_of_a_dead_worker_is_empty(store, clock):
    beat(store, W1, TTL_MS)
    store.register([record("s")])
    started(store, "s", W1)
    assert store.running_steps(W1) == ["s"]
    clock.advance(PAST_TTL)
    assert store.running_steps(W1) == []


def test_a_live_workers_step_is_not_lost_when_its_lease_lapses(store, clock):
    beat(store, W1)
    store.register([record("s")])
    token = started(store, "s", W1, TTL_MS)
    clock.advance(PAST_TTL)  # the worker was too busy to renew in time
    assert store.lost([("s", token)]) == [False]
    assert store.acquire("s", "other-client", LONG_MS) is None  # still that worker's
    assert store.request_cancel("s") and store.cancel_requested("s", token)
    assert store.renew("s", token, LONG_MS)  # taken back: nobody acquired it since
    assert store.holders(["s"]) == [token]
    assert store.finish([("s", token)], "DONE") == [True]
    assert not store.renew("s", token, LONG_MS)  # a finished step stays free


def test_a_live_worker_finishes_a_step_whose_lease_lapsed(store, clock):
    beat(store, W1)
    store.register([record("s")])
    token = started(store, "s", W1, TTL_MS)
    clock.advance(PAST_TTL)  # e.g. its pool process died; the worker reports it
    assert store.finish([("s", token)], "FAILED", expl="killed") == [True]
    assert store.get("s").status == "FAILED" and store.running_steps(W1) == []
    assert store.acquire("s", "client", LONG_MS) is not None


def test_a_dead_workers_step_is_lost_at_once_whatever_its_lease(store, clock):
    beat(store, W1, TTL_MS)
    store.register([record("s")])
    token = started(store, "s", W1, LONG_MS)  # a long lease
    assert store.lost([("s", token)]) == [False]
    clock.advance(PAST_TTL)  # only the heartbeat expired
    assert store.holders(["s"]) == [token]
    assert store.lost([("s", token)]) == [True]
    assert store.holders(["s"]) == [None]  # dropped: the dead execution can write nothing
    assert not store.renew("s", token, LONG_MS)
    assert store.finish([("s", token)], "DONE") == [False]
    again = store.acquire("s", "client", LONG_MS)
    assert again is not None and again != token


def test_queued_or_taken_over_executions_follow_the_lease(store, clock):
    store.register([record("q"), record("t")])
    queued = store.acquire("q", "client", TTL_MS)
    assert store.lost([("q", queued)]) == [False]
    clock.advance(PAST_TTL)
    assert store.lost([("q", queued)]) == [True]  # never started: its lease decides
    old = store.acquire("t", "client", TTL_MS)
    assert store.start("t", old, "host:1")  # no heartbeat id: the lease decides
    clock.advance(PAST_TTL)
    new = store.acquire("t", "other", LONG_MS)
    assert store.lost([("t", old), ("t", new)]) == [True, False]


def test_resource_holders_name_their_steps(store):
    store.register([record("a"), record("b")])
    assert store.acquire_resources("client:1", {"db": 1}, {"db": 2}, LONG_MS, ["a", "b"])
    assert store.acquire_resources("anonymous", {"db": 1}, {"db": 2}, LONG_MS)
    assert store.resource_usage() == {"db": {"client:1": 1, "anonymous": 1}}
    assert store.holder_steps(["client:1", "anonymous", "nobody"]) == {"client:1": ["a", "b"]}
    store.release_resources("client:1")
    assert store.holder_steps(["client:1"]) == {}


def test_finishing_a_job_forgets_its_holders_steps(store):
    store.register([record("a")])
    token = store.acquire("a", "client", LONG_MS)
    assert store.acquire_resources("client:2", {"gpu": 1}, {}, LONG_MS, ["a"])
    store.finish([("a", token)], "DONE", holder="client:2")
    assert store.holder_steps(["client:2"]) == {} and store.resource_usage() == {}


def test_heartbeat_age_counts_from_the_last_beat_until_expiry(store, clock):
    beat(store, W1, TTL_MS)
    assert 0 <= store.heartbeat_age(W1) < 0.1
    clock.advance(0.1)
    assert 0.05 <= store.heartbeat_age(W1) < PAST_TTL
    clock.advance(PAST_TTL)
    assert store.heartbeat_age(W1) is None and store.heartbeat_age("nobody") is None
