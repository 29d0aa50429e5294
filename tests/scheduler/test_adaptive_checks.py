"""A shared store's build checks completeness on threads only once checks prove slow: a
local file's check costs less made in place than handed to a thread."""

from __future__ import annotations

import threading
import time

import trunq
from trunq.scheduler.core import SchedulerCore
from trunq.scheduler.resolver import SLOW_CHECK_S, Resolver


class Probe(trunq.Step):
    n = trunq.IntParameter()
    pause = trunq.FloatParameter(default=0.0)
    threads: set[str] = set()

    def complete(self) -> bool:
        Probe.threads.add(threading.current_thread().name)
        time.sleep(self.pause)
        return False

    def run(self) -> None:
        pass


class Fan(trunq.WrapperStep):
    pause = trunq.FloatParameter(default=0.0)

    def requires(self):  # noqa: ANN201
        return [Probe(n=n, pause=self.pause) for n in range(40)]


def checked_in(pause: float, adaptive: bool) -> set[str]:
    Probe.threads = set()
    resolver = Resolver(SchedulerCore(), threads=8, adaptive=adaptive)
    try:
        resolver.expand([Fan(pause=pause)])
    finally:
        resolver.close()
    return Probe.threads


def test_fast_checks_stay_in_this_thread() -> None:
    assert checked_in(0.0, adaptive=True) == {threading.current_thread().name}


def test_slow_checks_go_to_the_threads() -> None:
    names = checked_in(3 * SLOW_CHECK_S, adaptive=True)
    assert len(names) > 2  # this thread for the first check, then the pool's


def test_asked_for_parallel_scheduling_always_uses_threads() -> None:
    assert checked_in(0.0, adaptive=False) - {threading.current_thread().name}
