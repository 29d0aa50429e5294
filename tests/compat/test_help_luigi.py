"""``--help``/``--help-all`` and ``use_cmdline_section = False``, side by side with luigi."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# One pipeline for both libraries: {lib} is "luigi" or "trunq", {Task} its step base class.
PIPELINE = textwrap.dedent('''
    import {lib}

    class tuning({lib}.Config):
        chunk = {lib}.IntParameter(default=64, description="rows per chunk")

    class globalconf({lib}.Config):
        use_cmdline_section = False
        retries = {lib}.IntParameter(default=3, description="how many retries")

    class Fetch({lib}.{Task}):
        day = {lib}.Parameter(default="2024-01-01", description="the day to fetch")

        def output(self):
            return {lib}.LocalTarget(f"out/fetch-{{self.day}}")

        def run(self):
            with self.output().open("w") as f:
                f.write(str(tuning().chunk))

    class Report({lib}.{Task}):
        """Summarise the fetched day."""
        title = {lib}.Parameter(description="the report title")
        verbose = {lib}.BoolParameter()

        def requires(self):
            return Fetch()

        def output(self):
            return {lib}.LocalTarget(f"out/report-{{self.title}}")

        def run(self):
            with self.output().open("w") as f:
                f.write(f"retries={{globalconf().retries}}")

    class Unrelated({lib}.{Task}):
        colour = {lib}.Parameter(default="blue", description="never reached")

    if __name__ == "__main__":
        {lib}.run()
''')


def _write(directory: Path, lib: str) -> Path:
    directory.mkdir()
    text = PIPELINE.format(lib=lib, Task="Task" if lib == "luigi" else "Step")
    (directory / "pipeline.py").write_text(text)
    return directory


@pytest.fixture
def projects(tmp_path: Path) -> dict[str, Path]:
    return {lib: _write(tmp_path / lib, lib) for lib in ("luigi", "trunq")}


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNQ_", "LUIGI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH", "")]))
    env["COLUMNS"] = "200"
    return env


def _run(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=project, capture_output=True, text=True, env=_env(project), timeout=120)


def _cli(projects: dict[str, Path], lib: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(projects[lib], lib, "--module", "pipeline", *args)


def test_help_lists_the_root_parameters_as_luigi_does(projects: dict[str, Path]) -> None:
    luigi_help = _cli(projects, "luigi", "Report", "--help")
    trunq_help = _cli(projects, "trunq", "Report", "--help")
    assert luigi_help.returncode == trunq_help.returncode == 0, trunq_help.stderr
    for flag in ("--title", "--Report-title", "--verbose", "--Report-verbose", "--local-scheduler", "--module",
                 "--help-all"):
        assert flag in luigi_help.stdout and flag in trunq_help.stdout, flag
    for text in ("the report title", "Summarise the fetched day.", "(required)"):
        assert text in trunq_help.stdout
    assert "--Unrelated-colour" not in luigi_help.stdout and "--Unrelated-colour" not in trunq_help.stdout


def test_help_also_lists_what_the_step_can_reach(projects: dict[str, Path]) -> None:
    out = _cli(projects, "trunq", "Report", "--help").stdout
    reach = out.split("can reach:")[1]
    assert "--Fetch-day STR (default: 2024-01-01)" in reach and "the day to fetch" in reach
    assert "--tuning-chunk INT (default: 64)" in reach and "rows per chunk" in reach  # a Config Fetch uses
    assert "--retries INT (default: 3)  [globalconf]" in reach  # no section: luigi's spelling
    assert "--globalconf-retries" not in reach


def test_help_all_lists_every_registered_parameter(projects: dict[str, Path]) -> None:
    luigi_all = _cli(projects, "luigi", "Report", "--help-all")
    trunq_all = _cli(projects, "trunq", "Report", "--help-all")
    assert luigi_all.returncode == trunq_all.returncode == 0, trunq_all.stderr
    for flag in ("--Unrelated-colour", "--Fetch-day", "--tuning-chunk", "--retries", "--worker-timeout",
                 "--scheduler-retry-delay", "--no-lock", "--workers"):
        assert flag in luigi_all.stdout and flag in trunq_all.stdout, flag
    assert "never reached" in trunq_all.stdout


def test_help_of_a_script_ending_in_run(projects: dict[str, Path]) -> None:
    for lib in ("luigi", "trunq"):
        result = _run(projects[lib], sys.executable, "pipeline.py", "Report", "--help")
        assert result.returncode == 0, result.stderr
        assert "--Report-title" in result.stdout and "the report title" in result.stdout
        assert not (projects[lib] / "out").exists()  # help runs nothing


def test_build_help_is_the_same_help(projects: dict[str, Path]) -> None:
    result = _run(projects["trunq"], "trunq", "build", "Report", "--module", "pipeline", "--help")
    assert result.returncode == 0 and "--Fetch-day" in result.stdout and "--Report-title" in result.stdout


def test_bare_command_says_no_step_was_named(projects: dict[str, Path]) -> None:
    luigi_bare = _run(projects["luigi"], "luigi")
    trunq_bare = _run(projects["trunq"], "trunq")
    assert luigi_bare.returncode != 0 and "No task specified" in luigi_bare.stderr
    assert trunq_bare.returncode == 2
    assert trunq_bare.stderr.strip().splitlines() == [trunq_bare.stderr.strip()]
    assert "no step family given" in trunq_bare.stderr and "Traceback" not in trunq_bare.stderr


def test_unknown_family_suggests_the_nearest(projects: dict[str, Path]) -> None:
    result = _cli(projects, "trunq", "Reprot", "--local-scheduler")
    assert result.returncode == 2 and "did you mean 'Report'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_sectionless_config_takes_the_bare_flag(projects: dict[str, Path]) -> None:
    for lib in ("luigi", "trunq"):
        result = _cli(projects, lib, "Report", "--title", "t", "--retries", "7", "--local-scheduler")
        assert result.returncode == 0, result.stderr
        assert (projects[lib] / "out" / "report-t").read_text() == "retries=7", lib


def test_sectioned_config_needs_its_name(projects: dict[str, Path]) -> None:
    for lib in ("luigi", "trunq"):
        result = _cli(projects, lib, "Report", "--title", "t", "--tuning-chunk", "5", "--local-scheduler")
        assert result.returncode == 0, result.stderr
        assert (projects[lib] / "out" / "fetch-2024-01-01").read_text() == "5", lib
    bare = _cli(projects, "trunq", "Report", "--title", "t", "--chunk", "5", "--local-scheduler")
    assert bare.returncode == 2 and "unknown parameter --chunk" in bare.stderr
