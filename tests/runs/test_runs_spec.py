"""The examples of spec 04 (Runhouse Run), renamed to trunq, against the local cluster."""

from __future__ import annotations

import pickle

import runs_helpers

import trunq.runs as runs
from trunq.runs import RunStatus, RunType


def test_calling_a_function_with_run_name_records_a_run(local, runs_dir):
    my_func = runs.function(runs_helpers.noisy_summer, name="my_test_func").to(local)

    assert my_func(1, 2, run_name="my_fn_run") == 3

    fn_run = local.get_run("my_fn_run")
    assert fn_run.status == RunStatus.COMPLETED
    assert fn_run.run_type == RunType.FUNCTION_RUN
    assert fn_run.fn_name == "my_test_func"
    assert fn_run.result() == 3
    assert pickle.loads(fn_run.result_bytes()) == 3
    assert fn_run.inputs() == {"args": [1, 2], "kwargs": {}}
    assert "adding 1 and 2" in fn_run.stdout()
    assert "careful" in fn_run.stderr()
    assert fn_run.path == runs_dir / "my_fn_run"
    config = fn_run.config()
    for field in ("name", "status", "start_time", "end_time", "run_type", "fn_name", "cmds",
                  "upstream_artifacts", "downstream_artifacts"):
        assert field in config
    assert fn_run.start_time <= fn_run.end_time


def test_cli_commands_return_codes_and_record_output(local):
    return_codes = local.run(["python --version"], run_name="my_cli_run")

    assert return_codes == [0]
    cli_run = local.get_run("my_cli_run")
    assert cli_run.run_type == RunType.CMD_RUN
    assert cli_run.cmds == ["python --version"]
    assert "Python 3" in cli_run.stdout() + cli_run.stderr()


def test_failing_command_is_an_error_with_its_code(local):
    assert local.run(["echo partial", "exit 3"], run_name="bad_cli") == [0, 3]
    record = local.get_run("bad_cli")
    assert record.status == RunStatus.ERROR
    assert record.status_reason == "exit_code=3"
    assert record.stdout() == "partial\n"


def test_python_commands_run_as_one_program(local, runs_dir):
    data_file = runs_dir.parent / "local_blob.pkl"
    return_codes = local.run_python(
        [
            "import pickle, logging, os",
            "logging.basicConfig(level=logging.INFO)",
            f"path = {str(data_file)!r}",
            "open(path, 'wb').write(pickle.dumps(list(range(50))))",
            "logging.info(f'Blob path: {path}')",
            "os.remove(path)",
        ],
        run_name="my_py_run",
    )

    assert return_codes == [0]
    assert not data_file.exists()
    assert f"Blob path: {data_file}" in local.get_run("my_py_run").stderr()


def test_context_manager_records_output_and_artifacts(local, runs_dir):
    with runs.run(name="ctx_run") as r:
        my_func = runs.function(runs_helpers.summer, name="my_func").to(local)
        runs.note_artifact("/data/my_existing_input", "upstream")
        my_func(1, 2, run_name="my_new_run")
        current_run = my_func.system.get_run("my_new_run")
        run_res = pickle.loads(current_run.result_bytes())
        print(f"Run result: {run_res}")
        runs.note_artifact("/data/my_new_output", "downstream")
        runs.note_artifact("/data/my_new_output", "downstream")
    r.save()

    assert r.path == runs_dir / "ctx_run"
    assert r.run_type == RunType.CTX_MANAGER
    by_name = runs.run(name="ctx_run")
    by_path = runs.run(path=str(r.path))
    for loaded in (by_name, by_path):
        assert loaded.status == RunStatus.COMPLETED
        assert loaded.stdout() == "Run result: 3\n"
        assert loaded.upstream_artifacts == ["/data/my_existing_input"]
        assert loaded.downstream_artifacts == ["/data/my_new_output"]
    runs.note_artifact("/outside/any/run", "upstream")  # no active run: ignored
    assert runs.run(name="ctx_run").upstream_artifacts == ["/data/my_existing_input"]


def test_context_manager_error_is_recorded_and_streams_restored(runs_dir, capsys):
    import sys

    stdout_before = sys.stdout
    try:
        with runs.run(name="ctx_fail"):
            print("before the error")
            raise KeyError("missing")
    except KeyError:
        pass
    assert sys.stdout is stdout_before
    record = runs.load_run("ctx_fail")
    assert record.status == RunStatus.ERROR
    assert "KeyError" in record.error and "raise KeyError" in record.traceback
    assert record.stdout() == "before the error\n"
    print("after")
    assert "after" in capsys.readouterr().out


def test_synchronous_and_asynchronous_calls_with_and_without_cache(local):
    my_func = runs.function(runs_helpers.summer, name="my_func").to(local)

    assert my_func.get_or_call(1, 2, run_name="my_fn_run") == 3
    run_obj = my_func.run(1, 2, run_name="my_async_run")
    assert isinstance(run_obj, runs.Run)
    assert run_obj.wait(timeout=30).status == RunStatus.COMPLETED
    cached = my_func.get_or_run(5, 5, run_name="my_async_run")
    assert cached.result() == 3  # name-addressed cache: the completed run is reused
    assert my_func.get("my_async_run") == 3


def test_moving_runs_copies_the_folder(local, runs_dir, tmp_path):
    runs.function(runs_helpers.noisy_summer).to(local)(1, 2, run_name="my_run")
    my_run = local.get_run("my_run")

    local_run = my_run.to("here")
    assert local_run.path == tmp_path / "trunq-runs" / "my_run"  # tmp_path is the cwd
    elsewhere = my_run.to(path=tmp_path / "copies" / "my_run")
    for copy in (local_run, elsewhere):
        assert copy == my_run
        assert copy.result() == 3
        assert copy.stdout() == my_run.stdout()
    assert (runs_dir / "my_run").is_dir()


def test_cancelling_a_run(local):
    slow = runs.function(runs_helpers.sleeper).to(local)
    started = slow.run(30, run_name="my_run")
    _wait_for_output(started)

    assert local.cancel("my_run") is True
    assert local.get_run("my_run").status == RunStatus.CANCELLED
    assert local.cancel("my_run") is False


def _wait_for_output(run, text="started", timeout=20.0):
    import time

    deadline = time.monotonic() + timeout
    while text not in run.stdout():
        assert time.monotonic() < deadline, f"{run.name} never printed {text!r}"
        time.sleep(0.02)
