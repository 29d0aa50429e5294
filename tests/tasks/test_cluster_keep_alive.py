"""``[worker] retry_external_tasks`` with ``keep_alive`` on a real cluster: an incomplete
ExternalStep is checked again on the workers until its data appears."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock", "--no-progress"]


def test_external_data_that_appears_later_is_picked_up(cluster, dist_steps, root: Path) -> None:
    env = cluster.env(TRUNQ__scheduler__retry_delay="0.5")
    result = cluster.trunq("build", "DistUsesLate", *MODULE, "--root", str(root),
                           "--worker-retry-external-tasks", "--worker-keep-alive", env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not supported" not in result.stderr
    assert (root / "late.data").read_text() == "late"
    assert Path(dist_steps.DistUsesLate(root=str(root)).output().path).exists()
    ran = result.stdout.split("ran successfully:")[1]
    assert "DistLateData" in ran and "DistUsesLate" in ran


def test_without_the_options_the_external_is_left_missing(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistUsesLate", *MODULE, "--root", str(root), timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr  # missing external data
    assert "were missing external dependencies" in result.stdout
    assert not Path(dist_steps.DistUsesLate(root=str(root)).output().path).exists()
