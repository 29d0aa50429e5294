"""Isolation shared by every test: a fresh registry view, config and runs root."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - Iterator[Cluster]
    """THE real cluster (redis-server + 2 celery workers) shared by every distributed test."""
    from tests.support.cluster import running_cluster

    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(autouse=True)
def _isolate_trunq(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from trunq import config
    from trunq.core import registry
    from trunq.scheduler import resolver

    if "TRUNQ_RUNS_DIR" not in os.environ:
        monkeypatch.setenv("TRUNQ_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
    registry.cli_overrides.clear()
    registry.clear_instance_cache()
    resolver.clear_completion_cache()
    config.set_config(None)
    yield
    registry.cli_overrides.clear()
    registry.clear_instance_cache()
    resolver.clear_completion_cache()
    config.set_config(None)
