"""The examples of spec 04 (renamed as in tests/runs/test_runs_spec.py) on the Celery pool."""

from __future__ import annotations

import os
import pickle
import time

import celery_helpers
import pytest

import trunq.runs as runs
from trunq.runs import RunStatus, RunType

pytestmark = [pytest.mark.timeout(60), pytest.mark.cluster]


def test_calling_a_function_runs_it_on_a_worker(celery, runs_dir, pool):
    my_func = runs.function(celery_helpers.noisy_summer, name="my_test_func").to(celery)

    assert my_func(1, 2, run_name="my_fn_run") == 3

    fn_run = celery.get_run("my_fn_run")
    assert fn_run.status == RunStatus.COMPLETED
    assert fn_run.run_type == RunType.FUNCTION_RUN and fn_run.fn_name == "my_test_func"
    assert fn_run.extras["cluster"] == "celery"
    assert pickle.loads(fn_run.result_bytes()) == 3
    assert fn_run.inputs() == {"args": [1, 2], "kwargs": {}}
    assert "adding 1 and 2" in fn_run.stdout() and "careful" in fn_run.stderr()
    assert fn_run.path == runs_dir / "my_fn_run"
    assert fn_run.start_time <= fn_run.end_time
    supervisor = fn_run.extras["supervisor"]["pid"]
    assert supervisor in pool.worker_pids(), "the run was not supervised by a worker process"
    assert supervisor != os.getpid()


def test_cli_and_python_commands_return_codes_and_output(celery, runs_dir):
    assert celery.run(["python --version"], run_name="my_cli_run") == [0]
    cli_run = celery.get_run("my_cli_run")
    assert cli_run.run_type == RunType.CMD_RUN and cli_run.cmds == ["python --version"]
    assert "Python 3" in cli_run.stdout() + cli_run.stderr()

    assert celery.run(["echo partial", "exit 3"], run_name="bad_cli") == [0, 3]
    bad = celery.get_run("bad_cli")
    assert bad.status == RunStatus.ERROR and bad.status_reason == "exit_code=3"
    assert bad.stdout() == "partial\n"

    data_file = runs_dir.parent / "local_blob.pkl"
    codes = celery.run_python([
        "import pickle, logging, os",
        "logging.basicConfig(level=logging.INFO)",
        f"path = {str(data_file)!r}",
        "open(path, 'wb').write(pickle.dumps(list(range(50))))",
        "logging.info(f'Blob path: {path}')",
        "os.remove(path)",
    ], run_name="my_py_run")
    assert codes == [0] and not data_file.exists()
    assert f"Blob path: {data_file}" in celery.get_run("my_py_run").stderr()


def test_context_manager_around_a_celery_function(celery, runs_dir):
    with runs.run(name="ctx_run") as r:
        my_func = runs.function(celery_helpers.summer, name="my_func").to(celery)
        runs.note_artifact("/data/my_existing_input", "upstream")
        my_func(1, 2, run_name="my_new_run")
        current_run = my_func.system.get_run("my_new_run")
        print(f"Run result: {pickle.loads(current_run.result_bytes())}")
        runs.note_artifact("/data/my_new_output", "downstream")
    r.save()

    for loaded in (runs.run(name="ctx_run"), runs.run(path=str(r.path))):
        assert loaded.status == RunStatus.COMPLETED
        assert loaded.stdout() == "Run result: 3\n"
        assert loaded.upstream_artifacts == ["/data/my_existing_input"]
        assert loaded.downstream_artifacts == ["/data/my_new_output"]


def test_synchronous_and_asynchronous_calls_with_and_without_cache(celery):
    my_func = runs.function(celery_helpers.summer, name="my_func").to(celery)

    assert my_func.get_or_call(1, 2, run_name="my_fn_run") == 3
    started = time.monotonic()
    run_obj = my_func.run(1, 2, run_name="my_async_run")
    assert isinstance(run_obj, runs.Run) and time.monotonic() - started < 2.0
    assert run_obj.wait(timeout=30).status == RunStatus.COMPLETED
    assert my_func.get_or_run(5, 5, run_name="my_async_run").result() == 3
    assert my_func.get("my_async_run") == 3


def test_moving_a_run_copies_the_folder(celery, tmp_path):
    runs.function(celery_helpers.noisy_summer).to(celery)(1, 2, run_name="my_run")
    my_run = celery.get_run("my_run")
    local_run = my_run.to("here")
    assert local_run.path == tmp_path / "trunq-runs" / "my_run"
    assert local_run == my_run and local_run.result() == 3


def test_no_worker_listening_is_one_clear_error(runs_dir, monkeypatch, pool):
    from trunq.errors import NoWorkerAlive
    from trunq.runs import cluster

    monkeypatch.setenv("TRUNQ_REDIS_URL", pool.url.rsplit("/", 1)[0] + "/7")  # a database no worker uses
    with pytest.raises(NoWorkerAlive, match="no trunq worker is running"):
        cluster("celery").run(["true"], run_name="nowhere")
    assert not (runs_dir / "nowhere" / ".lock").exists()
