"""Builds as records in the shared store: who started them, what they are for, how they ended.

A cluster build is a record (``BuildRecord``) plus a *driver lease*: the process that runs the
build's scheduling loop holds the lease and renews it. The client that started the build is
its first driver; when it exits without ending the build (killed, machine lost), the lease
expires and a Celery worker adopts the build (``trunq.tasks.builds``), so the build outlives
its client. A detached build (``trunq build --detach``, ``trunq.submit()``) starts with no
driver at all and is adopted at once.

Two implementations of ``BuildStore``: ``MemoryBuildStore`` (one process; tests) and
``RedisBuildStore``, which works on the Redis client of ``RedisStateStore`` (it calls its
methods and imports nothing of redis itself).

Keys (after the ``{namespace}`` prefix; see ``keys.py`` for the step keys):

==========================  ======  ===========================================================
``:build:<id>``             STRING  the record as JSON; expires ``retention`` after the build ends
``:builds``                 ZSET    build id -> created (ms); entries older than retention pruned
``:builds:open``            SET     ids of builds that have not ended (what drivers look at)
``:build-driver:<id>``      STRING  the driver's id, expires with ``SET PX`` unless renewed
``:build-cancel:<id>``      STRING  present when someone asked the build to stop; expires
==========================  ======  ===========================================================
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from trunq.core.status import BuildStatus

QUEUED, RUNNING, DONE, FAILED, CANCELLED = (BuildStatus.QUEUED, BuildStatus.RUNNING, BuildStatus.DONE,
                                            BuildStatus.FAILED, BuildStatus.CANCELLED)
ENDED = frozenset({DONE, FAILED, CANCELLED})
DEFAULT_RETENTION_S = 7 * 86400.0


@dataclass
class BuildRecord:
    """One build: its roots (step references a worker can rebuild), origin and outcome."""

    build_id: str
    roots: list[dict[str, Any]]
    root_ids: list[str]
    started_by: dict[str, Any]  # host, pid, user
    created: float
    status: str = QUEUED
    detached: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # e.g. workers
    driver: str | None = None
    adoptions: int = 0  # how many times a worker took the build over
    started: float | None = None
    ended: float | None = None
    counts: dict[str, int] = field(default_factory=dict)  # per status, of what this build scheduled
    summary: str | None = None
    exit_code: int | None = None

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BuildRecord:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class BuildStore(Protocol):
    """Build records and driver leases; times are seconds, ``ttl_ms`` milliseconds."""

    def save(self, record: BuildRecord) -> None:
        """Insert or replace; an ended build leaves the open set and expires after retention."""

    def get(self, build_id: str) -> BuildRecord | None: ...

    def recent(self, limit: int = 50) -> list[BuildRecord]:
        """Newest first."""

    def open_ids(self) -> list[str]:
        """Builds that have not ended (running or queued)."""

    def claim_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        """Become the build's driver if nobody holds the lease."""

    def renew_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        """Extend the lease; False when ``driver`` no longer holds it."""

    def release_driver(self, build_id: str, driver: str) -> None: ...

    def driver_of(self, build_id: str) -> str | None: ...

    def request_cancel(self, build_id: str) -> None: ...

    def cancel_requested(self, build_id: str) -> bool: ...


class MemoryBuildStore:
    """``BuildStore`` for one process."""

    def __init__(self, clock: Callable[[], float] = time.time, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self._clock = clock
        self._retention_s = retention_s
        self._lock = threading.Lock()
        self._records: dict[str, str] = {}
        self._drivers: dict[str, tuple[str, float]] = {}
        self._cancels: set[str] = set()

    def save(self, record: BuildRecord) -> None:
        with self._lock:
            self._records[record.build_id] = record.to_json()

    def get(self, build_id: str) -> BuildRecord | None:
        with self._lock:
            text = self._records.get(build_id)
        return None if text is None else BuildRecord.from_json(text)

    def recent(self, limit: int = 50) -> list[BuildRecord]:
        with self._lock:
            records = [BuildRecord.from_json(text) for text in self._records.values()]
        horizon = self._clock() - self._retention_s
        kept = [r for r in records if r.ended is None or r.ended >= horizon]
        return sorted(kept, key=lambda r: r.created, reverse=True)[:limit]

    def open_ids(self) -> list[str]:
        with self._lock:
            return [i for i, text in self._records.items() if BuildRecord.from_json(text).status not in ENDED]

    def claim_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        with self._lock:
            if self._driver(build_id) is not None:
                return False
            self._drivers[build_id] = (driver, self._clock() + ttl_ms / 1000)
            return True

    def renew_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        with self._lock:
            if self._driver(build_id) != driver:
                return False
            self._drivers[build_id] = (driver, self._clock() + ttl_ms / 1000)
            return True

    def release_driver(self, build_id: str, driver: str) -> None:
        with self._lock:
            if self._driver(build_id) == driver:
                del self._drivers[build_id]

    def driver_of(self, build_id: str) -> str | None:
        with self._lock:
            return self._driver(build_id)

    def _driver(self, build_id: str) -> str | None:
        held = self._drivers.get(build_id)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]

    def request_cancel(self, build_id: str) -> None:
        with self._lock:
            self._cancels.add(build_id)

    def cancel_requested(self, build_id: str) -> bool:
        with self._lock:
            return build_id in self._cancels


CANCEL_FLAG_TTL_S = 86400
_LUA = Path(__file__).parent / "lua"


class RedisBuildStore:
    """``BuildStore`` on the Redis client (``decode_responses=True``) of a ``RedisStateStore``.

    ``call(fn)`` runs each round trip; the state store passes its grace policy, so a build's
    record survives the same short outages as its steps.
    """

    def __init__(self, client: Any, prefix: str, retention_s: float = DEFAULT_RETENTION_S,
                 call: Callable[[Callable[[], Any]], Any] = lambda fn: fn()) -> None:
        self._redis = client
        self._prefix = prefix
        self._retention_s = retention_s
        self._call = call
        # compare-and-set on the driver key: renew or delete only what we still hold
        self._renew = client.register_script((_LUA / "driver_renew.lua").read_text())
        self._delete = client.register_script((_LUA / "driver_release.lua").read_text())

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    def save(self, record: BuildRecord) -> None:
        key = self._key("build", record.build_id)

        def write() -> None:
            pipe = self._redis.pipeline()
            pipe.set(key, record.to_json())
            pipe.zadd(self._key("builds"), {record.build_id: int(record.created * 1000)})
            if record.is_ended:
                pipe.expire(key, int(self._retention_s))
                pipe.srem(self._key("builds", "open"), record.build_id)
                pipe.delete(self._key("build-cancel", record.build_id))
            else:
                pipe.sadd(self._key("builds", "open"), record.build_id)
            pipe.execute()

        self._call(write)

    def get(self, build_id: str) -> BuildRecord | None:
        text = self._call(lambda: self._redis.get(self._key("build", build_id)))
        return None if text is None else BuildRecord.from_json(text)

    def recent(self, limit: int = 50) -> list[BuildRecord]:
        index = self._key("builds")

        def read() -> list[str | None]:
            horizon_ms = int((time.time() - self._retention_s) * 1000)
            self._redis.zremrangebyscore(index, "-inf", horizon_ms)
            ids = self._redis.zrevrange(index, 0, limit - 1)
            texts = self._redis.mget([self._key("build", build_id) for build_id in ids]) if ids else []
            gone = [build_id for build_id, text in zip(ids, texts) if text is None]
            if gone:
                self._redis.zrem(index, *gone)
            return texts

        return [BuildRecord.from_json(text) for text in self._call(read) if text is not None]

    def open_ids(self) -> list[str]:
        return sorted(self._call(lambda: self._redis.smembers(self._key("builds", "open"))))

    def claim_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        key = self._key("build-driver", build_id)
        return bool(self._call(lambda: self._redis.set(key, driver, nx=True, px=int(ttl_ms))))

    def renew_driver(self, build_id: str, driver: str, ttl_ms: int) -> bool:
        key = self._key("build-driver", build_id)
        return bool(self._call(lambda: self._renew(keys=[key], args=[driver, int(ttl_ms)])))

    def release_driver(self, build_id: str, driver: str) -> None:
        key = self._key("build-driver", build_id)
        self._call(lambda: self._delete(keys=[key], args=[driver]))

    def driver_of(self, build_id: str) -> str | None:
        return self._call(lambda: self._redis.get(self._key("build-driver", build_id)))

    def request_cancel(self, build_id: str) -> None:
        key = self._key("build-cancel", build_id)
        self._call(lambda: self._redis.set(key, "1", ex=CANCEL_FLAG_TTL_S))

    def cancel_requested(self, build_id: str) -> bool:
        return bool(self._call(lambda: self._redis.exists(self._key("build-cancel", build_id))))
