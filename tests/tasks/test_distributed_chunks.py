"""Chunks: several short steps in one Celery message, each still its own fenced job."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.support.cluster import running_cluster
from tests.tasks.test_distributed_faults import intervals
from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]
CHUNKED = {"TRUNQ_CELERY_CHUNK_START": "8"}


def leaves(dist_steps, root: Path, width: int, **params):  # noqa: ANN001, ANN201
    return [dist_steps.DistChunkLeaf(root=str(root), index=i, **params) for i in range(width)]


def task_names(steps) -> list[str]:  # noqa: ANN001
    return [Path(step.output().path).read_text() for step in steps]


def assert_ran_once_each(dist_steps, root: Path, steps) -> None:  # noqa: ANN001
    runs = intervals(dist_steps, root)
    for step in steps:
        assert len(runs[step.step_id]) == 1, (step.step_id, runs[step.step_id])


def test_chunked_steps_run_exactly_once_with_their_own_records(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistChunkFan", *MODULE, "--root", str(root), "--width", "40",
                           env=cluster.env(**CHUNKED))
    assert result.returncode == 0, result.stderr + result.stdout
    steps = leaves(dist_steps, root, 40)
    assert_ran_once_each(dist_steps, root, steps)
    names = task_names(steps)
    assert names.count("trunq.execute_chunk") == 40, names  # 40 short steps: all sent in chunks
    store = cluster.store()
    try:
        records = [store.get(step.step_id) for step in steps]
    finally:
        store.close()
    runs = intervals(dist_steps, root)
    for step, record in zip(steps, records):
        assert record.status == "DONE"
        assert record.worker and record.worker.rsplit(":", 1)[1].isdigit()
        (start, end), = runs[step.step_id]
        # the record's own start and finish bracket this member's run, not the chunk's
        assert record.started is not None and record.finished is not None
        assert record.started <= start + 0.5 and end <= record.finished + 0.5
        assert record.started <= record.finished


def test_a_failing_member_fails_alone(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistChunkFan", *MODULE, "--root", str(root), "--width", "24",
                           "--fail-index", "5", env=cluster.env(**CHUNKED))
    assert result.returncode == 1, result.stderr + result.stdout
    steps = leaves(dist_steps, root, 24, fail_index=5)
    store = cluster.store()
    try:
        statuses = {step.index: store.get(step.step_id).status for step in steps}
        expl = store.get(steps[5].step_id).expl or ""
    finally:
        store.close()
    assert statuses.pop(5) == "FAILED" and "member 5 fails" in expl
    assert set(statuses.values()) == {"DONE"}
    assert "trunq.execute_chunk" in task_names(steps[:5] + steps[6:])
    assert_ran_once_each(dist_steps, root, steps)


def test_long_steps_are_not_chunked(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistChunkFan", *MODULE, "--root", str(root), "--width", "12",
                           "--sleep", "0.3")
    assert result.returncode == 0, result.stderr + result.stdout
    steps = leaves(dist_steps, root, 12, sleep=0.3)
    assert set(task_names(steps)) == {"trunq.execute_step"}
    assert_ran_once_each(dist_steps, root, steps)


def test_a_worker_killed_mid_chunk_loses_no_member(tmp_path_factory, dist_steps, root: Path) -> None:
    with running_cluster(tmp_path_factory.mktemp("chunk-kill"), workers=2) as two:
        client = two.spawn("build", "DistChunkFan", *MODULE, "--root", str(root), "--width", "16",
                           "--victim-index", "1", env=two.env(**CHUNKED))
        pid_file = root / "victim.pid"
        victim = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's pid"))
        main = psutil.Process(victim).parent()
        for process in [main, *main.children(recursive=True)]:
            process.kill()  # the machine is gone mid-chunk: nobody reports anything
        out, err = client.communicate(timeout=90)
        assert client.returncode == 0, err + out
        steps = leaves(dist_steps, root, 16, victim_index=1)
        runs = intervals(dist_steps, root)
        for step in steps:
            spans = runs[step.step_id]
            finished = [span for span in spans if span[1] < float("inf")]
            assert len(finished) == 1, (step.step_id, spans)  # DONE once, elsewhere if it was cut
            for (_, end), (start, _) in zip(spans, spans[1:]):
                assert end == float("inf") or end <= start  # never twice at once
            assert Path(step.output().path).exists()
        assert len(runs[steps[1].step_id]) == 2 and runs[steps[1].step_id][0][1] == float("inf")
