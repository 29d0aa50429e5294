"""`trunq tasklist status|run|retry DIR`, run as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess

import pytest
from tasklist_funcs import add, fail_with

from trunq.tasklist import TaskList, defer

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]


def trunq(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(__file__)
    return subprocess.run(["trunq", "tasklist", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.fixture
def scheduled(tmp_path):
    tasklist = TaskList(tmp_path / "tl")
    good = tasklist.schedule(defer(add, 40, 2))
    bad = tasklist.schedule(defer(fail_with, "nope"))
    return tasklist, good, bad


def test_run_prints_one_line_per_task_and_fails_when_a_task_failed(scheduled, tmp_path):
    tasklist, good, bad = scheduled
    result = trunq("run", str(tasklist.directory), "-n", "2", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert lines == [f"done {good} 42", f"fail {bad} ValueError: nope"]


def test_status_then_retry_then_status(scheduled, tmp_path):
    tasklist, good, bad = scheduled
    before = trunq("status", str(tasklist.directory), cwd=tmp_path)
    assert before.returncode == 0
    assert before.stdout.splitlines() == ["todo=2 running=0 done=0 fail=0"]
    trunq("run", str(tasklist.directory), cwd=tmp_path)
    after = trunq("status", str(tasklist.directory), cwd=tmp_path)
    assert after.stdout.splitlines() == ["todo=0 running=0 done=1 fail=1", f"failed {bad} ValueError: nope"]
    retried = trunq("retry", str(tasklist.directory), cwd=tmp_path)
    assert retried.returncode == 0 and "moved 1 failed task(s)" in retried.stdout
    assert trunq("status", str(tasklist.directory), cwd=tmp_path).stdout.splitlines()[0] == \
        "todo=1 running=0 done=1 fail=0"


def test_run_with_autokill_succeeds_when_all_tasks_pass(tmp_path):
    tasklist = TaskList(tmp_path / "tl")
    tasklist.schedule(defer(add, 1, 1))
    result = trunq("run", str(tasklist.directory), "--autokill", "5", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("done ")


@pytest.mark.parametrize("command", ["status", "run", "retry"])
def test_missing_or_foreign_directory_is_one_clear_line(tmp_path, command):
    missing = trunq(command, str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines() == [f"Error: no such TaskList directory: {tmp_path / 'nope'}"]
    (tmp_path / "plain").mkdir()
    foreign = trunq(command, str(tmp_path / "plain"), cwd=tmp_path)
    assert foreign.returncode != 0 and "is not a TaskList directory" in foreign.stderr
    assert "Traceback" not in foreign.stderr and len(foreign.stderr.strip().splitlines()) == 1


def test_bad_option_value_is_rejected(scheduled, tmp_path):
    tasklist, _, _ = scheduled
    result = trunq("run", str(tasklist.directory), "-n", "zero", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_status_reports_a_damaged_done_file_and_does_not_count_it(scheduled, tmp_path):
    tasklist, good, bad = scheduled
    trunq("run", str(tasklist.directory), cwd=tmp_path)
    done_file = tasklist.paths(good).done
    done_file.write_bytes(done_file.read_bytes()[:-5])  # cut short, as a copy or a full disk does
    before = done_file.read_bytes()
    result = trunq("status", str(tasklist.directory), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "todo=0 running=0 done=0 fail=1"
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "damaged" in errors[0] and str(done_file) in errors[0]
    assert "Traceback" not in result.stderr and done_file.read_bytes() == before
