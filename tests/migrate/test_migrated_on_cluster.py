"""A migrated luigi project built on a real cluster (redis-server + celery worker) gives the
outputs and the summary of its local build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.migrate.luigi_project import write_project
from tests.support.cluster import running_cluster

pytestmark = pytest.mark.cluster


def _outputs(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "out").iterdir())}


def _summary(stdout: str) -> list[str]:
    start = stdout.find("===== Trunq Execution Summary =====")
    return [line for line in stdout[start:].splitlines() if line.strip()]


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    original = write_project(tmp_path / "luigi")
    target = tmp_path / "trunq"
    result = subprocess.run(["trunq", "migrate", str(original), "--out", str(target)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # the workers import the project's module and write its relative outputs in its folder
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")])))
    return target


def test_migrated_project_on_a_cluster_matches_its_local_build(migrated: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNQ_")}
    local = subprocess.run(["trunq", "--module", "pipeline", "All", "--local-scheduler", "--no-progress"],
                           cwd=migrated, env=env, capture_output=True, text=True, timeout=240)
    assert local.returncode == 0, local.stderr
    local_outputs = _outputs(migrated)
    assert local_outputs["sum.txt"] == "Total 15"  # the migrated trunq.toml was applied
    shutil.rmtree(migrated / "out")

    with running_cluster(migrated, workers=1) as cluster:
        remote = cluster.trunq("--module", "pipeline", "All", "--no-progress", cwd=migrated, timeout=240)
        assert remote.returncode == 0, remote.stdout + remote.stderr
        assert "relative outputs" not in cluster.worker_logs()  # the worker wrote where the client looks
    assert _outputs(migrated) == local_outputs
    assert _summary(remote.stdout) == _summary(local.stdout)
    assert re.search(r"Scheduled 8 steps of which:\n\* 8 ran successfully:", remote.stdout)
    assert "- 1 All()" in remote.stdout  # the wrapper ran, as luigi's worker runs it
