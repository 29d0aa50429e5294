"""Fixtures of tests/tools and tests/cron (imported by their conftest files): a project directory
with the test step modules (``recurring_project/``), and a ``trunq`` runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "recurring_project"

if str(PROJECT) not in sys.path:  # in-process tests import the same step modules
    sys.path.insert(0, str(PROJECT))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory with its own (empty) config; outputs go to ``out/``."""
    (tmp_path / "out").mkdir()
    config = tmp_path / "trunq.toml"
    config.write_text("")
    monkeypatch.setenv("RECURRING_OUT", str(tmp_path / "out"))
    return tmp_path


def trunq_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRUNQ_CONFIG_PATH=str(workdir / "trunq.toml"),
        RECURRING_OUT=str(workdir / "out"),
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH", "")) if p),
        TZ="UTC",
    )
    env.update(extra)
    return env


@pytest.fixture
def run_trunq(workdir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the ``trunq`` command in the work directory; returns the completed process."""

    def run(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["trunq", *args], cwd=workdir, env=trunq_env(workdir, **env),
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def spawned() -> list[subprocess.Popen[str]]:
    """Processes a test starts in the background; each is stopped by pid at the end."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
