"""On every Celery worker: adopt the cluster builds nobody drives.

A thread of the worker's main process looks at the store's open builds every few seconds.
A build whose driver lease has expired (its client was killed, its machine lost) or that
was queued detached (``trunq build --detach``, ``trunq.submit()``) is claimed by one worker,
whose thread then runs the build's scheduling loop until it ends (see
``trunq.execution.builds``). Steps themselves still run in the pool processes.

The same thread sweeps, once a minute, the step records past ``[core]
step_retention_seconds`` out of Redis (see ``docs/builds.md``, "What Redis keeps").
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

logger = logging.getLogger("trunq.worker")

SCAN_INTERVAL_S = 2.0
MAX_DRIVEN = 4  # builds one worker drives at once
SWEEP_INTERVAL_S = 60.0


class Adopter:
    def __init__(self, store_factory: Any) -> None:
        self._store_factory = store_factory
        self.stop = threading.Event()
        self._driving: dict[str, threading.Thread] = {}
        self._next_sweep = 0.0

    def run(self) -> None:
        store = None
        while not self.stop.wait(SCAN_INTERVAL_S):
            try:
                store = store or self._store_factory()
                self._scan(store)
                self._sweep(store)
            except Exception as exc:  # Redis away: look again next round
                logger.warning("trunq: looking for builds to adopt failed: %s", exc)

    def _scan(self, store: Any) -> None:
        self._driving = {key: thread for key, thread in self._driving.items() if thread.is_alive()}
        for build_id in store.builds.open_ids():
            if len(self._driving) >= MAX_DRIVEN:
                return
            if build_id in self._driving or store.builds.driver_of(build_id) is not None:
                continue
            thread = threading.Thread(target=_adopt, args=(build_id,), name=f"trunq-build-{build_id}",
                                      daemon=True)
            self._driving[build_id] = thread
            thread.start()


    def _sweep(self, store: Any) -> None:
        if time.monotonic() < self._next_sweep:
            return
        from trunq.config import get_config
        from trunq.scheduler.schedulers import step_retention_from, sweep_steps

        retention = step_retention_from(get_config())
        self._next_sweep = time.monotonic() + min(SWEEP_INTERVAL_S, retention / 2)
        removed = sweep_steps(store, retention)
        if removed:
            logger.info("trunq: forgot %d step records past retention", removed)


def _adopt(build_id: str) -> None:
    from trunq.execution.api import schedule_and_run
    from trunq.execution.builds import adopt_build
    from trunq.scheduler.redis import connect_store

    store = connect_store()
    try:
        adopt_build(store, build_id, lambda steps, env, record: schedule_and_run(steps, None, env, build=record))
    except LookupError:
        pass  # another worker claimed it first
    except Exception:
        logger.exception("trunq: driving build %s failed", build_id)
    finally:
        store.close()
