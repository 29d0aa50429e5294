"""Redis does not grow with every build: step records past ``[core] step_retention_seconds``
are swept (by the workers, or ``trunq gc``), and a rebuild keeps what the UI shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.cluster import Cluster, running_cluster
from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]
PER_STEP = {"step", "fence", "started", "failures", "dependents", "idx", "count", "running", "held", "holder"}


def key_kinds(url: str) -> Counter:
    """How many keys of each kind ("step", "fence", ...) the trunq namespace holds."""
    client = redis.Redis.from_url(url)
    try:
        return Counter(key.decode().split(":")[1] for key in client.scan_iter(match="{trunq}:*", count=1000))
    finally:
        client.close()


def per_step_keys(url: str) -> int:
    return sum(n for kind, n in key_kinds(url).items() if kind in PER_STEP)


def build_fans(cluster: Cluster, base: Path, names: range, width: int = 20) -> None:
    for n in names:
        root = base / f"b{n}"
        (root / "out").mkdir(parents=True)
        result = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", str(width))
        assert result.returncode == 0, result.stderr


@pytest.fixture
def short_retention(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """A cluster of its own whose workers forget steps untouched for 2 s."""
    monkeypatch.setenv("TRUNQ__core__step_retention_seconds", "2")
    with running_cluster(tmp_path_factory.mktemp("retention"), workers=1) as running:
        running.wait_for_workers(1)
        yield running


def test_workers_sweep_finished_builds_out_of_redis(short_retention: Cluster, tmp_path: Path) -> None:
    url = short_retention.url
    build_fans(short_retention, tmp_path, range(3))
    assert key_kinds(url)["step"] >= 3 * 21 - 21  # the last build's steps may already be going
    wait_for(lambda: per_step_keys(url) == 0, 30, "every per-step key swept")
    after_three = key_kinds(url)
    build_fans(short_retention, tmp_path, range(3, 9))
    wait_for(lambda: per_step_keys(url) == 0, 30, "every per-step key swept")
    after_nine = key_kinds(url)
    # What is left has a lifecycle of its own: one record per build (kept 7 days), the
    # capped event stream, the workers' heartbeats, counters of ids.
    grown = {kind: after_nine[kind] - after_three[kind] for kind in after_nine if after_nine[kind] != after_three[kind]}
    assert set(grown) <= {"build"}, grown
    assert sum(after_nine.values()) - after_nine["build"] < 20, after_nine


def test_gc_forgets_steps_at_once_and_keeps_recent_ones(cluster: Cluster, tmp_path: Path) -> None:
    cluster.clear_step_state()
    build_fans(cluster, tmp_path, range(2), width=5)
    assert key_kinds(cluster.url)["step"] == 12
    kept = cluster.trunq("gc", "--older-than", "3600")
    assert kept.returncode == 0 and "forgot 0 step records" in kept.stdout, kept.stderr
    swept = cluster.trunq("gc", "--older-than", "0.001")
    assert swept.returncode == 0 and "forgot 12 step records" in swept.stdout, swept.stderr
    assert per_step_keys(cluster.url) == 0


def test_gc_on_bad_input_is_one_line(cluster: Cluster) -> None:
    bad = cluster.trunq("gc", "--older-than", "soon")
    assert bad.returncode == 2 and "soon" in bad.stderr and "Traceback" not in bad.stderr
    down = cluster.trunq("gc", "--redis-url", "redis://127.0.0.1:1/0")
    assert down.returncode != 0 and "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1, down.stderr


def test_a_rebuild_of_a_complete_graph_keeps_the_last_run(cluster: Cluster, dist_steps, root: Path) -> None:
    first = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "3")
    assert first.returncode == 0, first.stderr
    leaves = [dist_steps.DistLeaf(root=str(root), n=n).step_id for n in range(3)]
    store = cluster.store()
    try:
        before = store.get_many(leaves)
        again = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "3")
        assert again.returncode == 0 and "Did not run any steps" in again.stdout, again.stderr
        after = store.get_many(leaves)
    finally:
        store.close()
    for old, new in zip(before, after):
        assert new.status == "DONE"
        assert "@" in (new.worker or "") and new.worker == old.worker and new.worker_pid == old.worker_pid
        assert new.started == old.started and new.finished == old.finished and new.finished is not None
