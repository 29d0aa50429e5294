"""Fixtures of the distributed tests: they all share the session ``cluster`` (tests/conftest.py).

Builds import the step modules of ``tests/support/worker_steps`` as the workers do; Runs and
TaskList tests (``celery_helpers``) do NOT put this folder on the workers' PYTHONPATH on purpose:
the workers import it through the client's sys.path that function runs and TaskList messages
carry. Every test gets an empty runs root as its cwd, and any run or task process a test leaves
behind is killed by its recorded process group / pid afterwards.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import LEASE_SECONDS, STEPS_DIR, Cluster, running_cluster


@pytest.fixture
def pool(cluster: Cluster) -> Cluster:
    """The shared cluster, under the name the Runs/TaskList tests use for Celery's pool."""
    return cluster


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A per-test directory for step outputs and the executions log."""
    (tmp_path / "out").mkdir()
    return tmp_path


@pytest.fixture
def dist_steps(monkeypatch: pytest.MonkeyPatch, cluster: Cluster):  # noqa: ANN201 - the module
    """The step module, imported in this process as the workers import it."""
    monkeypatch.syspath_prepend(str(STEPS_DIR))
    monkeypatch.setenv("TRUNQ_REDIS_URL", cluster.url)
    monkeypatch.setenv("TRUNQ__core__lease_seconds", LEASE_SECONDS)
    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(cluster.workdir / "runs"))
    import dist_steps as module

    return module


@pytest.fixture
def private_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A cluster of its own (one worker) for a test that restarts Redis."""
    with running_cluster(tmp_path_factory.mktemp("private"), workers=1) as running:
        yield running


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: Cluster) -> Iterator[Path]:
    root = tmp_path / "runs"
    monkeypatch.setenv("TRUNQ_REDIS_URL", cluster.url)
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
    from trunq.runs import cluster as runs_cluster

    return runs_cluster("celery")


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
