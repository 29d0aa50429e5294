"""Cluster builds as records: listed, shown, detached, adopted when their client dies, cancelled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


def starts(dist_steps, root: Path) -> Counter:  # noqa: ANN001
    return Counter(step_id for event, step_id, _, _ in dist_steps.executions(root) if event == "start")


def latest_build_of(cluster, step) -> str:  # noqa: ANN001
    """The newest build record with ``step`` as a root, found as a user would: `trunq builds`."""
    store = cluster.store()
    try:
        ids = [r.build_id for r in store.builds.recent(50) if step.step_id in r.root_ids]
    finally:
        store.close()
    assert ids, f"no build of {step.step_id}"
    listing = cluster.trunq("builds")
    assert ids[0] in listing.stdout
    return ids[0]


def record(cluster, build_id: str):  # noqa: ANN001, ANN201
    store = cluster.store()
    try:
        return store.builds.get(build_id)
    finally:
        store.close()


def ended(cluster, build_id: str, timeout: float = 60.0):  # noqa: ANN001, ANN201
    return wait_for(lambda: (r := record(cluster, build_id)) is not None and r.is_ended and r, timeout,
                    f"build {build_id} to end")


def test_a_build_is_a_record_listed_and_shown_with_only_what_it_ran(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "3")
    assert result.returncode == 0, result.stderr
    fan = dist_steps.DistFan(root=str(root), width=3)
    build_id = latest_build_of(cluster, fan)
    done = record(cluster, build_id)
    assert done.status == "DONE" and done.exit_code == 0
    assert done.counts == {"completed": 4}
    assert done.started_by["pid"] > 0 and done.started_by["host"]
    assert done.ended >= done.started >= done.created
    listing = cluster.trunq("builds")
    assert listing.returncode == 0 and build_id in listing.stdout and "DONE" in listing.stdout
    shown = cluster.trunq("builds", "show", build_id)
    assert shown.returncode == 0 and "4 ran successfully" in shown.stdout
    cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "3")
    assert record(cluster, latest_build_of(cluster, fan)).counts == {"already_done": 1}  # the complete root only


def test_detach_returns_an_id_at_once_and_attach_follows_it_to_the_end(cluster, dist_steps, root: Path) -> None:
    detached = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "3", "--sleep", "0.5",
                             "--detach")
    assert detached.returncode == 0, detached.stderr
    build_id = detached.stdout.strip()
    assert "trunq attach" in detached.stderr and starts(dist_steps, root).total() < 4
    attached = cluster.trunq("attach", build_id, timeout=90)
    assert attached.returncode == 0, attached.stderr
    assert "4 ran successfully" in attached.stdout
    assert set(starts(dist_steps, root).values()) == {1} and len(starts(dist_steps, root)) == 4
    assert record(cluster, build_id).detached


def test_a_build_goes_on_when_its_client_is_killed(cluster, dist_steps, root: Path) -> None:
    client = cluster.spawn("build", "DistFan", *MODULE, "--root", str(root), "--width", "4", "--sleep", "1")
    wait_for(lambda: starts(dist_steps, root).total() >= 1, 30, "a first step to start")
    os.killpg(client.pid, signal.SIGKILL)
    client.communicate(timeout=10)
    build_id = latest_build_of(cluster, dist_steps.DistFan(root=str(root), width=4, sleep=1))
    finished = ended(cluster, build_id, timeout=90)
    assert finished.status == "DONE", finished.summary
    assert finished.adoptions >= 1
    counts = starts(dist_steps, root)
    assert len(counts) == 5 and set(counts.values()) == {1}  # nothing ran twice
    assert Path(dist_steps.DistFan(root=str(root), width=4, sleep=1).output().path).exists()


def test_cancel_build_stops_it(cluster, dist_steps, root: Path) -> None:
    detached = cluster.trunq("build", "DistFan", *MODULE, "--root", str(root), "--width", "12", "--sleep", "1",
                             "--detach")
    build_id = detached.stdout.strip()
    wait_for(lambda: starts(dist_steps, root).total() >= 1, 30, "a first step to start")
    cancelled = cluster.trunq("cancel-build", build_id)
    assert cancelled.returncode == 0 and "cancel requested" in cancelled.stdout
    finished = ended(cluster, build_id, timeout=60)
    assert finished.status == "CANCELLED"
    assert starts(dist_steps, root).total() < 13  # the rest never started
    unknown = cluster.trunq("attach", "no-such-build")
    assert unknown.returncode == 2 and "no build 'no-such-build'" in unknown.stderr


def test_submit_gives_a_build_id_and_the_build_outlives_the_submitting_process(cluster, dist_steps, root: Path) -> None:
    script = textwrap.dedent(f"""
        import os, trunq, dist_steps
        handle = trunq.submit([dist_steps.DistFan(root={str(root)!r}, width=2, sleep=0.5)])
        print(handle.build_id, flush=True)
        os._exit(0)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env=cluster.env(), cwd=cluster.workdir)
    assert result.returncode == 0, result.stderr
    build_id = result.stdout.strip()
    finished = ended(cluster, build_id, timeout=90)
    assert finished.status == "DONE", finished.summary
    assert len(starts(dist_steps, root)) == 3
