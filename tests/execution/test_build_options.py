"""Build options that reach the worker: --parallel-scheduling."""

from __future__ import annotations

import threading

import trunq


class Checked(trunq.Step):
    n = trunq.IntParameter()
    threads: set[str] = set()
    lock = threading.Lock()

    def complete(self) -> bool:
        with Checked.lock:
            Checked.threads.add(threading.current_thread().name)
        return True


class Root(trunq.Step):
    ran = False

    def requires(self):  # noqa: ANN201
        return [Checked(n=n) for n in range(40)]

    def complete(self) -> bool:
        return Root.ran

    def run(self) -> None:
        Root.ran = True


def test_parallel_scheduling_checks_completeness_in_threads() -> None:
    Checked.threads.clear()
    Root.ran = False
    assert trunq.build([Root()], local_scheduler=True, no_lock=True, parallel_scheduling=True)
    assert any(name != threading.current_thread().name for name in Checked.threads), Checked.threads


def test_without_it_a_local_build_checks_in_its_own_thread() -> None:
    Checked.threads.clear()
    Root.ran = False
    assert trunq.build([Root()], local_scheduler=True, no_lock=True)
    assert Checked.threads == {threading.current_thread().name}
