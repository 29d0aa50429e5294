"""The backend seam (a backend built on supervise + fresh interpreters, the Celery stand-in)
and the Run record every executed task leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from tasklist_funcs import add, fail_with, spawn_grandchild_and_hang

from trunq.tasklist import AutoKilled, Outcome, TaskBackend, TaskJob, WorkerDied, defer, exec_task, supervise

pytestmark = pytest.mark.timeout(60)


class FreshInterpreterBackend(TaskBackend):
    """What a remote worker does: supervise(job, exec_task) with a plain JSON job."""

    name = "fresh"

    def open(self, nprocesses, session):
        self.pool = ThreadPoolExecutor(nprocesses)
        self.slots = nprocesses
        self.futures = []

    def free_slots(self):
        return self.slots

    def reserve(self):
        self.slots -= 1
        return {"kind": "fresh"}

    def release(self, executor):
        self.slots += 1

    def submit(self, job, executor):
        message = json.dumps(job.to_dict())  # the job must survive a trip through a message broker
        self.futures.append(self.pool.submit(supervise, TaskJob(**json.loads(message)), exec_task))

    def wait(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            finished = [f for f in self.futures if f.done()]
            if finished or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(0.01)
        for future in finished:
            self.futures.remove(future)
            self.slots += 1
        return [future.result() for future in finished]

    def executor_alive(self, executor):
        return False

    def close(self):
        self.pool.shutdown(wait=True)


def test_custom_backend_with_fresh_interpreters_runs_and_autokills(tasklist, tmp_path, reaper, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.path.dirname(__file__))
    tasklist.schedule(defer(add, 2, 3), metadata="ok")
    tasklist.schedule(defer(fail_with, "remote"), metadata="bad")
    tasklist.schedule(defer(spawn_grandchild_and_hang, str(tmp_path / "pid")), metadata="hang")
    backend = FreshInterpreterBackend()
    results = {t.metadata: t for t in tasklist.run(nprocesses=3, autokill=2, backend=backend)}
    reaper.track(int((tmp_path / "pid").read_text()))
    assert results["ok"].returnvalue == 5
    assert str(results["bad"].errorvalue) == "remote"
    assert isinstance(results["hang"].errorvalue, AutoKilled)


def test_celery_backend_is_imported_lazily_with_a_clear_error(tasklist, monkeypatch):
    monkeypatch.setitem(sys.modules, "trunq.tasks.tasklist_backend", None)
    tasklist.schedule(defer(add, 1, 1))
    with pytest.raises(RuntimeError, match="trunq.tasks.tasklist_backend.CeleryBackend"):
        list(tasklist.run(backend="celery"))
    assert tasklist.status()["todo"] == 1


def test_unknown_backend_name(tasklist):
    tasklist.schedule(defer(add, 1, 1))
    with pytest.raises(ValueError, match="unknown TaskList backend"):
        list(tasklist.run(backend="carrier-pigeon"))


def test_tasklist_never_imports_celery(tmp_path):
    script = (
        "import sys\nfrom trunq.tasklist import TaskList, defer\n"
        f"tl = TaskList({str(tmp_path / 'tl')!r})\ntl.schedule(defer(abs, -3))\n"
        "assert [t.returnvalue for t in tl.run(nprocesses=1)] == [3]\n"
        "print('celery' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_supervise_reports_outcome_for_a_single_job(tasklist):
    task_uuid = tasklist.schedule(defer(add, 1, 2))
    outcome = supervise(TaskJob(str(tasklist.directory), task_uuid))
    assert outcome == Outcome(task_uuid, "done", "ok")
    assert tasklist.paths(task_uuid).done.exists()


# ---- Run records ----------------------------------------------------------------------------


def test_each_task_is_a_run_readable_by_trunq_runs(tasklist):
    from trunq.runs import RunStatus, RunType, load_run

    good = tasklist.schedule(defer(print, "task says hi"))
    bad = tasklist.schedule(defer(fail_with, "broken"))
    list(tasklist.run(nprocesses=2))
    good_run = load_run(tasklist.paths(good).run_dir)
    assert good_run.status == RunStatus.COMPLETED and good_run.run_type == RunType.TASK_RUN
    assert good_run.fn_name == "print" and good_run.stdout() == "task says hi\n"
    assert good_run.end_time >= good_run.start_time
    assert good_run.downstream_artifacts == [str(tasklist.paths(good).done)]
    bad_run = load_run(tasklist.paths(bad).run_dir)
    assert bad_run.status == RunStatus.ERROR and "broken" in bad_run.error
    logs = subprocess.run(["trunq", "logs", str(tasklist.paths(good).run_dir)],
                          capture_output=True, text=True, timeout=60)
    assert logs.returncode == 0 and logs.stdout == "task says hi\n"


def test_trunq_cancel_of_a_task_run_fails_the_task(tasklist, tmp_path, reaper):
    task_uuid = tasklist.schedule(defer(spawn_grandchild_and_hang, str(tmp_path / "pid")))
    results = []
    runner = threading.Thread(target=lambda: results.extend(tasklist.run(nprocesses=1)))
    runner.start()
    config = tasklist.paths(task_uuid).run_dir / "config_for_run.json"
    deadline = time.monotonic() + 20
    while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    reaper.track(int((tmp_path / "pid").read_text()))
    cancel = subprocess.run(["trunq", "cancel", str(config.parent)], capture_output=True, text=True, timeout=60)
    assert cancel.returncode == 0, cancel.stderr
    runner.join(30)
    (task,) = results
    assert isinstance(task.errorvalue, WorkerDied) and "cancelled" in str(task.errorvalue)
    assert json.loads(config.read_text())["status"] == "CANCELLED"
