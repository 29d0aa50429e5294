"""A step that can never get its resources fails at scheduling, locally (the cluster test is
in tests/integration/test_unsatisfiable.py); non-integer capacities are config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STEPS = '''
import trunq

class Greedy(trunq.Step):
    resources = {"gpu": 2}
    def output(self):
        return trunq.LocalTarget("greedy.out")
    def run(self):
        open("greedy.out", "w").write("x")

class Db(trunq.Step):
    resources = {"db": 1}
    def output(self):
        return trunq.LocalTarget("db.out")
    def run(self):
        open("db.out", "w").write("x")

class Top(trunq.Step):
    def requires(self):
        return Greedy()
    def output(self):
        return trunq.LocalTarget("top.out")
    def run(self):
        open("top.out", "w").write("x")
'''

TRUNQ = str(Path(sys.executable).with_name("trunq"))


def build(tmp_path: Path, family: str, cfg: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "rsteps.py").write_text(STEPS)
    if cfg is not None:
        (tmp_path / "trunq.cfg").write_text(cfg)
    return subprocess.run([TRUNQ, "build", "--module", "rsteps", family, "--local-scheduler", "--no-lock"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)


def test_more_than_an_undeclared_capacity_fails_and_dependents_do_not_run(tmp_path: Path) -> None:
    result = build(tmp_path, "Top")
    assert result.returncode == 2
    assert "Greedy() can never run: resource 'gpu': asks 2, capacity is 1" in result.stderr
    assert "had dependencies whose scheduling failed" in result.stdout
    assert not (tmp_path / "top.out").exists() and not (tmp_path / "greedy.out").exists()
    assert "Traceback" not in result.stderr


def test_zero_capacity_fails(tmp_path: Path) -> None:
    result = build(tmp_path, "Db", "[resources]\ndb = 0\n")
    assert result.returncode == 2
    assert "Db() can never run: resource 'db': asks 1, capacity is 0" in result.stderr
    assert not (tmp_path / "db.out").exists()


def test_enough_capacity_runs(tmp_path: Path) -> None:
    result = build(tmp_path, "Top", "[resources]\ngpu = 2\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "top.out").exists()


@pytest.mark.parametrize("value", ["1.5", "two", "-1"])
def test_non_integer_capacity_is_a_config_error(tmp_path: Path, value: str) -> None:
    result = build(tmp_path, "Db", f"[resources]\ndb = {value}\n")
    assert result.returncode == 2
    assert "[resources] db must" in result.stderr and value in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
