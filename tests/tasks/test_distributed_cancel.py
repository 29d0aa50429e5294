"""Cancel of a running step (what the web UI's "cancel" does) on real Celery workers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.waiting import wait_for
from trunq.tasks.cancel import CANCEL_REASON, GRACE_S

pytestmark = pytest.mark.cluster

MODULE = ["--module", "live_steps", "--no-lock"]


@pytest.fixture
def live_steps(monkeypatch: pytest.MonkeyPatch, dist_steps, root: Path) -> Iterator[object]:  # noqa: ANN001
    import live_steps as module

    yield module
    (root / "stop").touch()  # whatever still waits ends now


def run_and_cancel(cluster, store, step, pid_file: Path) -> tuple[object, int, float]:  # noqa: ANN001
    """Build ``step`` in a `trunq build` client, cancel it once it runs; (client, pid, when)."""
    client = cluster.spawn("build", step.get_step_family(), *MODULE, "--root", step.root)
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the step to start"))
    wait_for(lambda: store.get(step.step_id).status == "RUNNING", what="RUNNING in the store")
    assert store.request_cancel(step.step_id, requested_by="test")
    return client, pid, time.monotonic()


def test_cancel_interrupts_the_step_and_the_build_fails_with_the_reason(cluster, live_steps, root: Path) -> None:
    store = cluster.store()
    try:
        step = live_steps.LiveSleeper(root=str(root))
        client, pid, cancelled_at = run_and_cancel(cluster, store, step, root / "sleeper.pid")
        out, err = client.communicate(timeout=30)
        assert time.monotonic() - cancelled_at < GRACE_S  # interrupted, not waited out
        assert client.returncode != 0 and "1 failed" in out, err + out
        assert CANCEL_REASON in err + out
        record = store.get(step.step_id)
        assert (record.status, record.expl) == ("FAILED", CANCEL_REASON)
        assert psutil.pid_exists(pid) and pid in cluster.worker_pids()  # the pool process lives on
    finally:
        store.close()
    after = cluster.trunq("build", "LivePart", *MODULE, "--root", str(root), "--part", "1", "--pause", "0")
    assert after.returncode == 0, after.stderr + after.stdout


def test_a_step_that_ignores_the_cancel_is_killed_and_the_worker_keeps_serving(cluster, live_steps,
                                                                                 root: Path) -> None:
    pool_size = len(cluster.worker_pids())
    store = cluster.store()
    try:
        step = live_steps.LiveStubborn(root=str(root))
        client, pid, cancelled_at = run_and_cancel(cluster, store, step, root / "stubborn.pid")
        out, err = client.communicate(timeout=30)
        assert GRACE_S <= time.monotonic() - cancelled_at < GRACE_S + 5
        assert client.returncode != 0 and CANCEL_REASON in err + out, err + out
        assert (store.get(step.step_id).status, store.get(step.step_id).expl) == ("FAILED", CANCEL_REASON)
        wait_for(lambda: not psutil.pid_exists(pid), timeout=5, what="the stubborn process to be killed")
        wait_for(lambda: len(cluster.worker_pids()) == pool_size, what="the pool to replace the process")
    finally:
        store.close()
    assert not os.path.exists(step.output().path)
    after = cluster.trunq("build", "LivePart", *MODULE, "--root", str(root), "--part", "1", "--pause", "0")
    assert after.returncode == 0, after.stderr + after.stdout
