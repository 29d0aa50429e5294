"""A step that asks more of a resource than its capacity fails at scheduling on a cluster."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


def test_unsatisfiable_resource_fails_at_once(cluster, dist_steps, root: Path) -> None:
    started = time.monotonic()
    result = cluster.trunq("build", "DistAfterGreedy", *MODULE, "--root", str(root))
    assert time.monotonic() - started < 30
    assert result.returncode == 2, result.stderr + result.stdout
    assert "DistGreedy" in result.stderr and "'gpu': asks 2, capacity is 1" in result.stderr
    assert "failed scheduling" in result.stdout
    assert "had dependencies whose scheduling failed" in result.stdout
    assert not (root / "out" / dist_steps.DistAfterGreedy(root=str(root)).step_id).exists()
    assert dist_steps.executions(root) == []
