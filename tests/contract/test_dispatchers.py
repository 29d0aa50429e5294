"""Every dispatcher honours the step protocol (``scheduler/leases.py``): inline, pool and the
Celery-free stub of the cluster dispatcher, all over an in-process MemoryStateStore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import trunq
from tests.contract.stub_dispatcher import StubDispatcher
from trunq.core.status import Status
from trunq.execution.dispatch import InlineExecutor, PoolExecutor
from trunq.execution.loop import Worker
from trunq.scheduler import Scheduler
from trunq.scheduler.memory import MemoryStateStore


def log_run(root: str, name: str) -> None:
    with open(os.path.join(root, "runs.log"), "a") as out:  # shared by forked pool processes
        out.write(name + "\n")


def runs(root: Path) -> list[str]:
    path = root / "runs.log"
    return path.read_text().split() if path.exists() else []


class DispatchLeaf(trunq.Step):
    root = trunq.Parameter()
    n = trunq.IntParameter()
    resources = {"db": 1}

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, f"leaf-{self.n}"))

    def run(self):
        log_run(self.root, f"leaf-{self.n}")
        self.decrease_running_resources({"db": 1})  # hand the slot back before finishing
        with self.output().open("w") as out:
            out.write("x")


class DispatchFan(trunq.Step):
    root = trunq.Parameter()

    def requires(self):
        return [DispatchLeaf(root=self.root, n=n) for n in range(3)]

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, "fan"))

    def run(self):
        log_run(self.root, "fan")
        with self.output().open("w") as out:
            out.write("x")


class Dynamic(trunq.Step):
    root = trunq.Parameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, "dynamic"))

    def run(self):
        log_run(self.root, "dynamic")
        yield [DispatchLeaf(root=self.root, n=7)]
        with self.output().open("w") as out:
            out.write("x")


def make_worker(kind: str, store: MemoryStateStore | None = None, **stub: object) -> Worker:
    scheduler = Scheduler(store=store or MemoryStateStore())
    scheduler.resource_limits = {"db": 1}
    if kind == "stub":
        scheduler.shared = True  # records, events and leases as on a cluster
    worker = Worker(scheduler=scheduler, worker_processes=2)
    worker.executor = {"inline": InlineExecutor, "pool": lambda w: PoolExecutor(w, 2),
                       "stub": lambda w: StubDispatcher(w, **stub)}[kind](worker)
    return worker


def build(worker: Worker, step: trunq.Step) -> bool:
    with worker:
        assert worker.add(step)
        return worker.run()


@pytest.fixture(params=["inline", "pool", "stub"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_graph_runs_each_step_once_under_a_resource_limit(kind: str, tmp_path: Path) -> None:
    worker = make_worker(kind)
    assert build(worker, DispatchFan(root=str(tmp_path)))
    assert sorted(runs(tmp_path)) == ["fan", "leaf-0", "leaf-1", "leaf-2"]
    assert worker.store.resource_usage() in ({}, {"db": 0})  # every holder released its slot


def test_dynamic_dependencies_come_back_to_the_loop(kind: str, tmp_path: Path) -> None:
    worker = make_worker(kind)
    assert build(worker, Dynamic(root=str(tmp_path)))
    assert runs(tmp_path) == ["dynamic", "leaf-7", "dynamic"]
    assert (tmp_path / "dynamic").exists()


def test_a_message_delivered_twice_runs_the_step_once(tmp_path: Path) -> None:
    worker = make_worker("stub", deliveries=2)
    stub = worker.executor
    assert build(worker, DispatchFan(root=str(tmp_path)))
    assert sorted(runs(tmp_path)) == ["fan", "leaf-0", "leaf-1", "leaf-2"]
    assert sorted(stub.results) == ["DONE"] * 4 + ["stale"] * 4  # second deliveries did nothing


def test_a_lost_message_lapses_its_lease_and_the_step_runs_again(tmp_path: Path) -> None:
    leaf = DispatchLeaf(root=str(tmp_path), n=1)
    worker = make_worker("stub", drop={leaf.step_id})
    worker.scheduler.lease_ms = 300
    assert build(worker, leaf)
    assert runs(tmp_path) == ["leaf-1"]
    assert worker.store.get(leaf.step_id).status == Status.DONE
