"""Faults: killed and crashing worker processes, a Redis restart, competing clients."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil
import pytest

from tests.redis_fixtures import redis_command
from tests.support.cluster import running_cluster
from tests.waiting import wait_for
from trunq.tasks.app import HEARTBEAT_TTL_MS

HEARTBEAT_TTL_S = HEARTBEAT_TTL_MS / 1000

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


def finished_outputs(outputs: Path) -> set[str]:
    """The outputs written so far; a step writing at this instant has only its temporary file
    ("-trunq-tmp-"), renamed into place when the write ends."""
    return {path.name for path in outputs.iterdir() if "-trunq-tmp-" not in path.name}


def intervals(dist_steps, root: Path) -> dict[str, list[tuple[float, float]]]:
    """step id -> [(start, end)] of every execution (end = inf when it never ended)."""
    opened: dict[tuple[str, int], float] = {}
    result: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for event, step_id, pid, stamp in dist_steps.executions(root):
        if event == "start":
            opened[(step_id, pid)] = stamp
        else:
            result[step_id].append((opened.pop((step_id, pid)), stamp))
    for (step_id, _), stamp in opened.items():
        result[step_id].append((stamp, float("inf")))
    return {step_id: sorted(spans) for step_id, spans in result.items()}


def failed_record(cluster, step):  # noqa: ANN001, ANN201
    store = cluster.store()
    try:
        return store.get(step.step_id)
    finally:
        store.close()


def test_sigkill_of_the_pool_process_fails_the_step_once_with_the_reason(cluster, dist_steps, root: Path) -> None:
    # a short lease: the dead process renews nothing, but its worker is alive and reports it
    client = cluster.spawn("build", "DistVictim", *MODULE, "--root", str(root))
    pid_file = root / "victim.pid"
    victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
    assert victim in cluster.worker_pids()
    os.kill(victim, signal.SIGKILL)  # what the OOM killer does
    out, err = client.communicate(timeout=40)
    assert client.returncode == 1, err + out
    assert "1 failed" in out
    step = dist_steps.DistVictim(root=str(root))
    assert len(intervals(dist_steps, root)[step.step_id]) == 1  # not run again
    record = failed_record(cluster, step)
    assert record.status == "FAILED" and "SIGKILL" in record.expl and "out of memory?" in record.expl


def test_a_step_that_exits_its_process_fails_at_once_and_runs_once(cluster, dist_steps, root: Path) -> None:
    started = time.monotonic()
    result = cluster.trunq("build", "DistExit", *MODULE, "--root", str(root))
    assert result.returncode == 1, result.stderr + result.stdout
    assert time.monotonic() - started < 15  # not after three lease expiries
    step = dist_steps.DistExit(root=str(root))
    assert len(intervals(dist_steps, root)[step.step_id]) == 1
    record = failed_record(cluster, step)
    assert record.status == "FAILED" and "exited with code 3" in record.expl


def test_a_worker_killed_whole_loses_its_step_to_another_worker(tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("two-workers"), workers=2) as two:
        # A lease far longer than the heartbeat timeout: the loss follows the dead worker's
        # heartbeat, not the step's lease.
        client = two.spawn("build", "DistVictim", *MODULE, "--root", str(root),
                           env=two.env(TRUNQ__core__lease_seconds="60"))
        pid_file = root / "victim.pid"
        victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
        main = psutil.Process(victim).parent()
        for process in [main, *main.children(recursive=True)]:
            process.kill()  # the machine is gone: nobody reports anything
        killed_at = time.time()
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err + out
        assert "1 ran successfully" in out
        step = dist_steps.DistVictim(root=str(root))
        runs = intervals(dist_steps, root)[step.step_id]
        assert len(runs) == 2 and runs[0][1] == float("inf") and runs[1][1] < float("inf")
        assert killed_at < runs[1][0] < killed_at + HEARTBEAT_TTL_S + 10  # not after the 60 s lease
        assert Path(step.output().path).exists()


def test_the_pool_process_of_a_killed_worker_is_gone_before_the_step_runs_again(
        tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("main-killed"), workers=2) as two:
        client = two.spawn("build", "DistVictim", *MODULE, "--root", str(root),
                           env=two.env(TRUNQ__core__lease_seconds="60"))
        pid_file = root / "victim.pid"
        victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
        psutil.Process(victim).parent().kill()  # only the worker's main process
        wait_for(lambda: not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE,
                 timeout=20, what="the pool process to end with its worker")
        gone_at = time.time()
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err + out
        step = dist_steps.DistVictim(root=str(root))
        runs = intervals(dist_steps, root)[step.step_id]
        assert len(runs) == 2 and gone_at < runs[1][0] < gone_at + HEARTBEAT_TTL_S + 10  # never twice at once
        assert Path(step.output().path).exists()


def test_a_hung_workers_step_stops_there_then_runs_elsewhere(tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("hung"), workers=2) as two:
        client = two.spawn("build", "DistVictim", *MODULE, "--root", str(root),
                           env=two.env(TRUNQ__core__lease_seconds="60"))
        pid_file = root / "victim.pid"
        victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
        main = psutil.Process(victim).parent()
        main.suspend()  # the worker hangs: no heartbeat, while its pool process runs the step
        try:
            wait_for(lambda: not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE,
                     timeout=HEARTBEAT_TTL_S + 5, what="the hung worker's pool process to stop its step")
            gone_at = time.time()
            out, err = client.communicate(timeout=60)
        finally:
            main.resume()
        assert client.returncode == 0, err + out
        assert "1 ran successfully" in out
        step = dist_steps.DistVictim(root=str(root))
        runs = intervals(dist_steps, root)[step.step_id]
        assert len(runs) == 2 and gone_at < runs[1][0] < gone_at + 10  # never twice at once
        assert Path(step.output().path).exists()


def test_a_busy_workers_step_outlives_its_short_lease_and_runs_once(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistWaiter", *MODULE, "--root", str(root))  # a 3 s lease
    pid_file = root / "waiter.pid"
    waiter = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the waiter's pid"))
    step_id = dist_steps.DistWaiter(root=str(root)).step_id
    store = cluster.store()
    try:
        os.kill(waiter, signal.SIGSTOP)  # too busy to renew anything; its worker still beats
        try:
            wait_for(lambda: store.holders([step_id]) == [None], timeout=20, what="the lease to lapse")
            lapsed = time.monotonic()
            while time.monotonic() - lapsed < 3.0:  # three of the client's lost-job checks
                record = store.get(step_id)
                assert record.status == "RUNNING" and record.worker_pid == waiter
                assert len(intervals(dist_steps, root)[step_id]) == 1
                time.sleep(0.1)
        finally:
            os.kill(waiter, signal.SIGCONT)
        wait_for(lambda: store.holders([step_id])[0] is not None, what="the worker to take its lease back")
    finally:
        store.close()
    (root / "go").write_text("")
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err + out
    assert "1 ran successfully" in out
    assert len(intervals(dist_steps, root)[step_id]) == 1


def test_segfault_fails_the_step_and_the_worker_keeps_serving(cluster, dist_steps, root: Path) -> None:
    workers_before = [worker.pid for worker in cluster.workers if worker.poll() is None]
    result = cluster.trunq("build", "DistSegfault", *MODULE, "--root", str(root))
    assert result.returncode != 0
    assert "1 failed" in result.stdout and "DistSegfault" in result.stdout
    store = cluster.store()
    try:
        record = store.get(dist_steps.DistSegfault(root=str(root)).step_id)
    finally:
        store.close()
    assert record.status == "FAILED"
    assert "SIGSEGV" in (record.expl or "")
    assert [worker.pid for worker in cluster.workers if worker.poll() is None] == workers_before
    after = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "4")
    assert after.returncode == 0, after.stderr + after.stdout


def test_redis_restart_loses_no_output_and_a_rerun_finishes(private_cluster, dist_steps, root: Path) -> None:
    args = ["build", "DistFan", *MODULE, "--root", str(root), "--width", "8", "--sleep", "0.4"]
    client = private_cluster.spawn(*args)
    outputs = root / "out"
    wait_for(lambda: len(finished_outputs(outputs)) >= 2, what="two finished steps")
    before_restart = finished_outputs(outputs)
    private_cluster.redis.restart()
    out, err = client.communicate(timeout=60)
    if client.returncode != 0:  # a clear error, not a traceback
        assert len(err.strip().splitlines()) == 1 and err.startswith("trunq: error:"), err
    existing = finished_outputs(outputs)
    assert before_restart <= existing
    private_cluster.wait_for_workers(1)  # heartbeats reach the new Redis
    ran_before = {step_id for step_id in intervals(dist_steps, root)}
    rerun = private_cluster.trunq(*args)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    ran_in_rerun = {step_id for step_id, runs in intervals(dist_steps, root).items()
                    if len(runs) > (1 if step_id in ran_before else 0)}
    assert ran_in_rerun.isdisjoint(existing)  # only what was missing ran again
    assert len(finished_outputs(outputs)) == 9


def test_concurrent_clients_run_each_step_exactly_once(cluster, dist_steps, root: Path) -> None:
    ranges = [(0, 6), (3, 9), (0, 9)]
    clients = [cluster.spawn("build", "DistGraph", *MODULE, "--root", str(root), "--first", str(first),
                             "--last", str(last)) for first, last in ranges]
    for client in clients:
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err + out
    runs = intervals(dist_steps, root)
    nodes = {step_id: spans for step_id, spans in runs.items() if step_id.startswith("DistNode_")}
    assert len(nodes) == dist_steps.LAYERS * dist_steps.WIDTH
    assert all(len(spans) == 1 for spans in nodes.values()), {k: v for k, v in nodes.items() if len(v) != 1}
    for spans in runs.values():  # no two executions of one step overlap
        ordered = sorted(spans)
        assert all(earlier[1] <= later[0] for earlier, later in zip(ordered, ordered[1:]))
    assert sum(1 for step_id in runs if step_id.startswith("DistGraph_")) == 3
    roots = {dist_steps.DistGraph(root=str(root), first=first, last=last).step_id for first, last in ranges}
    store = cluster.store()
    try:
        builds = [record for record in store.builds.recent(100) if set(record.root_ids) & roots]
    finally:
        store.close()
    assert len(builds) == 3 and all(record.status == "DONE" for record in builds)
    # each build counts only what it ran: together, every execution once
    assert sum(record.counts.get("completed", 0) for record in builds) == sum(len(s) for s in runs.values())


def test_a_redis_blip_of_a_few_seconds_costs_a_pause_not_the_build(tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("blip"), workers=1) as blip:
        args = ["build", "DistFan", *MODULE, "--root", str(root), "--width", "6", "--sleep", "0.5"]
        client = blip.spawn(*args, env=blip.env(TRUNQ__core__lease_seconds="30"))  # the default lease
        outputs = root / "out"
        wait_for(lambda: len(finished_outputs(outputs)) >= 2, what="two finished steps")
        assert redis_command(blip.redis.port, "SHUTDOWN", "SAVE") == ""  # data kept, as a restart keeps it
        blip.redis.process.wait(timeout=10)
        time.sleep(2)  # the outage itself: nothing answers on the port meanwhile
        blip.redis.start()
        out, err = client.communicate(timeout=90)
        assert client.returncode == 0, err + out + blip.worker_logs()[-4000:]
        assert "7 ran successfully" in out
        counts = Counter(step_id for event, step_id, _, _ in dist_steps.executions(root) if event == "start")
        assert len(counts) == 7 and set(counts.values()) == {1}


def test_a_redis_restart_while_one_step_runs_and_the_worker_waits_for_more_keeps_the_worker(
        tmp_path_factory, dist_steps, root: Path) -> None:
    # One of the worker's two pool slots busy with a late-acknowledged step, the other free, so
    # its consumer sits in BRPOP when Redis goes: kombu's close of that channel used to raise
    # AttributeError, and Celery stopped the worker ("Unrecoverable error").
    with running_cluster(tmp_path_factory.mktemp("restart"), workers=1) as restart:
        client = restart.spawn("build", "DistLeaf", *MODULE, "--root", str(root), "--n", "0", "--sleep", "4")
        wait_for(lambda: any(event == "start" for event, *_ in dist_steps.executions(root)), what="the step's start")
        time.sleep(0.3)  # the consumer is back in BRPOP for the free slot
        assert redis_command(restart.redis.port, "SHUTDOWN", "SAVE") == ""
        restart.redis.process.wait(timeout=10)
        time.sleep(1)
        restart.redis.start()
        out, err = client.communicate(timeout=60)
        logs = restart.worker_logs()
        assert client.returncode == 0, err + out + logs[-4000:]
        assert "Unrecoverable error" not in logs, logs[-4000:]
        assert all(worker.poll() is None for worker in restart.workers)  # alive, and serving:
        rerun = restart.trunq("build", "DistLeaf", *MODULE, "--root", str(root), "--n", "1")
        assert rerun.returncode == 0, rerun.stderr + rerun.stdout


def test_a_moment_of_redis_out_of_memory_costs_a_pause_and_keeps_the_workers(
        tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("oom"), workers=1) as full:
        args = ["build", "DistFan", *MODULE, "--root", str(root), "--width", "6", "--sleep", "0.5"]
        client = full.spawn(*args)
        wait_for(lambda: len(finished_outputs(root / "out")) >= 2, what="two finished steps")
        assert redis_command(full.redis.port, "CONFIG", "SET", "maxmemory-policy", "noeviction") == "+OK"
        assert redis_command(full.redis.port, "CONFIG", "SET", "maxmemory", "1mb") == "+OK"  # every write refused
        time.sleep(2)
        assert redis_command(full.redis.port, "CONFIG", "SET", "maxmemory", "0") == "+OK"
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err + out  # the moment cost a pause
        assert "writes refused by Redis" in err
        logs = full.worker_logs()
        assert "Unrecoverable error" not in logs, logs[-4000:]
        assert all(worker.poll() is None for worker in full.workers)
        rerun = full.trunq(*args)
        assert rerun.returncode == 0, rerun.stderr + rerun.stdout
        counts = Counter(step_id for event, step_id, _, _ in dist_steps.executions(root) if event == "start")
        assert len(counts) == 7


def test_worker_timeout_is_enforced_on_workers(cluster, dist_steps, root: Path) -> None:
    started = time.monotonic()
    result = cluster.trunq("build", "DistTooSlow", *MODULE, "--root", str(root))
    assert result.returncode == 1, result.stderr + result.stdout
    assert time.monotonic() - started < 20  # not the step's 30 s
    step = dist_steps.DistTooSlow(root=str(root))
    assert len(intervals(dist_steps, root)[step.step_id]) == 1
    record = failed_record(cluster, step)
    assert record.status == "FAILED" and record.expl == "timed out after 1s (worker_timeout)"  # as the local pool
    assert "timed out after 1s (worker_timeout)" in result.stderr and "SoftTimeLimitExceeded" not in result.stderr
