"""The two schedulers a build can use: where its state lives and what policy applies.

``Scheduler`` (``--local-scheduler``) keeps the state in a ``MemoryStateStore`` of this
process. ``RemoteScheduler`` keeps it in the cluster's Redis, shared with every client, the
Celery workers and the web UI. Both carry the lease length, resource limits and retry policy;
the build loop (``trunq.execution``) picks the dispatcher that fits (``shared``). Public paths as
luigi's: ``trunq.scheduler.Scheduler`` and ``trunq.rpc.RemoteScheduler``.
"""

from __future__ import annotations

from typing import Any, Protocol

from trunq.config import Configuration, get_config, resolve_redis_url
from trunq.core.errors import ConfigError
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.retry import RetryPolicy

DEFAULT_LEASE_SECONDS = 30.0


class SchedulerLike(Protocol):
    """What the build loop needs from a scheduler (a custom factory may return its own)."""

    shared: bool  # other processes read this store: publish step records
    record_step_history: bool
    store: Any
    lease_ms: int
    resource_limits: dict[str, int]
    retry_policy: RetryPolicy

    def close(self) -> None: ...


def lease_ms_from(config: Configuration) -> int:
    """``[core] lease_seconds``: how long a dead worker keeps a step before it runs elsewhere."""
    seconds = config.getfloat("core", "lease_seconds", DEFAULT_LEASE_SECONDS) or DEFAULT_LEASE_SECONDS
    return max(300, int(seconds * 1000))


DEFAULT_STEP_RETENTION_S = 7 * 24 * 3600.0


def step_retention_from(config: Configuration) -> float:
    """``[core] step_retention_seconds``: how long a step record nobody touches stays in
    Redis (the history database keeps it after that)."""
    seconds = config.getfloat("core", "step_retention_seconds", DEFAULT_STEP_RETENTION_S)
    if seconds is None or seconds <= 0:
        raise ConfigError(f"[core] step_retention_seconds must be positive, got {seconds!r}")
    return seconds


def sweep_steps(store: Any, retention_s: float, batch: int = 500, max_batches: int = 100) -> int:
    """Forget the step records past retention, ``batch`` at a time (each one short Lua call)."""
    removed = 0
    for _ in range(max_batches):
        done = store.sweep(retention_s, batch)
        removed += done
        if done < batch:
            break
    return removed


class Scheduler:
    """The embedded scheduler of one ``trunq build --local-scheduler`` process."""

    shared = False  # nobody else reads this store: no need to publish step records

    def __init__(self, prune_on_get_work: bool = True, record_step_history: bool = False,
                 config: Configuration | None = None, store: Any = None, **_: Any) -> None:
        self.config = config or get_config()
        self.store: Any = store or MemoryStateStore()
        self.record_step_history = record_step_history
        self.resource_limits = self.config.getintdict("resources")
        self.retry_policy = RetryPolicy(self.config)
        self.lease_ms = 24 * 3600 * 1000  # this process is the only holder; no renewal needed

    def close(self) -> None:
        self.store.close()


class RemoteScheduler:
    """The scheduler of a cluster: a shared Redis store plus Celery workers."""

    shared = True  # other clients, the workers and the UI read this store
    record_step_history = True  # the web UI's family history reads these rows

    def __init__(self, url: str | None = None, config: Configuration | None = None) -> None:
        from trunq.scheduler.redis import connect_store

        self.config = config or get_config()
        self.url = resolve_redis_url(url, self.config)
        self.store: Any = connect_store(self.url, self.config)
        self.lease_ms = lease_ms_from(self.config)
        self.resource_limits = self.config.getintdict("resources")
        self.retry_policy = RetryPolicy(self.config)

    def close(self) -> None:
        self.store.close()
