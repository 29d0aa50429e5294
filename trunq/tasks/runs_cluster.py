"""``trunq.runs.cluster("celery")``: functions and commands run on the Celery worker pool.

The client prepares the run folder and holds its ``.lock`` exactly as for the local cluster
(``trunq.runs.clusters.Cluster``), then sends one ``trunq.supervise_run`` message (JSON: the
folder, the launch token, the working directory). A worker's supervisor takes the lock over,
starts ``python -m trunq.runs.child`` in a new process group and watches it
(``trunq.tasks.supervisors``).

Requirements: the runs root is on a filesystem shared by clients and workers (the message
carries the folder's path; results and logs are read back from it). The function and its
arguments travel as dill files in that folder: workers execute whatever a client
pickled, so use this only inside a trusted cluster.

Cancel: the client revokes the message, writes the run's ``.cancel`` marker and marks it
CANCELLED; the supervisor sees the marker within 0.1 s, kills the child's process group
(SIGTERM, SIGKILL after a second) and releases the lock. If no supervisor confirms in time
(its worker died), the client kills the recorded group itself when it is on the same host.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from trunq.config import resolve_redis_url
from trunq.runs import locks
from trunq.runs.clusters import Cluster
from trunq.runs.control import CANCEL_MARKER, cancel_run, mark_cancelled
from trunq.runs.record import TERMINAL, Run
from trunq.tasks.broker import client_app, require_worker
from trunq.tasks.supervisors import CANCEL_GRACE_S, RUN_TASK

CANCEL_CONFIRM_S = CANCEL_GRACE_S + 5.0  # how long cancel waits for the supervisor to stop the group


class CeleryCluster(Cluster):
    """Runs each execution under a supervisor task on a ``celery -A trunq worker``."""

    name = "celery"

    def __init__(self, runs_root: str | os.PathLike[str] | None = None, redis_url: str | None = None) -> None:
        super().__init__(runs_root)
        self.redis_url = resolve_redis_url(redis_url)
        self._app = client_app(self.redis_url)

    def __repr__(self) -> str:
        return f"CeleryCluster(redis_url={self.redis_url!r}, runs_root={str(self.runs_root)!r})"

    # ---- the seam ----------------------------------------------------------------------------
    def _launch(self, run: Run, token: str) -> None:
        require_worker(self.redis_url)  # fail now rather than queue for nobody
        task_id = uuid.uuid4().hex
        run.extras["celery_task_id"] = task_id  # lets cancel revoke a message still queued
        run.write_config()
        message = {"run_dir": str(run.path), "token": token, "cwd": os.getcwd()}
        with self._app.connection_for_write() as connection:
            self._app.send_task(RUN_TASK, args=[message], task_id=task_id, connection=connection,
                                ignore_result=True, argsrepr=run.name, kwargsrepr="")

    def _cancel(self, run: Run) -> bool:
        run.refresh()
        if run.status in TERMINAL:
            return False
        (run.path / CANCEL_MARKER).touch()  # what the supervisor watches
        mark_cancelled(run.path)
        task_id = run.extras.get("celery_task_id")
        if task_id:
            with self._app.connection_for_write() as connection:
                self._app.control.revoke(task_id, connection=connection)
        token = str(run.extras.get("launch_id") or "")
        if not self._supervisor_stopped(run.path, token):
            cancel_run(Run(path=run.path))  # no live supervisor: kill the group from here
            mark_cancelled(run.path)
        return True

    def _supervisor_stopped(self, folder: Path, token: str) -> bool:
        """Wait until this execution's lock is gone; a run still queued is released here."""
        deadline = time.monotonic() + CANCEL_CONFIRM_S
        while time.monotonic() < deadline:
            holder = locks.read(folder)
            if holder is None or (holder and holder.get("token") != token):
                return True
            if not _started_on_a_worker(folder):
                locks.release(folder, token)  # revoked while queued; a late copy sees the marker
                return True
            time.sleep(0.02)
        return False


def _started_on_a_worker(folder: Path) -> bool:
    try:
        return bool(Run(path=folder).extras.get("supervisor"))
    except (OSError, ValueError):
        return True


__all__ = ["CeleryCluster"]
