"""A Celery app for clients that talk to one cluster's Redis (Runs and TaskList on the pool).

``trunq.tasks.app.celery_app()`` reads its broker URL once, when its configuration is first used. A
client object (``CeleryCluster``, ``CeleryBackend``) resolves its Redis URL when it is created
(argument, ``$TRUNQ_REDIS_URL``, ``[core] redis_url``); if that differs from the shared app's,
it gets an app of its own with the same settings and that URL, so two clusters in one process
never mix their messages or results.
"""

from __future__ import annotations

import threading

from celery import Celery

from trunq.config import redact_url
from trunq.core.errors import NoWorkerAlive
from trunq.scheduler.redis import connect_store
from trunq.tasks.app import celery_app

START_WORKER_HINT = "start one with `celery -A trunq worker` (or `trunq worker`)"

_apps: dict[str, Celery] = {}
_apps_lock = threading.Lock()


def client_app(url: str) -> Celery:
    """The Celery app whose broker and result backend are the Redis at ``url``."""
    app = celery_app()
    if app.conf.broker_url == url:
        return app
    with _apps_lock:
        if url not in _apps:
            other = Celery("trunq", set_as_current=False)
            other.config_from_object(app.conf)
            other.conf.update(broker_url=url, result_backend=url)
            _apps[url] = other
        return _apps[url]


def live_celery_workers(url: str) -> list[dict]:
    """The heartbeats of the Celery workers of this cluster (see ``trunq.tasks.app``)."""
    store = connect_store(url)
    try:
        return [info for info in store.live_workers() if info.get("kind") == "celery"]
    finally:
        store.close()


def require_worker(url: str) -> list[dict]:
    """The live workers; ``NoWorkerAlive`` when a message would wait for nobody."""
    workers = live_celery_workers(url)
    if not workers:
        raise NoWorkerAlive(f"no trunq worker is running for {redact_url(url)}: {START_WORKER_HINT}")
    return workers
