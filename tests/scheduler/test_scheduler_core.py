"""The scheduling policy on its own: no steps run, no I/O."""

from __future__ import annotations

from types import SimpleNamespace

from trunq.scheduler.core import BATCH_RUNNING, DONE, FAILED, READY, RUNNING, Node, SchedulerCore


def node(step_id, deps=(), priority=0, resources=None, batch_key=None, max_batch=float("inf")):
    return Node(step_id, SimpleNamespace(name=step_id), deps=tuple(deps), priority=priority,
                resources=resources or {}, batch_key=batch_key, max_batch_size=max_batch)


def build(core, *nodes):
    for n in nodes:
        core.add(n)
    for n in nodes:
        core.link(n)


def test_dependencies_gate_readiness_and_counters_release_dependents():
    core = SchedulerCore()
    a, b, c = node("a"), node("b", ["a"]), node("c", ["a", "b"])
    build(core, c, b, a)
    assert [a.status, b.status, c.status] == [READY, "PENDING", "PENDING"]
    assert core.next_batch() == [a]
    assert core.next_batch() is None
    assert core.finished([a], ok=True) == [b]
    core.finished(core.next_batch(), ok=True)
    assert c.status == READY


def test_priority_orders_hand_out_and_flows_to_dependencies():
    core = SchedulerCore()
    low, high_dep, high = node("low", priority=1), node("dep"), node("high", ["dep"], priority=10)
    build(core, low, high, high_dep)
    assert high_dep.priority == 10
    assert core.next_batch() == [high_dep]


def test_resources_limit_and_greedy_reservation_prevents_starvation():
    core = SchedulerCore({"db": 2})
    big = node("big", priority=5, resources={"db": 2})
    small1 = node("small1", priority=1, resources={"db": 1})
    small2 = node("small2", priority=1, resources={"db": 1})
    build(core, small1)
    first = core.next_batch()
    assert first == [small1]
    build(core, big, small2)
    # big does not fit while small1 runs; small2 must not take the unit big waits for.
    assert core.next_batch() is None
    core.finished(first, ok=True)
    assert core.next_batch() == [big]


def test_undeclared_resource_has_capacity_one():
    core = SchedulerCore()
    a, b = node("a", resources={"file": 1}), node("b", resources={"file": 1})
    build(core, a, b)
    assert len(core.next_batch()) == 1
    assert core.next_batch() is None


def test_batch_coalesces_siblings_up_to_max_size():
    core = SchedulerCore()
    members = [node(f"d{i}", batch_key="A", max_batch=2) for i in range(3)]
    build(core, *members)
    batch = core.next_batch()
    assert len(batch) == 2 and all(m.status == BATCH_RUNNING for m in batch)
    assert core.next_batch() == [members[2]]
    core.finished(batch, ok=False, expl="bad")
    assert all(m.status == FAILED and m.expl == "bad" for m in batch)


def test_retry_waits_until_due():
    core = SchedulerCore()
    a = node("a")
    build(core, a)
    core.finished(core.next_batch(), ok=False)
    core.retry_later(a, at=10.0)
    assert not core.has_ready()
    core.release_due(5.0)
    assert not core.has_ready()
    core.release_due(10.0)
    assert core.next_batch() == [a] and a.status == RUNNING


def test_upstream_problems_are_found_in_one_walk():
    core = SchedulerCore()
    bad, mid, top = node("bad"), node("mid", ["bad"]), node("top", ["mid"])
    build(core, bad, mid, top)
    core.finished(core.next_batch(), ok=False)
    problems = core.upstream_problems()
    assert problems["mid"] == {"upstream_failure"} and problems["top"] == {"upstream_failure"}


def test_dynamic_dependencies_make_a_step_wait_again():
    core = SchedulerCore()
    a = node("a")
    build(core, a)
    running = core.next_batch()
    extra = node("extra")
    build(core, extra)
    core.set_new_deps(running, ["extra"])
    assert a.status == "PENDING"
    core.finished(core.next_batch(), ok=True)
    assert a.status == READY and extra.status == DONE


def test_followers_are_the_chain_that_waits_only_on_a_lone_step():
    core = SchedulerCore()
    other = node("other")
    a, b, c = node("a"), node("b", ["a"]), node("c", ["b"])
    d = node("d", ["c", "other"])  # waits on another step too: not a follower
    build(core, a, b, c, d, other)
    assert sorted(core.next_batch()[0].step_id for _ in range(2)) == ["a", "other"]
    assert core.take_followers(a, 10, lambda n: True) == [b, c]
    assert [b.status, c.status, d.status] == [RUNNING, RUNNING, "PENDING"]
    assert core.running == 4  # other, a, b, c
    # the leader finishes: its follower stays RUNNING (it runs next in the same process)
    assert core.finished([a], ok=True) == []
    # a follower that could not run comes back and is ready once its dependency is done
    core.set_new_deps([b], [])
    assert b.status == READY and core.running == 2


def test_followers_exclude_batches_resources_and_what_the_executor_refuses():
    core = SchedulerCore({"db": 1})
    a = node("a")
    limited = node("limited", ["a"], resources={"db": 1})
    batched = node("batched", ["a"], batch_key="k")
    refused = node("refused", ["a"])
    build(core, a, limited, batched, refused)
    core.next_batch()
    assert core.take_followers(a, 10, lambda n: n.step_id != "refused") == []
    assert core.take_followers(a, 10, lambda n: True) == [refused]
    assert core.take_followers(node("lone"), 0, lambda n: True) == []
