"""TaskList.run(backend="celery"): spec-05 example, autokill, crashes and resume after kill -9."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import celery_helpers
import dill
import psutil
import pytest
from celery_helpers import dostuff, fail_with, prepare, read_lines, segfault, spawn_grandchild_and_hang

from trunq.tasklist import AutoKilled, TaskList, WorkerDied, defer

pytestmark = [pytest.mark.timeout(90), pytest.mark.cluster]


@pytest.fixture
def tasklist(runs_dir, tmp_path):
    return TaskList(tmp_path / "tl")


def test_spec_example_runs_on_the_pool_with_results(tasklist, pool):
    for item in range(5):
        task = defer(prepare, item)
        tasklist.schedule(defer(dostuff, task[1], task[0]), metadata={"item": item})
    tasklist.schedule(defer(fail_with, "boom"), metadata="bad")

    results = list(tasklist.run(nprocesses=3, backend="celery"))

    good = sorted((t.metadata["item"], t.returnvalue) for t in results if t.errorvalue is None)
    assert good == [(0, 0), (1, 11), (2, 22), (3, 33), (4, 44)]
    (bad,) = [t for t in results if t.errorvalue is not None]
    assert isinstance(bad.errorvalue, ValueError) and str(bad.errorvalue) == "boom"
    assert bad.metadata == "bad" and "fail_with" in bad.traceback
    assert tasklist.status() == {"todo": 0, "done": 5, "fail": 1, "running": 0}
    # Each task ran in a child of a worker's pool process, not of this process.
    from trunq.runs import load_run

    pids = {load_run(tasklist.paths(t.uuid).run_dir).pid for t in results}
    assert os.getpid() not in pids and len(pids) == 6


def test_autokill_kills_a_grandchild_on_the_worker_and_fails_the_task(tasklist, tmp_path, reaper):
    pid_file = tmp_path / "grandchild.pid"
    tasklist.schedule(defer(spawn_grandchild_and_hang, str(pid_file)), metadata="hang")
    tasklist.schedule(defer(celery_helpers.dostuff, 2, 3), metadata="ok")

    started = time.monotonic()
    results = {t.metadata: t for t in tasklist.run(nprocesses=2, autokill=2, backend="celery")}

    assert time.monotonic() - started < 20
    grandchild = int(pid_file.read_text())
    reaper.track(grandchild)
    assert isinstance(results["hang"].errorvalue, AutoKilled)
    assert results["ok"].returnvalue == 5
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert (tasklist.directory / "fail" / f"{results['hang'].uuid}.pkl").exists()


def test_segfaulting_task_is_reported_failed(tasklist):
    tasklist.schedule(defer(segfault), metadata="crash")
    tasklist.schedule(defer(prepare, 1), metadata="fine")

    results = {t.metadata: t for t in tasklist.run(nprocesses=2, backend="celery")}

    assert isinstance(results["crash"].errorvalue, WorkerDied)
    assert "SIGSEGV" in str(results["crash"].errorvalue)
    assert results["fine"].returnvalue == [1, 10]


DRIVER = """
import sys
import threading
from celery_helpers import slow_record
from trunq.tasklist import TaskList, defer
directory, calls, reported, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tasklist = TaskList(directory, noschedule_if_exist=True)
for value in range(count):
    tasklist.schedule(defer(slow_record, calls, value, 0.4), metadata=value)
with open(reported, "a") as log:
    for task in tasklist.run(nprocesses=3, backend="celery"):
        log.write(f"{task.metadata}\\n")
        log.flush()
"""


def test_resume_after_kill_9_of_the_driver_loses_no_task(runs_dir, tmp_path, reaper):
    count = 12
    args = [str(tmp_path / "tl"), str(tmp_path / "calls"), str(tmp_path / "reported"), str(count)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    first = psutil.Popen([sys.executable, "-c", DRIVER, *args], cwd=tmp_path, env=env)
    reaper.track(first.pid)
    deadline = time.monotonic() + 30
    while len(read_lines(tmp_path / "reported")) < 2:
        assert time.monotonic() < deadline, "the first driver reported nothing"
        time.sleep(0.02)
    time.sleep(0.2)  # mid-flight: some tasks are running on the workers now
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    claimed = len(list((tmp_path / "tl" / ".claims").glob("*.json")))
    assert claimed > 0, "the kill did not happen while tasks were in flight"

    second = psutil.Popen([sys.executable, "-c", DRIVER, *args], cwd=tmp_path, env=env)
    reaper.track(second.pid)
    assert second.wait(60) == 0

    expected = [str(value) for value in range(count)]
    assert sorted(read_lines(tmp_path / "calls"), key=int) == expected, "a task was lost or ran twice"
    reported = read_lines(tmp_path / "reported")
    assert sorted(set(reported), key=int) == expected and len(reported) == count
    done = sorted(dill.loads(path.read_bytes()).returnvalue for path in (tmp_path / "tl" / "done").glob("*.pkl"))
    assert done == list(range(count))
    assert not list((tmp_path / "tl" / "todo").glob("*.pkl"))
    assert not list((tmp_path / "tl" / ".claims").iterdir())


def test_a_supervisor_killed_on_the_worker_fails_its_task_and_stops_it(tasklist, tmp_path, reaper, pool):
    pid_file = tmp_path / "grandchild.pid"
    task_uuid = tasklist.schedule(defer(spawn_grandchild_and_hang, str(pid_file)))
    killed = []

    def kill_the_supervisor() -> None:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        reaper.track(int(pid_file.read_text()))
        task_process = psutil.Process(int(pid_file.read_text())).parent()
        reaper.track(task_process.pid)
        supervisor = task_process.parent()
        assert supervisor.pid in pool.worker_pids()
        killed.extend([task_process, psutil.Process(int(pid_file.read_text()))])
        supervisor.send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_the_supervisor)
    killer.start()
    (task,) = list(tasklist.run(nprocesses=1, backend="celery"))
    killer.join(10)

    assert len(killed) == 2, "the task never started"
    assert task.uuid == task_uuid and isinstance(task.errorvalue, WorkerDied)
    assert "supervisor was lost" in str(task.errorvalue)
    _, alive = psutil.wait_procs(killed, timeout=5)
    assert not alive, "the task's process group outlived its supervisor"
