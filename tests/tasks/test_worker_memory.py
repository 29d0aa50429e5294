"""A Celery worker process runs payload after payload: it must not keep every step it ran."""

from __future__ import annotations

import os

import trunq
from trunq.core import registry
from trunq.scheduler.memory import MemoryStateStore
from trunq.tasks import worker_side


class Counted(trunq.Step):
    n = trunq.IntParameter()

    def complete(self) -> bool:
        return False

    ran: list[int] = []

    def run(self) -> None:
        Counted.ran.append(self.n)


def test_a_thousand_payloads_keep_the_instance_cache_bounded(monkeypatch) -> None:
    store = MemoryStateStore()
    monkeypatch.setitem(worker_side._stores, os.getpid(), store)
    sizes = []
    for n in range(1000):
        step_id = Counted(n=n).step_id
        token = store.acquire(step_id, "client", 60_000)
        payload = {**worker_side.step_reference(Counted(n=n)), "members": [[step_id, token]],
                   "holder": "", "lease_ms": 60_000}
        assert worker_side.run_payload(payload) == "DONE"
        sizes.append(len(registry._instances))
    assert max(sizes) <= 1, max(sizes)
    assert Counted.ran == list(range(1000))  # every payload really ran its step
