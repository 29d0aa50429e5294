"""A real Celery pool for the Runs and TaskList backends: redis-server + 2 `celery -A trunq worker`.

Reuses the cluster of ``tests/integration`` (every process in its own session, stopped by
PID in the finalizer). The workers do NOT get this folder on their PYTHONPATH on purpose.
Every test gets an empty runs root as its cwd, and any run or task process a test leaves
behind is killed by its recorded process group / pid afterwards.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, running_cluster


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("celery_pool"), workers=2) as running:
        yield running


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: Cluster) -> Iterator[Path]:
    root = tmp_path / "runs"
    monkeypatch.setenv("TRUNQ_REDIS_URL", pool.url)
    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    yield root
    for pgid in _recorded_groups(tmp_path):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _recorded_groups(base: Path) -> set[int]:
    """Process groups named by run records (runs and TaskList tasks) under ``base``."""
    groups = set()
    for config in base.rglob("config_for_run.json"):
        try:
            data = json.loads(config.read_text())
        except (OSError, ValueError):
            continue
        pgid = data.get("pgid")
        if pgid and pgid != os.getpgid(0):
            groups.add(int(pgid))
    return groups


@pytest.fixture
def celery(runs_dir: Path):  # noqa: ANN201 - a CeleryCluster
    from trunq.runs import cluster

    return cluster("celery")


class Reaper:
    """Kills the processes a test tracked (by pid) when it ends."""

    def __init__(self) -> None:
        self.pids: set[int] = set()

    def track(self, pid: int) -> None:
        self.pids.add(pid)

    def kill_all(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    tracker = Reaper()
    yield tracker
    tracker.kill_all()
