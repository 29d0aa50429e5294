"""The ``store`` fixture: every contract test runs once per StateStore implementation."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # makes `tests.redis_fixtures` importable

from tests.redis_fixtures import redis_server, redis_url  # noqa: E402,F401  (fixtures)
from trunq.scheduler.memory import MemoryStateStore  # noqa: E402


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


class RealClock:
    """Real time for stores whose expiries follow their own clock (Redis)."""

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)


@pytest.fixture(params=["memory", "redis"])
def store_and_clock(request: pytest.FixtureRequest) -> Iterator[tuple[object, object]]:
    if request.param == "memory":
        clock = FakeClock()
        yield MemoryStateStore(clock=clock), clock
        return
    from trunq.scheduler.redis import RedisStateStore

    url = request.getfixturevalue("redis_url")
    store = RedisStateStore(url)
    yield store, RealClock()
    store.close()


@pytest.fixture
def store(store_and_clock):
    return store_and_clock[0]


@pytest.fixture
def clock(store_and_clock):
    """``clock.advance(seconds)``: instant for the memory store, a real sleep for Redis."""
    return store_and_clock[1]
