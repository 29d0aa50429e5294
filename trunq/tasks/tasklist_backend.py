"""``TaskList.run(backend="celery")``: each task supervised by a Celery worker.

The driver (``trunq.tasklist.driver``) keeps owning the directory: it lists ``todo/``, writes
each claim and finalizes results. This backend only moves jobs:

- ``reserve()`` picks the Celery task id in advance, so the claim names it;
- ``submit()`` sends one ``trunq.supervise_tasklist_job`` message (JSON: the ``TaskJob`` and
  the driver's ``sys.path``), then notes in the result backend that it was sent;
- the worker runs ``trunq.tasklist.supervise`` with a fresh ``python -m trunq.tasklist`` child
  in a new process group (autokill kills the group), publishes ``done/``/``fail/`` atomically
  in the shared directory and only then returns the Outcome as the Celery result;
- ``wait()`` polls those results; a supervisor that died (its pool process or its whole
  worker) is reported ``lost``, and the driver records a ``WorkerDied`` failure.

``nprocesses`` caps the jobs in flight; the workers' concurrency caps what runs at once.
The TaskList directory must be on a filesystem shared by the driver and the workers.

Resuming after the driver died: ``executor_alive(claim)`` is true while the message is queued
(sent, no result yet) or its supervisor still runs, so the next ``run()`` adopts the task and
waits for its result instead of running it twice. A message delivered late (its claim now
names another Celery task) does nothing.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from celery import states

from trunq.config import resolve_redis_url
from trunq.tasklist import Outcome, TaskBackend, TaskJob
from trunq.tasklist.storage import HOSTNAME, identity_alive
from trunq.tasks.broker import client_app, live_celery_workers, require_worker
from trunq.tasks.supervisors import TASKLIST_TASK

POLL_S = 0.02
LIVENESS_CHECK_S = 1.0  # how often running supervisors are checked for a dead worker
SENT_KEY = "trunq-tasklist-sent-{task_id}"


class CeleryBackend(TaskBackend):
    """Runs TaskList jobs on the ``celery -A trunq worker`` pool of one Redis."""

    name = "celery"

    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = resolve_redis_url(redis_url)
        self._app = client_app(self.redis_url)
        self._cap = 1
        self._reserved: set[str] = set()
        self._in_flight: dict[str, str] = {}  # Celery task id -> task uuid
        self._next_liveness_check = 0.0
        self._connection: Any = None

    def open(self, nprocesses: int, session: str | None) -> None:
        require_worker(self.redis_url)
        self._cap = max(1, nprocesses)
        self._connection = self._app.connection_for_write()

    # ---- slots -------------------------------------------------------------------------------
    def free_slots(self) -> int:
        return self._cap - len(self._in_flight) - len(self._reserved)

    def reserve(self) -> dict:
        task_id = uuid.uuid4().hex
        self._reserved.add(task_id)
        return {"kind": "celery", "task_id": task_id}

    def release(self, executor: dict) -> None:
        self._reserved.discard(executor.get("task_id", ""))

    # ---- jobs --------------------------------------------------------------------------------
    def submit(self, job: TaskJob, executor: dict) -> None:
        task_id = executor["task_id"]
        self._reserved.discard(task_id)
        message = {"job": job.to_dict(), "sys_path": [entry for entry in sys.path if entry]}
        self._app.send_task(TASKLIST_TASK, args=[message], task_id=task_id, connection=self._connection,
                            argsrepr=job.uuid, kwargsrepr="")
        self._app.backend.set(SENT_KEY.format(task_id=task_id), "1")
        self._in_flight[task_id] = job.uuid

    def wait(self, timeout: float | None) -> list[Outcome]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            outcomes = self._collect()
            if outcomes or not self._in_flight:
                return outcomes
            if deadline is not None and time.monotonic() >= deadline:
                return []
            time.sleep(POLL_S)

    def _collect(self) -> list[Outcome]:
        check_liveness = time.monotonic() >= self._next_liveness_check
        if check_liveness:
            self._next_liveness_check = time.monotonic() + LIVENESS_CHECK_S
        outcomes = []
        for task_id, task_uuid in list(self._in_flight.items()):
            outcome = self._outcome(task_id, task_uuid, check_liveness)
            if outcome is not None:
                del self._in_flight[task_id]
                self._forget(task_id)
                outcomes.append(outcome)
        return outcomes

    def _outcome(self, task_id: str, task_uuid: str, check_liveness: bool) -> Outcome | None:
        result = self._app.AsyncResult(task_id)
        state = result.state
        if state == states.SUCCESS:
            answer = result.result
            return Outcome(task_uuid, str(answer["state"]), str(answer["reason"]))
        if state in states.READY_STATES:  # FAILURE (e.g. its pool process died), REVOKED
            return Outcome(task_uuid, "lost", f"the Celery task ended with {state}: {result.result!r}")
        if state == states.STARTED and check_liveness and not self._supervisor_alive(result.info):
            return Outcome(task_uuid, "lost", "the worker supervising the task is gone")
        return None

    def _forget(self, task_id: str) -> None:
        self._app.AsyncResult(task_id).forget()
        self._app.backend.delete(SENT_KEY.format(task_id=task_id))

    # ---- resuming ----------------------------------------------------------------------------
    def executor_alive(self, executor: dict) -> bool:
        task_id = executor.get("task_id")
        if executor.get("kind") != "celery" or not task_id:
            return False
        result = self._app.AsyncResult(task_id)
        state = result.state
        if state in states.READY_STATES:
            return False
        if state == states.STARTED:
            return self._supervisor_alive(result.info)
        return self._app.backend.get(SENT_KEY.format(task_id=task_id)) is not None  # queued

    def _supervisor_alive(self, info: Any) -> bool:
        info = info if isinstance(info, dict) else {}
        supervisor = info.get("supervisor") or {}
        if supervisor.get("host") == HOSTNAME:
            return identity_alive(supervisor)
        worker = info.get("worker")
        return any(live.get("hostname") == worker for live in live_celery_workers(self.redis_url))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.release()
            self._connection = None


__all__ = ["CeleryBackend"]
