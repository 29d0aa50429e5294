"""Tasks that hang, crash, exit or flood their output: each is a failed task, never a hang."""

from __future__ import annotations

import json
import time

import psutil
import pytest
from tasklist_funcs import (
    add,
    exit_with,
    hard_exit,
    make_generator,
    segfault,
    shout,
    spawn_background_and_return,
    spawn_grandchild_and_hang,
)

from trunq.tasklist import AutoKilled, ResultNotPicklable, TaskFileCorrupt, TaskList, WorkerDied, defer

pytestmark = pytest.mark.timeout(60)


def only(tasklist, **options):
    (task,) = tasklist.run(**options)
    return task


def wait_until_gone(pid, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def test_autokill_kills_task_and_grandchild_and_reports_failure(tasklist, tmp_path, reaper):
    pid_file = tmp_path / "grandchild.pid"
    tasklist.schedule(defer(spawn_grandchild_and_hang, str(pid_file)), metadata="hung")
    tasklist.schedule(defer(add, 1, 2))
    started = time.monotonic()
    results = {t.metadata: t for t in tasklist.run(nprocesses=2, autokill=1.0)}
    assert time.monotonic() - started < 10
    grandchild = int(pid_file.read_text())
    reaper.track(grandchild)
    hung = results["hung"]
    assert isinstance(hung.errorvalue, AutoKilled) and "autokill=1.0" in str(hung.errorvalue)
    assert wait_until_gone(grandchild), "the grandchild sleep survived autokill"
    assert results[None].returnvalue == 3
    assert tasklist.status() == {"todo": 0, "done": 1, "fail": 1, "running": 0}
    record = json.loads((tasklist.paths(hung.uuid).run_dir / "config_for_run.json").read_text())
    assert record["status"] == "ERROR" and record["status_reason"] == "autokilled"


def test_processes_left_behind_by_a_finished_task_are_killed(tasklist, tmp_path, reaper):
    pid_file = tmp_path / "background.pid"
    tasklist.schedule(defer(spawn_background_and_return, str(pid_file)))
    assert only(tasklist).returnvalue == "returned"
    background = int(pid_file.read_text())
    reaper.track(background)
    assert wait_until_gone(background)


@pytest.mark.parametrize("crash", [segfault, hard_exit])
def test_crashing_task_is_failed_with_worker_died(tasklist, crash):
    tasklist.schedule(defer(crash), metadata="crash")
    task = only(tasklist)
    assert isinstance(task.errorvalue, WorkerDied)
    assert task.metadata == "crash"
    expected = "SIGSEGV" if crash is segfault else "code 7"
    assert expected in str(task.errorvalue)


def test_sys_exit_nonzero_is_a_failure_and_zero_a_success(tasklist):
    tasklist.schedule(defer(exit_with, 3), metadata=3)
    tasklist.schedule(defer(exit_with, 0), metadata=0)
    results = {t.metadata: t for t in tasklist.run(nprocesses=2)}
    assert isinstance(results[3].errorvalue, SystemExit) and results[3].errorvalue.code == 3
    assert results[0].errorvalue is None and results[0].returnvalue is None


@pytest.mark.parametrize("with_logfile", [False, True])
def test_megabytes_of_output_do_not_hang(tmp_path, with_logfile, capfd):
    tasklist = TaskList(tmp_path / "tl", logfile=tmp_path / "log" if with_logfile else None)
    tasklist.schedule(defer(shout, 3_000_000))
    task = only(tasklist)
    assert task.returnvalue == 3_000_000
    out_file = tasklist.paths(task.uuid).run_dir / f"{task.uuid}.out"
    assert out_file.stat().st_size == 3_000_000
    captured = capfd.readouterr()
    if with_logfile:
        assert "done shouting" in (tmp_path / "log").read_text()
    else:
        assert len(captured.out) == 3_000_000 and "done shouting" in captured.err


def test_truncated_todo_file_is_a_failed_task_and_run_goes_on(tasklist):
    broken = tasklist.schedule(defer(add, 1, 1))
    path = tasklist.paths(broken).todo
    path.write_bytes(path.read_bytes()[:10])
    tasklist.schedule(defer(add, 2, 2))
    results = {t.uuid: t for t in tasklist.run(nprocesses=2)}
    assert isinstance(results[broken].errorvalue, TaskFileCorrupt)
    assert sorted(t.returnvalue for t in results.values() if t.errorvalue is None) == [4]
    assert tasklist.status()["fail"] == 1


def test_unpicklable_result_fails_with_original_error_text(tasklist):
    tasklist.schedule(defer(make_generator))
    task = only(tasklist)
    assert isinstance(task.errorvalue, ResultNotPicklable)
    assert "generator" in str(task.errorvalue)


def test_exception_that_cannot_be_unpickled_is_recorded_as_text(tasklist):
    tasklist.schedule(defer(_raise_awkward))
    task = only(tasklist)
    assert "AwkwardError" in str(task.errorvalue) and "two args" in str(task.errorvalue)


class AwkwardError(Exception):
    def __init__(self, first, second):
        super().__init__(f"{first} {second}")


def _raise_awkward():
    raise AwkwardError("two", "args")
