"""Caching by run name and cancel, on the Celery pool."""

from __future__ import annotations

import threading
import time

import celery_helpers
import psutil
import pytest

import trunq.runs as runs
from trunq.runs import RunFailed, RunInProgress, RunStatus

pytestmark = [pytest.mark.timeout(60), pytest.mark.cluster]


def _executions(counter):
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_plain_calls_always_execute_get_or_call_reuses(celery, tmp_path):
    counter = tmp_path / "count"
    fn = runs.function(celery_helpers.counted_summer).to(celery)

    assert fn(str(counter), 1, 2, 0, run_name="plain") == 3
    assert fn(str(counter), 1, 2, 0, run_name="plain") == 3
    assert _executions(counter) == 2
    assert fn.get_or_call(str(counter), 1, 2, 0, run_name="plain") == 3
    assert fn.get_or_call(str(counter), 10, 20, 0, run_name="plain") == 3  # cached by name
    assert _executions(counter) == 2


def test_failed_run_is_not_a_cache_hit(celery, tmp_path):
    fn = runs.function(celery_helpers.failing_once).to(celery)
    with pytest.raises(RunFailed, match="first call fails"):
        fn.get_or_call(str(tmp_path / "marker"), run_name="flaky")
    assert celery.get_run("flaky").status == RunStatus.ERROR
    assert fn.get_or_call(str(tmp_path / "marker"), run_name="flaky") == "ok"


def test_run_in_progress_is_waited_for_not_started_twice(celery, tmp_path):
    counter = tmp_path / "count"
    fn = runs.function(celery_helpers.counted_summer).to(celery)
    first = fn.run(str(counter), 1, 2, 1.0, run_name="shared")
    with pytest.raises(RunInProgress):
        fn.run(str(counter), 1, 2, 1.0, run_name="shared")
    results = []
    waiters = [threading.Thread(target=lambda: results.append(fn.get_or_call(str(counter), 1, 2, 1.0,
                                                                               run_name="shared")))
               for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(30)
    assert results == [3, 3, 3]
    assert first.wait(10).status == RunStatus.COMPLETED
    assert _executions(counter) == 1


def test_cancel_kills_the_process_group_on_the_worker(celery, tmp_path, pool, reaper):
    pid_file = tmp_path / "grandchild.pid"
    fn = runs.function(celery_helpers.parent_of_sleeper).to(celery)
    started = fn.run(str(pid_file), run_name="my_run")
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the run never started on a worker"
        time.sleep(0.02)
    grandchild = psutil.Process(int(pid_file.read_text()))
    reaper.track(grandchild.pid)
    child = psutil.Process(started.refresh().pid)
    reaper.track(child.pid)
    supervisor = started.extras["supervisor"]["pid"]
    assert child.ppid() == supervisor and supervisor in pool.worker_pids()
    assert grandchild.ppid() == child.pid and grandchild.cmdline()[0] == "sleep"

    asked = time.monotonic()
    assert celery.cancel("my_run") is True
    assert time.monotonic() - asked < 4.0, "cancel fell back to the client instead of the supervisor"

    gone, alive = psutil.wait_procs([child, grandchild], timeout=5)
    assert not alive, f"still running after cancel: {alive}"
    record = celery.get_run("my_run")
    assert record.status == RunStatus.CANCELLED and record.status_reason == "cancelled_by_user"
    assert not (record.path / ".lock").exists(), "the supervisor did not release the run"
    assert psutil.pid_exists(supervisor), "the worker's pool process must survive a cancel"
    assert celery.cancel("my_run") is False
    with pytest.raises(RunFailed):
        started.result()


def test_cancelled_run_is_not_a_cache_hit(celery, tmp_path):
    fn = runs.function(celery_helpers.sleeper).to(celery)
    started = fn.run(30, run_name="sleepy")
    deadline = time.monotonic() + 20
    while "started" not in started.stdout():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert celery.cancel("sleepy") is True
    rerun = fn.get_or_run(0, run_name="sleepy")
    assert rerun.wait(20).result() == "woke up"


def test_cancel_of_a_queued_run_means_it_never_starts(celery, tmp_path):
    fn = runs.function(celery_helpers.sleeper).to(celery)
    busy = [fn.run(30, run_name=f"busy{index}") for index in range(4)]  # 2 workers x 2 processes
    deadline = time.monotonic() + 20
    while not all("started" in run.stdout() for run in busy):
        assert time.monotonic() < deadline, "the pool did not start 4 runs"
        time.sleep(0.02)
    queued = fn.run(0, run_name="queued")
    assert queued.refresh().status == RunStatus.NOT_STARTED  # every slot is busy

    assert celery.cancel("queued") is True
    assert celery.get_run("queued").status == RunStatus.CANCELLED
    for index in range(4):
        assert celery.cancel(f"busy{index}") is True
    # Runs sent after the cancelled one, one per slot, have finished: the freed slots took the
    # queue past the cancelled message, so had it been going to start it would have by now.
    after = [fn.run(0, run_name=f"after{index}") for index in range(4)]
    assert [run.wait(20).result() for run in after] == ["woke up"] * 4
    record = celery.get_run("queued")
    assert record.status == RunStatus.CANCELLED and record.stdout() == ""
    assert not (record.path / ".lock").exists()
