"""The step protocol in scheduler/leases.py over a memory store with a hand-moved clock."""

from __future__ import annotations

from trunq.core.status import Status
from trunq.scheduler import leases
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StepRecord


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(lease_ms: int = 1000) -> tuple[MemoryStateStore, Clock, leases.Lease]:
    clock = Clock()
    store = MemoryStateStore(clock=clock)
    store.register([StepRecord(step_id="S", family="S")])
    assert leases.acquire_resources(store, "client:1", {"db": 1}, {"db": 1}, lease_ms)
    [token] = leases.acquire(store, ["S"], "client", lease_ms)
    assert token is not None
    return store, clock, leases.Lease([("S", token)], "client:1", lease_ms)


def test_a_held_lease_is_not_acquired_twice_and_resources_are_counted():
    store, _, _ = setup()
    assert leases.acquire(store, ["S"], "other", 1000) == [None]
    assert not leases.acquire_resources(store, "other:1", {"db": 1}, {"db": 1}, 1000)


def test_the_client_renews_until_the_store_says_its_token_started():
    store, clock, lease = setup()
    clock.now += 0.8
    assert leases.renew_queued(store, [lease]) == []  # still queued: renewed by the client
    clock.now += 0.8
    assert leases.lost(store, [lease]) == []  # 1.6 s after acquiring, alive thanks to the renewal
    assert leases.start(store, lease, "host:42")
    assert store.get("S").worker == "host:42"
    assert leases.renew_queued(store, [lease]) == [lease]  # hand-off: the worker renews now


def test_start_is_once_per_token_and_finish_is_fenced():
    store, clock, lease = setup()
    assert leases.start(store, lease, "host:1")
    assert not leases.start(store, lease, "host:2")  # a redelivered message does nothing
    clock.now += 2  # expired: another client takes the step over
    [token] = leases.acquire(store, ["S"], "other", 1000)
    assert leases.finish(store, lease, Status.DONE) == [False]  # the stale token writes nothing
    assert store.get("S").status == Status.RUNNING
    newer = leases.Lease([("S", token)], "", 1000)
    assert leases.finish(store, newer, Status.FAILED, "boom") == [True]
    assert store.get("S").status == Status.FAILED


def test_finish_releases_resources_and_announces_dynamic_deps_first():
    store, _, lease = setup()
    after = store.last_event_id()
    assert leases.finish(store, lease, Status.PENDING, None, [{"module": "m", "family": "F", "params": {}}])
    kinds = [(event.kind, event.data.get("status")) for event in store.read_events(after)]
    assert kinds == [("dynamic", None), ("status", Status.PENDING)]
    assert store.resource_usage() == {}


def test_a_lease_that_lapses_without_a_finish_is_lost():
    store, clock, lease = setup()
    assert leases.start(store, lease, "host:1")
    assert leases.renew(store, lease)
    clock.now += 2
    assert not leases.renew(store, lease)
    assert leases.lost(store, [lease]) == [lease]
    assert leases.free(store, ["S"]) == [True]
