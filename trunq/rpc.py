"""The shared scheduler of the distributed mode: Redis for state, Celery workers for execution.

``RemoteScheduler`` is what ``trunq build`` (without ``--local-scheduler``),
``trunq.build(..., local_scheduler=False)`` and ``trunq.submit()`` use. Its policy is the
same as the local one; what differs is that the state store is shared (``RedisStateStore``)
and steps run on ``celery -A trunq worker`` processes (``trunq.tasks.dispatch``).

Nothing here imports Celery: the executor module is loaded only by ``create_executor``.
"""

from __future__ import annotations

import os
from typing import Any

from trunq.config import Configuration, get_config
from trunq.scheduler import RetryPolicy
from trunq.scheduler.redis_store import StoreUnavailable, connect

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_LEASE_SECONDS = 30.0
START_WORKER_HINT = "start one with `celery -A trunq worker` (or `trunq worker`)"


class NoWorkerAlive(StoreUnavailable):
    """No Celery worker sends heartbeats to this Redis.

    A kind of ``StoreUnavailable`` so that the CLI reports it the same way: one line, no
    traceback, non-zero exit.
    """


def resolve_redis_url(url: str | None = None, config: Configuration | None = None) -> str:
    """The cluster's Redis: ``url``, else ``$TRUNQ_REDIS_URL``, else ``[core] redis_url``."""
    if url:
        return url
    from_env = os.environ.get("TRUNQ_REDIS_URL")
    if from_env:
        return from_env
    config = config or get_config()
    return str(config.get("core", "redis_url", None) or DEFAULT_REDIS_URL)


def lease_ms_from(config: Configuration) -> int:
    """``[core] lease_seconds``: how long a dead worker keeps a step before it runs elsewhere."""
    seconds = config.getfloat("core", "lease_seconds", DEFAULT_LEASE_SECONDS) or DEFAULT_LEASE_SECONDS
    return max(300, int(seconds * 1000))


def connect_store(url: str | None = None, config: Configuration | None = None) -> Any:
    """A ``RedisStateStore`` that answered PING, or ``StoreUnavailable`` with a hint."""
    resolved = resolve_redis_url(url, config)
    try:
        return connect(resolved)
    except StoreUnavailable as exc:
        raise StoreUnavailable(f"{exc}; start Redis (e.g. `trunq server`) or set TRUNQ_REDIS_URL") from None


class RemoteScheduler:
    """The scheduler of a cluster: a shared Redis store plus Celery workers."""

    shared = True  # other clients, the workers and the UI read this store
    record_step_history = True  # the web UI's family history reads these rows

    def __init__(self, url: str | None = None, config: Configuration | None = None) -> None:
        self.config = config or get_config()
        self.url = resolve_redis_url(url, self.config)
        self.store: Any = connect_store(self.url, self.config)
        self.lease_ms = lease_ms_from(self.config)
        self.resource_limits = self.config.getintdict("resources")
        self.retry_policy = RetryPolicy(self.config)

    def create_executor(self, worker: Any) -> Any:
        """The Celery executor; ``NoWorkerAlive`` when no worker would ever pick a step up."""
        from trunq.tasks.dispatch import CeleryExecutor

        return CeleryExecutor(worker, self)

    def close(self) -> None:
        self.store.close()


__all__ = ["RemoteScheduler", "NoWorkerAlive", "resolve_redis_url", "connect_store", "lease_ms_from"]
