"""Distributed builds as a user runs them: `trunq build` against Redis and Celery workers."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.redis_fixtures import free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


def starts(dist_steps, root: Path) -> Counter:
    return Counter(step_id for event, step_id, _, _ in dist_steps.executions(root) if event == "start")


def wait_for_status(cluster, step, status: str, timeout: float = 20.0):  # noqa: ANN001, ANN201
    store = cluster.store()
    try:
        def find():  # noqa: ANN202
            record = store.get(step.step_id)
            return record if record is not None and record.status == status else None

        return wait_for(find, timeout, f"{step.step_id} in {status}")
    finally:
        store.close()


def test_cli_build_runs_on_workers_and_prints_summary(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "6")
    assert result.returncode == 0, result.stderr
    assert "Trunq Execution Summary" in result.stdout
    assert "7 ran successfully" in result.stdout
    assert "6 DistLeaf" in result.stdout
    pids = {int(path.read_text()) for path in (root / "out").iterdir()}
    assert pids <= cluster.worker_pids()  # run by pool processes of the workers, not the client
    counts = starts(dist_steps, root)
    assert len(counts) == 7 and set(counts.values()) == {1}
    store = cluster.store()
    try:
        leaves = [dist_steps.DistLeaf(root=str(root), n=n).step_id for n in range(6)]
        assert [record.status for record in store.get_many(leaves)] == ["DONE"] * 6
    finally:
        store.close()


def test_second_build_finds_everything_complete(cluster, dist_steps, root: Path) -> None:
    first = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "2")
    again = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "2")
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert "Did not run any steps" in again.stdout
    assert sum(starts(dist_steps, root).values()) == 3


def test_dynamic_dependencies_run_on_workers(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistDynamic", *MODULE, "--root", str(root))
    assert result.returncode == 0, result.stderr + result.stdout
    step = dist_steps.DistDynamic(root=str(root))
    written = Path(step.output().path).read_text().split(",")
    assert len(written) == 2 and all(pid.isdigit() for pid in written)
    counts = starts(dist_steps, root)
    assert counts[step.step_id] == 2  # run() starts again once the yielded leaves are done
    assert counts[dist_steps.DistLeaf(root=str(root), n=100).step_id] == 1


def test_batch_runs_once_with_the_max_date(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistDays", *MODULE, "--root", str(root), "--days", "3")
    assert result.returncode == 0, result.stderr + result.stdout
    day_runs = [step_id for step_id, n in starts(dist_steps, root).items() if step_id.startswith("DistDay_")]
    assert len(day_runs) == 1
    assert sorted(path.name for path in (root / "out").glob("day-*")) == ["day-2016-07-30"]


def test_resource_limit_holds_across_workers_and_clients(cluster, dist_steps, root: Path) -> None:
    env = cluster.env(TRUNQ__resources__gpu="1")
    args = [*MODULE, "--root", str(root), "--count", "3", "--sleep", "0.3"]
    clients = [cluster.spawn("build", "DistGpuFan", *args, "--first", str(first), env=env) for first in (0, 3)]
    for client in clients:
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err + out
    rows = dist_steps.executions(root)
    intervals = sorted((stamp, event) for event, step_id, _, stamp in rows if step_id.startswith("DistExclusive"))
    assert len(intervals) == 12
    running = 0
    for _, event in intervals:  # at most one holder of the single gpu unit at any time
        running += 1 if event == "start" else -1
        assert running <= 1
    pids = {pid for event, step_id, pid, _ in rows if step_id.startswith("DistExclusive")}
    assert len(pids) >= 2  # several worker processes took part


def test_status_message_and_progress_reach_the_store(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistReporter", *MODULE, "--root", str(root))
    record = wait_for_status(cluster, dist_steps.DistReporter(root=str(root)), "RUNNING")
    store = cluster.store()
    try:
        fresh = wait_for(lambda: (r := store.get(record.step_id)) and r.progress == 50.0 and r,
                         what="progress 50")
        assert fresh.status_message == "half way there"
        assert re.fullmatch(r"worker[12]@.+", fresh.worker) and fresh.worker_pid  # the Celery name, the pool process
    finally:
        store.close()
    (root / "go").write_text("")
    out, err = client.communicate(timeout=30)
    assert client.returncode == 0, err + out


def test_trunq_message_round_trip(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistChatty", *MODULE, "--root", str(root))
    record = wait_for_status(cluster, dist_steps.DistChatty(root=str(root)), "RUNNING")
    answer = cluster.trunq("message", record.step_id, "hello", "--timeout", "10")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "echo: hello"
    stop = cluster.trunq("message", record.step_id, "stop", "--timeout", "10")
    assert stop.stdout.strip() == "echo: stop"
    out, err = client.communicate(timeout=30)
    assert client.returncode == 0, err + out


def test_trunq_message_to_unknown_step_is_one_line(cluster) -> None:
    result = cluster.trunq("message", "NoSuchStep_1_abc", "hello", "--timeout", "1")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["trunq: error: unknown step 'NoSuchStep_1_abc'"]


def test_trunq_message_to_step_without_inbox_is_refused(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistReporter", *MODULE, "--root", str(root))
    record = wait_for_status(cluster, dist_steps.DistReporter(root=str(root)), "RUNNING")
    result = cluster.trunq("message", record.step_id, "hello", "--timeout", "0.5")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not accept messages" in lines[0]
    (root / "go").write_text("")
    client.communicate(timeout=30)


def test_no_worker_alive_says_how_to_start_one(cluster, root: Path) -> None:
    lonely_db = cluster.url.rsplit("/", 1)[0] + "/7"  # same Redis, a database no worker uses
    env = cluster.env(TRUNQ_REDIS_URL=lonely_db)
    started = time.monotonic()
    result = cluster.trunq("build", "DistLeaf", *MODULE, "--root", str(root), "--n", "1", env=env, timeout=20)
    assert time.monotonic() - started < 15
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "trunq: error: no trunq worker is running: start one with `celery -A trunq worker` (or `trunq worker`)"]


def test_unreachable_redis_is_one_line(cluster, root: Path) -> None:
    env = cluster.env(TRUNQ_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    result = cluster.trunq("build", "DistLeaf", *MODULE, "--root", str(root), "--n", "1", env=env, timeout=20)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trunq: error: cannot reach Redis at redis://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_trunq_worker_is_an_alias_of_celery_worker(cluster, dist_steps, root: Path) -> None:
    alias = cluster.start_worker("alias", via_trunq=True)
    try:
        names = wait_for(lambda: {n for n in cluster.live_worker_names() if n.startswith("alias@")},
                         what="the alias worker's heartbeat")
        assert len(names) == 1
    finally:
        cluster.stop_worker(alias)
    assert alias.returncode == 0  # a warm shutdown on SIGTERM
    assert not any(n.startswith("alias@") for n in cluster.live_worker_names())  # gone at once


def test_submit_returns_a_handle(cluster, dist_steps, root: Path) -> None:
    import trunq

    handle = trunq.submit([dist_steps.DistFan(root=str(root), width=3, sleep=0.5)])
    assert handle.done() is False and handle.status() == "running"
    assert handle.wait(60) is True
    assert handle.status() == "succeeded"
    result = handle.result()
    assert result.scheduling_succeeded
    assert "4 ran successfully" in result.summary_text
    assert len(starts(dist_steps, root)) == 4


def test_build_with_local_scheduler_false(cluster, dist_steps, root: Path) -> None:
    import trunq

    result = trunq.build([dist_steps.DistLeaf(root=str(root), n=5, sleep=0.5)], local_scheduler=False,
                         detailed_summary=True)
    assert result.scheduling_succeeded
    leaf_id = dist_steps.DistLeaf(root=str(root), n=5).step_id
    leaf_pid = int(Path(dist_steps.DistLeaf(root=str(root), n=5).output().path).read_text())
    assert leaf_pid != __import__("os").getpid()
    store = cluster.store()
    try:
        record = store.get(leaf_id)  # who ran it: the Celery worker's name and its pool process
    finally:
        store.close()
    assert re.fullmatch(r"worker[12]@.+", record.worker) and record.worker_pid == leaf_pid
    assert record.worker_id.startswith(record.worker + ":")
    from trunq.history import History

    history = History.from_url()  # the build client records what the workers ran
    try:
        last = history.last_run(leaf_id)
        assert last is not None and last.status == "DONE"
        assert last.worker == record.worker  # the real worker, not the client
        assert 0.5 <= last.duration < record.finished - record.started + 0.01  # the run, not the queue
    finally:
        history.close()


@pytest.mark.parametrize("value", ["dist_steps", "other_pkg,dist_steps"])
def test_step_modules_allow_list_accepts(value: str) -> None:
    from trunq.execution.payload import module_allowed

    assert module_allowed("dist_steps", value)
    assert not module_allowed("evil", value)
    assert module_allowed("anything", "")


def test_worker_refuses_steps_it_may_not_import(monkeypatch: pytest.MonkeyPatch) -> None:
    from trunq.execution.payload import PayloadError, rebuild_step

    monkeypatch.setenv("TRUNQ_STEP_MODULES", "company.pipelines")
    with pytest.raises(PayloadError, match=r"module 'os' is not in \$TRUNQ_STEP_MODULES"):
        rebuild_step({"module": "os", "family": "Anything", "params": {}})
    monkeypatch.delenv("TRUNQ_STEP_MODULES")
    with pytest.raises(PayloadError, match="defined in a script"):
        rebuild_step({"module": "__main__", "family": "Mine", "params": {}})
    with pytest.raises(PayloadError, match="cannot import step module 'no_such_module_xyz'"):
        rebuild_step({"module": "no_such_module_xyz", "family": "Mine", "params": {}})


def test_a_dead_pool_process_gets_a_reason_a_user_can_act_on() -> None:
    from trunq.tasks.app import death_reason

    assert death_reason("Worker exited prematurely: signal 11 (SIGSEGV) Job: 3.") == "signal 11 (SIGSEGV)"
    assert "out of memory?" in death_reason("Worker exited prematurely: signal 9 (SIGKILL) Job: 3.")
    assert death_reason("Worker exited prematurely: signal 15 (SIGTERM) Job: 3.") == "killed by signal 15 (SIGTERM)"
    assert death_reason("Worker exited prematurely: exitcode 3 Job: 3.").startswith("exited with code 3")
