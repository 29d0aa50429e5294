"""Faults: killed and crashing worker processes, a Redis restart, competing clients."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


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


def test_sigkill_mid_step_runs_the_step_again(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistVictim", *MODULE, "--root", str(root))
    pid_file = root / "victim.pid"
    victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
    assert victim in cluster.worker_pids()
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    out, err = client.communicate(timeout=40)
    assert client.returncode == 0, err + out
    assert "1 ran successfully" in out
    assert time.monotonic() - killed_at < 20  # lease 3 s, then dispatched again
    step = dist_steps.DistVictim(root=str(root))
    runs = intervals(dist_steps, root)[step.step_id]
    assert len(runs) == 2 and runs[0][1] == float("inf") and runs[1][1] < float("inf")
    assert Path(step.output().path).exists()


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
    wait_for(lambda: len(list(outputs.iterdir())) >= 2, what="two finished steps")
    before_restart = {path.name for path in outputs.iterdir()}
    private_cluster.redis.restart()
    out, err = client.communicate(timeout=60)
    if client.returncode != 0:  # a clear error, not a traceback
        assert len(err.strip().splitlines()) == 1 and err.startswith("trunq: error:"), err
    existing = {path.name for path in outputs.iterdir()}
    assert before_restart <= existing
    private_cluster.wait_for_workers(1)  # heartbeats reach the new Redis
    ran_before = {step_id for step_id in intervals(dist_steps, root)}
    rerun = private_cluster.trunq(*args)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    ran_in_rerun = {step_id for step_id, runs in intervals(dist_steps, root).items()
                    if len(runs) > (1 if step_id in ran_before else 0)}
    assert ran_in_rerun.isdisjoint(existing)  # only what was missing ran again
    assert len(list(outputs.iterdir())) == 9


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
