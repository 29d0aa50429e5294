from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest


def _owner_pgids(root: Path) -> set[int]:
    pgids: set[int] = set()
    for folder in root.iterdir() if root.exists() else []:
        for name in ("config_for_run.json", ".lock"):
            try:
                data = json.loads((folder / name).read_text())
            except (OSError, ValueError):
                continue
            for key in ("pgid", "pid"):
                if data.get(key) and data[key] != os.getpgid(0) and data[key] != os.getpid():
                    pgids.add(int(data[key]))
    return pgids


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """An empty runs root (also the cwd); every run process left behind is killed by its pgid."""
    root = tmp_path / "runs"
    monkeypatch.setenv("TRUNQ_RUNS_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    yield root
    for pgid in _owner_pgids(root):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def local(runs_dir):
    from trunq.runs import cluster

    return cluster("local")
