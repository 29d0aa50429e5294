"""TaskList: directory semantics, scheduling, running, inspecting, cleaning (spec 05)."""

from __future__ import annotations

import os
import subprocess
import sys

import dill
import pytest
from tasklist_funcs import Thing, add, fail_with, prepare, read_calls, record_call

from trunq.tasklist import TaskList, defer


def run_all(tasklist, **options):
    return {task.uuid: task for task in tasklist.run(**options)}


def test_new_directory_layout_and_exist_ok(tmp_path):
    directory = tmp_path / "deep" / "tl"
    TaskList(directory)
    assert all((directory / name).is_dir() for name in ("todo", "done", "fail"))
    with pytest.raises(FileExistsError, match="already exists"):
        TaskList(directory)


def test_exist_ok_pre_clean_wipes_and_pre_clean_false_appends(tmp_path):
    first = TaskList(tmp_path / "tl")
    first.schedule(defer(add, 1, 2))
    kept = TaskList(tmp_path / "tl", exist_ok=True, pre_clean=False)
    kept.schedule(defer(add, 3, 4))
    assert len(list(kept.todo_tasks())) == 2
    wiped = TaskList(tmp_path / "tl", exist_ok=True)
    assert list(wiped.todo_tasks()) == []


def test_noschedule_if_exist_skips_schedule_only_when_directory_exists(tmp_path):
    fresh = TaskList(tmp_path / "tl", noschedule_if_exist=True)
    assert fresh.schedule(defer(add, 1, 2)) is not None
    resumed = TaskList(tmp_path / "tl", noschedule_if_exist=True)
    assert resumed.schedule(defer(add, 5, 5)) is None
    assert [task.returnvalue for task in resumed.run(nprocesses=1)] == [3]


def test_run_yields_returnvalue_errorvalue_metadata(tasklist):
    for item in range(4):
        task = defer(prepare, item)
        tasklist.schedule(defer(add, task[1], task[0]), metadata={"item": item})
    tasklist.schedule(defer(fail_with, "boom"), metadata="bad")
    iterator = tasklist.run(nprocesses=2)
    assert len(iterator) == 5
    results = list(iterator)
    good = sorted((t.metadata["item"], t.returnvalue) for t in results if t.errorvalue is None)
    assert good == [(0, 0), (1, 11), (2, 22), (3, 33)]
    (bad,) = [t for t in results if t.errorvalue is not None]
    assert isinstance(bad.errorvalue, ValueError) and str(bad.errorvalue) == "boom"
    assert bad.metadata == "bad" and bad.returnvalue is None
    assert "fail_with" in bad.traceback
    assert all(t.runtime >= 0 for t in results)
    assert len(list(tasklist.done_tasks())) == 4
    assert [t.metadata for t in tasklist.fail_tasks()] == ["bad"]
    assert list(tasklist.todo_tasks()) == []
    assert len(os.listdir(tasklist.directory / "done")) == 4
    assert all(name.endswith(".pkl") for name in os.listdir(tasklist.directory / "done"))


def test_scheduled_part_of_task_and_attribute_access(tasklist):
    thing = defer(Thing, 7)
    tasklist.schedule(thing.items[1])
    tasklist.schedule(defer(thing.double))
    assert sorted(t.returnvalue for t in tasklist.run(nprocesses=2)) == [8, 14]


def test_shared_subtask_of_one_scheduled_graph_runs_once(tasklist, call_log):
    shared = defer(record_call, str(call_log), "s")
    tasklist.schedule(defer(lambda a, b, c: a + b + c, shared, shared[0], defer(add, shared, "t")))
    (task,) = tasklist.run(nprocesses=1)
    assert task.returnvalue == "ssst"
    assert read_calls(call_log) == ["s"]


def test_nothing_runs_until_iterated(tasklist, call_log):
    tasklist.schedule(defer(record_call, str(call_log), "x"))
    iterator = tasklist.run()
    assert read_calls(call_log) == []
    assert len(list(iterator)) == 1 and read_calls(call_log) == ["x"]


def test_failed_task_moved_back_to_todo_runs_again(tasklist, call_log):
    marker = tasklist.directory.parent / "allow"
    task_uuid = tasklist.schedule(defer(_fails_unless, str(marker), str(call_log)))
    (first,) = tasklist.run(nprocesses=1)
    assert first.errorvalue is not None
    marker.write_text("ok")
    os.replace(tasklist.paths(task_uuid).fail, tasklist.paths(task_uuid).todo)
    (second,) = tasklist.run(nprocesses=1)
    assert second.errorvalue is None and second.returnvalue == "ok"
    assert not tasklist.paths(task_uuid).fail.exists() and tasklist.paths(task_uuid).done.exists()
    assert read_calls(call_log) == ["try", "try"]


def test_failed_task_copied_back_to_todo_leaves_only_new_result(tasklist, call_log):
    marker = tasklist.directory.parent / "allow"
    task_uuid = tasklist.schedule(defer(_fails_unless, str(marker), str(call_log)))
    list(tasklist.run(nprocesses=1))
    marker.write_text("ok")
    tasklist.paths(task_uuid).todo.write_bytes(tasklist.paths(task_uuid).fail.read_bytes())
    (again,) = tasklist.run(nprocesses=1)
    assert again.returnvalue == "ok"
    assert tasklist.status() == {"todo": 0, "done": 1, "fail": 0, "running": 0}


def _fails_unless(marker, log):
    record_call(log, "try")
    if not os.path.exists(marker):
        raise RuntimeError("not yet")
    return "ok"


def test_retry_failed_moves_all_failures(tasklist):
    for message in ("a", "b"):
        tasklist.schedule(defer(fail_with, message))
    list(tasklist.run(nprocesses=2))
    assert tasklist.retry_failed() == 2
    assert tasklist.status()["todo"] == 2 and tasklist.status()["fail"] == 0


def test_clean_selected_states_and_everything(tasklist):
    tasklist.schedule(defer(add, 1, 1))
    tasklist.schedule(defer(fail_with, "x"))
    list(tasklist.run(nprocesses=2))
    tasklist.schedule(defer(add, 2, 2))
    tasklist.clean(clean_todo=False, clean_done=False, clean_fail=True)
    assert tasklist.status() == {"todo": 1, "done": 1, "fail": 0, "running": 0}
    tasklist.clean()
    assert not tasklist.directory.exists()
    tasklist.schedule(defer(add, 3, 3))  # usable again after a full clean
    assert [t.returnvalue for t in tasklist.run()] == [6]


def test_post_clean_removes_directory_when_collected(tmp_path):
    tasklist = TaskList(tmp_path / "tl", post_clean=True)
    tasklist.schedule(defer(add, 1, 1))
    del tasklist
    import gc

    gc.collect()
    assert not (tmp_path / "tl").exists()


def test_logfile_gets_events_and_task_output(tmp_path, capfd):
    logfile = tmp_path / "tasks.log"
    tasklist = TaskList(tmp_path / "tl", logfile=logfile)
    task_uuid = tasklist.schedule(defer(print, "hello from the task"))
    list(tasklist.run(nprocesses=1))
    text = logfile.read_text()
    for event in ("schedule", "start", "done"):
        assert f"{task_uuid}.pkl {event}" in text
    assert "hello from the task" in text and "b'" not in text
    assert "hello from the task" not in capfd.readouterr().out


def test_without_logfile_output_reaches_terminal_and_run_files(tasklist, capfd):
    task_uuid = tasklist.schedule(defer(print, "visible output"))
    list(tasklist.run(nprocesses=1))
    assert "visible output" in capfd.readouterr().out
    run_dir = tasklist.paths(task_uuid).run_dir
    assert (run_dir / f"{task_uuid}.out").read_text() == "visible output\n"


def test_print_errors_prints_traceback(tasklist, capfd):
    tasklist.schedule(defer(fail_with, "loud failure"))
    list(tasklist.run(nprocesses=1, print_errors=True))
    err = capfd.readouterr().err
    assert "Error in" in err and "loud failure" in err and "Traceback" in err


def test_save_session_lets_tasks_use_main_globals(tmp_path):
    script = f"""
from trunq.tasklist import TaskList, defer
FACTOR = 6
def scaled(x):
    return x * FACTOR
if __name__ == "__main__":
    tl = TaskList({str(tmp_path / 'tl')!r})
    tl.schedule(defer(scaled, 7))
    print([t.returnvalue for t in tl.run(nprocesses=1, save_session=True)])
"""
    (tmp_path / "script.py").write_text(script)
    out = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[42]", out.stderr
    assert (tmp_path / "tl" / "session.pkl").exists()


def test_manual_child_cli_runs_raises_and_prints(tasklist, tmp_path):
    task_uuid = tasklist.schedule(defer(fail_with, "by hand"))
    list(tasklist.run(nprocesses=1))
    failed = tasklist.paths(task_uuid).fail
    out = tmp_path / "out.pkl"
    raised = subprocess.run([sys.executable, "-m", "trunq.tasklist", str(failed), str(out), "-r"],
                            capture_output=True, text=True, timeout=60, env=_env())
    assert raised.returncode != 0 and "ValueError: by hand" in raised.stderr
    printed = subprocess.run([sys.executable, "-m", "trunq.tasklist", str(failed), str(out), "-p"],
                             capture_output=True, text=True, timeout=60, env=_env())
    assert printed.returncode == 1 and "Error in" in printed.stderr and "by hand" in printed.stderr
    assert "Traceback" not in raised.stdout
    assert str(dill.loads(out.read_bytes()).errorvalue) == "by hand"
    good = tasklist.paths(tasklist.schedule(defer(add, 20, 22))).todo
    ok = subprocess.run([sys.executable, "-m", "trunq.tasklist", str(good), str(out)], timeout=60, env=_env())
    assert ok.returncode == 0 and dill.loads(out.read_bytes()).returnvalue == 42


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(__file__)
    return env


def test_run_rejects_bad_arguments(tasklist):
    with pytest.raises(ValueError, match="nprocesses"):
        tasklist.run(nprocesses=0)
    with pytest.raises(ValueError, match="autokill"):
        tasklist.run(autokill=0)


def test_a_torn_result_left_by_a_crashed_driver_runs_the_task_again(tmp_path):
    import json
    import socket

    from trunq.tasklist import TaskList, defer

    tasklist = TaskList(str(tmp_path / "tl"))
    tasklist.schedule(defer(pow, 2, 5), metadata="two to the fifth")
    (todo,) = (tmp_path / "tl" / "todo").glob("*.pkl")
    dead = {"host": socket.gethostname(), "pid": 2**22 + 12345, "start": 1, "token": "gone"}  # no such pid
    (tmp_path / "tl" / ".claims" / f"{todo.stem}.json").write_text(json.dumps({"driver": dead, "executor": {}}))
    (tmp_path / "tl" / "done" / todo.name).write_bytes(b"\x80\x04torn")  # cut short by the crash
    resumed = TaskList(str(tmp_path / "tl"), noschedule_if_exist=True, exist_ok=True)
    reported = list(resumed.run(nprocesses=1))
    assert [(task.metadata, task.returnvalue, task.errorvalue) for task in reported] == [("two to the fifth", 32, None)]
