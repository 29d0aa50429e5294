"""Contract: step records have a lifecycle. Re-registering keeps what the last run left;
``sweep`` forgets steps past retention with every key, index entry and count of theirs."""

from __future__ import annotations

from tests.contract.test_state_store import LONG_MS, PAST_TTL, TTL_MS, record
from tests.contract.test_who_ran import W1, beat, started


def _ran(store, step_id: str) -> None:
    token = started(store, step_id)
    store.update(step_id, progress=0.5, status_message="half way")
    assert store.finish([(step_id, token)], "DONE", expl="all good") == [True]


def test_re_registering_a_step_keeps_its_last_run_and_clears_its_live_state(store):
    beat(store, W1)
    store.register([record("a", priority=1)])
    _ran(store, "a")
    before = store.get("a")
    store.register([record("a", priority=5, deps=["x"])])  # the same graph built again
    after = store.get("a")
    assert (after.priority, after.deps, after.status) == (5, ["x"], "PENDING")
    assert (after.worker, after.worker_pid, after.expl) == ("w1@host", 4242, "all good")
    assert after.started == before.started and after.finished == before.finished
    assert after.progress is None and after.status_message is None


def test_re_registering_a_running_step_keeps_its_progress(store):
    beat(store, W1)
    store.register([record("a")])
    started(store, "a")
    store.update("a", progress=0.25)
    store.register([record("a")])
    assert store.get("a").status == "RUNNING" and store.get("a").progress == 0.25


def test_a_live_workers_step_whose_lease_lapsed_stays_running_when_registered_again(store, clock):
    beat(store, W1)
    store.register([record("s")])
    started(store, "s", W1, TTL_MS)
    clock.advance(PAST_TTL)  # a busy worker renews late
    store.register([record("s")])
    assert store.get("s").status == "RUNNING"


def test_sweep_forgets_old_steps_with_their_indexes_and_counts(store, clock):
    beat(store, W1)
    store.register([record("old1", deps=["old0"]), record("old0")])
    _ran(store, "old0")
    store.record_failure("old1", 3600)
    clock.advance(PAST_TTL)
    store.register([record("new", family="Other", deps=["old0"])])
    assert store.sweep(PAST_TTL / 2) == 2
    assert store.get("old0") is None and store.get("old1") is None
    assert store.get("new") is not None
    assert store.status_counts() == {"PENDING": 1}
    assert store.family_counts() == {"Other": 1}
    assert store.status_counts("Fam") == {}
    assert store.list_steps(family="Fam") == (0, [])
    assert store.list_steps()[0] == 1
    assert store.dependents("old0") == ["new"]  # still needed by a step that stays
    assert store.running_steps(W1) == []
    store.register([record("old1")])  # a forgotten step comes back as new
    assert store.get("old1").retries == 0 and store.status_counts()["PENDING"] == 2


def test_sweep_keeps_recent_leased_and_live_steps(store, clock):
    beat(store, W1)
    store.register([record("running"), record("queued"), record("idle")])
    started(store, "running", W1, TTL_MS)
    store.acquire("queued", "client", LONG_MS)
    clock.advance(PAST_TTL)  # running's lease lapses, but its worker is alive
    assert store.sweep(PAST_TTL / 2) == 1
    assert [store.get(i) is not None for i in ("running", "queued", "idle")] == [True, True, False]
    assert store.sweep(3600) == 0


def test_sweep_keeps_a_step_still_disabled(store, clock):
    store.register([record("bad"), record("fine")])
    store.disable("bad", 3600)
    clock.advance(PAST_TTL)
    assert store.sweep(PAST_TTL / 2) == 1
    assert store.get("bad") is not None and store.disabled(["bad"]) == [True]


def test_sweep_takes_at_most_limit_steps_a_call(store, clock):
    store.register([record(f"s{i}") for i in range(7)])
    clock.advance(PAST_TTL)
    assert store.sweep(PAST_TTL / 2, limit=3) == 3
    assert store.sweep(PAST_TTL / 2, limit=3) == 3
    assert store.sweep(PAST_TTL / 2, limit=3) == 1
    assert store.list_steps()[0] == 0
