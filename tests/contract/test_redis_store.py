"""What only the Redis store has: key layout, namespaces, connection errors, restarts, scale."""

from __future__ import annotations

import time

import pytest
import redis

from tests.redis_fixtures import free_port
from trunq.scheduler.keys import KeySpace
from trunq.scheduler.redis import RedisStateStore, StoreUnavailable, connect
from trunq.scheduler.state import SCHEMA_VERSION, StepRecord


@pytest.fixture
def raw(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def store(redis_url):
    store = connect(redis_url)
    yield store
    store.close()


def test_connect_to_nothing_raises_one_clear_line():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreUnavailable) as caught:
        connect(url)
    assert str(caught.value) == f"cannot reach Redis at {url} (Connection refused)"


def test_connect_rejects_a_bad_url():
    with pytest.raises(StoreUnavailable, match="invalid Redis URL"):
        connect("http://nowhere")


def test_scripts_and_python_agree_on_the_key_layout(store, raw):
    keys = KeySpace("trunq")
    store.register([StepRecord("S(x=1)", "S", params={"x": "1"})])
    token = store.acquire("S(x=1)", "c", 60_000)
    store.start("S(x=1)", token, "w1")
    store.acquire_resources("h", {"db": 1}, {}, 60_000)
    store.heartbeat("w1", {}, 60_000)
    store.send_message("S(x=1)", "hi")
    store.record_failure("S(x=1)", 60)
    store.disable("S(x=1)", 60)
    expected = [keys.step("S(x=1)"), keys.lease("S(x=1)"), keys.fence("S(x=1)"), keys.started("S(x=1)"),
                keys.index(),
                keys.index("DISABLED"), keys.index(family="S"), keys.index("DISABLED", "S"),
                keys.status_counts(), keys.status_counts("S"), keys.family_counts, keys.events,
                keys.resource("db"), keys.resources, keys.held("h"), keys.worker("w1"), keys.workers,
                keys.inbox("S(x=1)"), keys.failures("S(x=1)"), keys.disabled]
    assert [name for name in expected if not raw.exists(name)] == []
    assert all(name.startswith("{trunq}:") for name in raw.keys("*"))
    assert raw.get(keys.lease("S(x=1)")) == token


def test_step_hash_is_plain_versioned_data(store, raw):
    store.register([StepRecord("S()", "S", params={"a": "b"}, deps=["T()"], accepts_messages=True)])
    fields = raw.hgetall(KeySpace().step("S()"))
    assert fields["v"] == str(SCHEMA_VERSION)
    assert fields["params"] == '{"a": "b"}' and fields["deps"] == '["T()"]'
    assert fields["status"] == "PENDING" and fields["accepts_messages"] == "1"


def test_namespaces_do_not_see_each_other(redis_url):
    blue, green = RedisStateStore(redis_url, namespace="blue"), RedisStateStore(redis_url, namespace="green")
    try:
        blue.register([StepRecord("S()", "S")])
        assert green.get("S()") is None and green.family_counts() == {}
        assert green.acquire("S()", "c", 60_000) is not None
        assert blue.acquire("S()", "c", 60_000) is not None
    finally:
        blue.close()
        green.close()


def test_injected_clock_drives_timestamps_and_windows(redis_url):
    now = [5_000.0]
    store = RedisStateStore(redis_url, clock=lambda: now[0])
    try:
        store.register([StepRecord("S()", "S")])
        assert store.get("S()").updated == 5_000.0
        assert store.record_failure("S()", 10) == 1
        now[0] += 20
        assert store.record_failure("S()", 10) == 1
        assert store.now() == 5_020.0
    finally:
        store.close()


def test_store_keeps_working_after_redis_restarts(redis_server, redis_url):
    store = RedisStateStore(redis_url)
    try:
        store.register([StepRecord("S()", "S")])
        redis_server.restart()
        assert store.ping()
        assert store.get("S()") is None  # no persistence in tests: the data is gone
        store.register([StepRecord("S()", "S")])
        assert store.get("S()").status == "PENDING"
    finally:
        store.close()


def test_losing_redis_raises_store_unavailable(redis_server, redis_url):
    store = RedisStateStore(redis_url)
    try:
        store.register([StepRecord("S()", "S")])
        redis_server.stop()
        with pytest.raises(StoreUnavailable, match=f"cannot reach Redis at {redis_url}"):
            store.get("S()")
    finally:
        store.close()
        redis_server.start()


def test_step_list_pages_stay_fast_with_many_steps(store):
    records = [StepRecord(f"F{i % 10}(i={i})", f"F{i % 10}") for i in range(20_000)]
    store.register(records)
    for record in records[:500]:
        store.finish([(record.step_id, store.acquire(record.step_id, "c", 60_000))], "DONE")
    began = time.perf_counter()
    total, page = store.list_steps(status="PENDING", family="F3", offset=1000, limit=50)
    counts = store.status_counts()
    elapsed = time.perf_counter() - began
    assert total == 1950 and len(page) == 50
    assert counts == {"PENDING": 19_500, "DONE": 500}
    assert elapsed < 0.2
