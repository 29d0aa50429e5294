"""`trunq migrate` through the command line: in place, --out, --dry-run, reports, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.migrate.luigi_project import write_project


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["trunq", "migrate", *map(str, args)], capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_dry_run_prints_diff_and_changes_nothing(tmp_path):
    project = write_project(tmp_path / "p")
    before = snapshot(project)
    result = migrate(project, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "--- a/pipeline.py\n+++ b/pipeline.py" in result.stdout
    assert "-class Text(luigi.Task):\n+class Text(trunq.Step):" in result.stdout
    assert "--- a/luigi.cfg\n+++ b/trunq.toml" in result.stdout
    assert "-luigi --module pipeline All --local-scheduler\n+trunq --module pipeline All" in result.stdout
    assert result.stderr.strip() == "trunq migrate: 4 files would change, 0 unchanged, 0 items need attention"
    assert snapshot(project) == before


def test_in_place(tmp_path):
    project = write_project(tmp_path / "p")
    (project / "notes.txt").write_text("luigi notes\n")
    result = migrate(project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "trunq migrate: 4 files changed, 1 unchanged, 0 items need attention"
    assert sorted(snapshot(project)) == ["notes.txt", "pipeline.py", "requirements.txt", "run.sh", "trunq.toml"]
    assert (project / "requirements.txt").read_text() == "trunq\n"
    assert (project / "run.sh").stat().st_mode & 0o111  # still executable
    assert (project / "notes.txt").read_text() == "luigi notes\n"
    assert list(project.glob(".*trunq-tmp")) == []
    again = migrate(project)  # idempotent: nothing left to do
    assert again.stdout.strip() == "trunq migrate: 0 files changed, 5 unchanged, 0 items need attention"


def test_out_copies_the_tree_and_leaves_the_original(tmp_path):
    project = write_project(tmp_path / "p")
    (project / "data").mkdir()
    (project / "data" / "blob.bin").write_bytes(b"\x00\xff")
    before = snapshot(project)
    result = migrate(project, "--out", tmp_path / "q")
    assert result.returncode == 0, result.stderr
    assert snapshot(project) == before
    copied = snapshot(tmp_path / "q")
    assert sorted(copied) == ["data/blob.bin", "pipeline.py", "requirements.txt", "run.sh", "trunq.toml"]
    assert copied["data/blob.bin"] == b"\x00\xff"
    assert b"class Total(trunq.Step):" in copied["pipeline.py"]


def test_out_inside_project_or_not_empty_refused(tmp_path):
    project = write_project(tmp_path / "p")
    result = migrate(project, "--out", project / "sub")
    assert result.returncode == 2 and "inside" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = migrate(project, "--out", tmp_path / "full")
    assert result.returncode == 2 and "not an empty directory" in result.stderr


def test_unconvertible_reported_exit_1_and_broken_file_untouched(tmp_path):
    (tmp_path / "load.py").write_text(
        "import luigi\nfrom luigi.contrib.postgres import CopyToTable\n\n\nclass A(luigi.Task):\n    pass\n")
    broken = "import luigi\nprint 'python 2'\n"
    (tmp_path / "old.py").write_text(broken)
    result = migrate(tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "load.py:2: luigi.contrib.postgres.CopyToTable: luigi.contrib is not part of trunq; port this integration by hand"
    assert lines[1] == "old.py:2: does not parse as Python 3 (Missing parentheses in call to 'print'. " \
        "Did you mean print(...)?), left untouched"
    assert lines[-1] == "trunq migrate: 1 files changed, 1 unchanged, 2 items need attention"
    assert (tmp_path / "old.py").read_text() == broken
    assert "class A(trunq.Step):" in (tmp_path / "load.py").read_text()


def test_single_file_and_missing_path(tmp_path):
    target = tmp_path / "one.py"
    target.write_text("import luigi\n")
    assert migrate(target).returncode == 0
    assert target.read_text() == "import trunq\n"
    result = migrate(tmp_path / "nope")
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_listed_in_help():
    result = subprocess.run(["trunq", "--help"], capture_output=True, text=True, timeout=60)
    assert "migrate" in result.stdout and "Rewrite a luigi project to trunq." in result.stdout


def test_setup_py_dependency_and_existing_trunq_toml(tmp_path):
    (tmp_path / "setup.py").write_text(
        'from setuptools import setup\n\nsetup(name="p", install_requires=["luigi>=2.8", "requests"])\n')
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = 2\n")
    (tmp_path / "trunq.toml").write_text("[core]\nworkers = 4\n")
    result = migrate(tmp_path)
    assert result.returncode == 1
    assert "luigi.cfg:1: trunq.toml exists already: not converted" in result.stdout
    assert 'install_requires=["trunq", "requests"]' in (tmp_path / "setup.py").read_text()
    assert (tmp_path / "luigi.cfg").read_text() == "[core]\nworkers = 2\n"
    assert (tmp_path / "trunq.toml").read_text() == "[core]\nworkers = 4\n"


def test_crlf_kept_and_toml_rename_shown(tmp_path):
    (tmp_path / "m.py").write_bytes(b"import luigi\r\n\r\nclass A(luigi.Task):\r\n    pass\r\n")
    (tmp_path / "luigi.toml").write_text("[core]\nworkers = 2\n")
    dry = migrate(tmp_path, "--dry-run")
    assert "rename a/luigi.toml -> b/trunq.toml" in dry.stdout
    assert migrate(tmp_path).returncode == 0
    assert (tmp_path / "m.py").read_bytes() == b"import trunq\r\n\r\nclass A(trunq.Step):\r\n    pass\r\n"
    assert (tmp_path / "trunq.toml").read_text() == "[core]\nworkers = 2\n"
    assert not (tmp_path / "luigi.toml").exists()
