"""A luigi project migrated and run with trunq gives luigi's outputs and exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.migrate.luigi_project import write_project


def outputs(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "out").iterdir())}


def run_script(root: Path) -> subprocess.CompletedProcess[str]:
    # the luigi command does not put the working directory on sys.path; the project's users set it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(["sh", str(root / "run.sh")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=240)


def test_migrated_project_runs_like_the_luigi_original(tmp_path):
    original = write_project(tmp_path / "luigi")
    shutil.copytree(original, tmp_path / "source")
    migrated = tmp_path / "trunq"
    result = subprocess.run(["trunq", "migrate", str(tmp_path / "source"), "--out", str(migrated)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    by_luigi = run_script(original)
    assert by_luigi.returncode == 0, by_luigi.stderr
    by_script = run_script(migrated)
    assert by_script.returncode == 0, by_script.stderr
    assert "trunq --module pipeline All --local-scheduler" in (migrated / "run.sh").read_text()
    assert outputs(migrated) == outputs(original)
    # config: [Text] words = 4 and [Total] files = 3, label = sum were applied by both
    assert outputs(migrated)["sum.txt"] == "Total 15"
    assert "Scheduled 8 steps of which:\n* 8 ran successfully:" in by_script.stdout + by_script.stderr

    # the classic command form, directly, in a fresh folder
    shutil.rmtree(migrated / "out")
    direct = subprocess.run(["trunq", "--module", "pipeline", "Total", "--files", "2", "--local-scheduler"],
                            cwd=migrated, capture_output=True, text=True, timeout=240)
    assert direct.returncode == 0, direct.stderr
    assert (migrated / "out" / "sum.txt").read_text() == "Total 9"
    shutil.rmtree(original / "out")
    luigi_direct = subprocess.run([sys.executable, "-m", "luigi", "--module", "pipeline", "Total", "--files", "2",
                                   "--local-scheduler"], cwd=original, capture_output=True, text=True, timeout=240,
                                  env={**os.environ, "PYTHONPATH": str(original)})
    assert luigi_direct.returncode == direct.returncode == 0
    assert outputs(original) == outputs(migrated)


def test_failing_step_exit_status(tmp_path):
    """A failing step: luigi exits 0 by default ([retcode] task_failed = 0), trunq 1 - a documented difference."""
    original = write_project(tmp_path / "luigi")
    pipeline = original / "pipeline.py"
    pipeline.write_text(pipeline.read_text().replace('total = len(f.read().split())', 'raise ValueError("boom")'))
    migrated = tmp_path / "trunq"
    assert subprocess.run(["trunq", "migrate", str(original), "--out", str(migrated)],
                          capture_output=True, timeout=120).returncode == 0
    assert run_script(original).returncode == 0
    assert run_script(migrated).returncode == 1
    (original / "luigi.cfg").write_text((original / "luigi.cfg").read_text() + "\n[retcode]\ntask_failed = 1\n")
    assert run_script(original).returncode == 1
