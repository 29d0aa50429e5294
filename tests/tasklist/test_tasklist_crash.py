"""kill -9 of the process that calls run(), at random moments, then resume: nothing lost,
nothing reported twice, nothing that finished is run again."""

from __future__ import annotations

import os
import random
import signal
import sys
import time

import dill
import psutil
import pytest
from tasklist_funcs import read_calls

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

DRIVER = """
import os, sys
from tasklist_funcs import slow_record
from trunq.tasklist import TaskList, defer
directory, calls, reported, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tasklist = TaskList(directory, noschedule_if_exist=True)
for value in range(count):
    tasklist.schedule(defer(slow_record, calls, value, 0.03), metadata=value)
if os.environ.get("SCHEDULE_ONLY"):
    sys.exit(0)
with open(reported, "a") as log:
    for task in tasklist.run(nprocesses=2):
        log.write(f"{task.metadata}\\n")
        log.flush()
"""


def start_driver(reaper, tmp_path, count, schedule_only=False):
    args = [str(tmp_path / "tl"), str(tmp_path / "calls"), str(tmp_path / "reported"), str(count)]
    env_script = ("import os; os.environ['SCHEDULE_ONLY']='1'\n" if schedule_only else "") + DRIVER
    return reaper.python(env_script, *args, cwd=tmp_path)


def test_kill_driver_at_random_moments_then_resume(tmp_path, reaper):
    count = 40
    assert start_driver(reaper, tmp_path, count, schedule_only=True).wait(60) == 0
    rng = random.Random(int(os.environ.get("TASKLIST_CRASH_SEED", "1234")))
    for _ in range(6):
        driver = start_driver(reaper, tmp_path, count)
        time.sleep(rng.uniform(0.15, 0.6))
        for child in psutil.Process(driver.pid).children(recursive=True):
            reaper.track(child.pid)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
    final = start_driver(reaper, tmp_path, count)
    assert final.wait(90) == 0
    expected = [str(value) for value in range(count)]
    executed = read_calls(tmp_path / "calls")
    assert sorted(executed, key=int) == expected, "a task was lost or ran twice"
    reported = read_calls(tmp_path / "reported")
    assert len(reported) == len(set(reported)), "a task was reported twice"
    assert set(reported) <= set(expected)
    done = list((tmp_path / "tl" / "done").glob("*.pkl"))
    assert len(done) == count
    assert sorted(dill.loads(p.read_bytes()).returnvalue for p in done) == list(range(count))
    assert not list((tmp_path / "tl" / "todo").glob("*.pkl"))
    assert not list((tmp_path / "tl" / "fail").glob("*.pkl"))
    assert not list((tmp_path / "tl" / ".claims").iterdir())


SCHEDULER = """
import sys
from tasklist_funcs import pair
from trunq.tasklist import TaskList, defer
tasklist = TaskList(sys.argv[1])
print("ready", flush=True)
for value in range(100000):
    tasklist.schedule(defer(pair, value, list(range(2000))))
"""


def test_kill_during_schedule_never_leaves_a_partial_todo_file(tmp_path, reaper):
    import subprocess

    scheduler = reaper.python(SCHEDULER, str(tmp_path / "tl"), cwd=tmp_path, stdout=subprocess.PIPE)
    assert scheduler.stdout.readline().strip() == b"ready"
    time.sleep(0.5)
    scheduler.send_signal(signal.SIGKILL)
    scheduler.wait(10)
    todo = list((tmp_path / "tl" / "todo").iterdir())
    assert todo, "nothing was scheduled before the kill"
    for path in todo:
        assert path.suffix == ".pkl" or path.name.endswith(".tmp")
    for path in (p for p in todo if p.suffix == ".pkl"):
        assert dill.loads(path.read_bytes()).errorvalue is None
    from trunq.tasklist import TaskList

    resumed = TaskList(tmp_path / "tl", noschedule_if_exist=True)
    results = list(resumed.run(nprocesses=2))
    assert len(results) == len([p for p in todo if p.suffix == ".pkl"])
    assert [task.errorvalue for task in results if task.errorvalue is not None] == []
    assert not [p for p in (tmp_path / "tl" / "todo").iterdir()], "stale temp files were not removed"
    sys.stdout.flush()


def test_two_concurrent_runs_split_the_work(tmp_path):
    import threading

    from tasklist_funcs import slow_record

    from trunq.tasklist import TaskList, defer

    tasklist = TaskList(tmp_path / "tl")
    for value in range(16):
        tasklist.schedule(defer(slow_record, str(tmp_path / "calls"), value, 0.05), metadata=value)
    reported: list[list[int]] = [[], []]

    def drive(index):
        other = TaskList(tmp_path / "tl", exist_ok=True, pre_clean=False)
        reported[index].extend(task.metadata for task in other.run(nprocesses=2))

    threads = [threading.Thread(target=drive, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(read_calls(tmp_path / "calls"), key=int) == [str(v) for v in range(16)]
    assert sorted(reported[0] + reported[1]) == list(range(16))
    assert tasklist.status() == {"todo": 0, "done": 16, "fail": 0, "running": 0}
