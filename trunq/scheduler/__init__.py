"""Schedulers: a policy configuration over a state store.

``Scheduler`` is the embedded one (``--local-scheduler``): a ``MemoryStateStore`` in this
process. ``trunq.rpc.RemoteScheduler`` is the shared one: a ``RedisStateStore`` that every
client and Celery worker of a cluster uses.
"""

from __future__ import annotations

from typing import Any

from trunq.config import Configuration, get_config
from trunq.scheduler.core import Node, SchedulerCore
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.state import StateStore, StepRecord

__all__ = ["Scheduler", "SchedulerCore", "Node", "MemoryStateStore", "StateStore", "StepRecord",
           "RetryPolicy"]


class RetryPolicy:
    """When a failed step runs again, and when it is disabled (config ``[scheduler]``)."""

    def __init__(self, config: Configuration | None = None) -> None:
        config = config or get_config()
        self.retry_count = config.getint("scheduler", "retry_count", 0) or 0
        self.retry_delay = config.getfloat("scheduler", "retry_delay", 0.0) or 0.0
        self.disable_window = config.getfloat("scheduler", "disable_window", 3600.0) or 3600.0
        self.disable_persist = config.getfloat("scheduler", "disable_persist", 86400.0) or 86400.0
        # 0: never disable. A step with an explicit retry_count is disabled after
        # retry_count + 1 failures within disable_window.
        self.disable_failures = config.getint("scheduler", "disable_failures", 0) or 0

    def disable_threshold(self, step: Any) -> int:
        if step.retry_count is not None:
            return int(step.retry_count) + 1
        return self.disable_failures


class Scheduler:
    """The embedded scheduler of one ``trunq build --local-scheduler`` process."""

    shared = False  # nobody else reads this store: no need to publish step records

    def __init__(self, prune_on_get_work: bool = True, record_step_history: bool = False,
                 config: Configuration | None = None, store: StateStore | None = None, **_: Any) -> None:
        self.config = config or get_config()
        self.store: Any = store or MemoryStateStore()
        self.record_step_history = record_step_history
        self.resource_limits = self.config.getintdict("resources")
        self.retry_policy = RetryPolicy(self.config)
        self.lease_ms = 24 * 3600 * 1000  # this process is the only holder; no renewal needed

    def create_executor(self, worker: Any) -> Any:
        from trunq.executors import InlineExecutor, PoolExecutor

        if worker.worker_processes > 1 or worker.force_multiprocessing:
            return PoolExecutor(worker, worker.worker_processes)
        return InlineExecutor(worker)

    def close(self) -> None:
        self.store.close()
