"""Name-addressed caching: completed runs are reused; failed, cancelled and lost ones re-execute."""

from __future__ import annotations

import threading

import pytest
import runs_helpers

import trunq.runs as runs
from trunq.runs import RunFailed, RunInProgress, RunStatus


def _executions(counter):
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_completed_run_is_returned_without_executing(local, tmp_path):
    counter = tmp_path / "count.txt"
    fn = runs.function(runs_helpers.counted_summer).to(local)

    assert fn.get_or_call(str(counter), 1, 2, run_name="cached") == 3
    assert fn.get_or_call(str(counter), 1, 2, run_name="cached") == 3
    assert fn.get_or_run(str(counter), 1, 2, run_name="cached").status == RunStatus.COMPLETED
    assert _executions(counter) == 1


def test_plain_call_always_executes(local, tmp_path):
    counter = tmp_path / "count.txt"
    fn = runs.function(runs_helpers.counted_summer).to(local)
    fn(str(counter), 1, 2, run_name="again")
    fn(str(counter), 1, 2, run_name="again")
    assert _executions(counter) == 2


def test_failed_run_is_not_a_cache_hit(local, tmp_path):
    fn = runs.function(runs_helpers.failing_once).to(local)
    marker = str(tmp_path / "marker")

    with pytest.raises(RunFailed, match="first call fails"):
        fn.get_or_call(marker, run_name="flaky")
    failed = local.get_run("flaky")
    assert failed.status == RunStatus.ERROR
    assert "ValueError" in failed.traceback

    assert fn.get_or_call(marker, run_name="flaky") == "ok"
    assert local.get_run("flaky").status == RunStatus.COMPLETED


def test_cancelled_run_is_not_a_cache_hit(local):
    slow = runs.function(runs_helpers.sleeper).to(local)
    slow.run(30, run_name="nap")
    local.cancel("nap")
    assert local.get_run("nap").status == RunStatus.CANCELLED
    assert slow.get_or_call(0, run_name="nap") == "woke up"


def test_concurrent_get_or_call_executes_once(local, tmp_path):
    counter = tmp_path / "count.txt"
    fn = runs.function(runs_helpers.counted_summer).to(local)
    results = []

    def call():
        results.append(fn.get_or_call(str(counter), 2, 3, run_name="shared"))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [5, 5, 5, 5]
    assert _executions(counter) == 1


def test_in_progress_run_is_waited_for_not_started_twice(local, tmp_path):
    counter = tmp_path / "count.txt"
    fn = runs.function(runs_helpers.counted_summer).to(local)
    first = fn.run(str(counter), 1, 1, run_name="busy")

    with pytest.raises(RunInProgress):
        fn.run(str(counter), 1, 1, run_name="busy")
    attached = fn.get_or_run(str(counter), 1, 1, run_name="busy")
    assert attached.wait(30).result() == 2
    assert first.wait(30).status == RunStatus.COMPLETED
    assert _executions(counter) == 1
