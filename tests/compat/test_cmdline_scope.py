"""Command-line parameter scope as luigi: ``--x`` is the root's, ``--Family-x`` everyone's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODULE = textwrap.dedent('''
    import trunq

    class T(trunq.Step):
        n = trunq.IntParameter(default=0)
        size = trunq.IntParameter(default=1)
        flag = trunq.BoolParameter()

        def requires(self):
            return [T(n=self.n - 1)] if self.n > 0 else []

        def output(self):
            return trunq.LocalTarget(f"out/T-{self.n}-{self.size}-{self.flag}")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")

    class Hello(trunq.Step):
        x = trunq.Parameter(default="a")

        def output(self):
            return trunq.LocalTarget(f"out/Hello-{self.x}")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scoped.py").write_text(MODULE)
    return tmp_path


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNQ_")} | {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run(["trunq", "build", "--module", "scoped", "--local-scheduler", "--no-lock", *args],
                          cwd=project, capture_output=True, text=True, env=env, timeout=120)


def _outputs(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "out").iterdir())


def test_root_parameters_do_not_reach_dependencies(project: Path) -> None:
    result = _run(project, "T", "--n", "1", "--flag")
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["T-0-1-False", "T-1-1-True"]


def test_family_form_reaches_every_instance(project: Path) -> None:
    result = _run(project, "T", "--n", "1", "--T-flag")
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["T-0-1-True", "T-1-1-True"]


def test_root_value_beats_family_form(project: Path) -> None:
    result = _run(project, "T", "--n", "1", "--size", "5", "--T-size", "6")
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["T-0-6-False", "T-1-5-False"]


def test_options_before_the_step_name(project: Path) -> None:
    result = _run(project, "--Hello-x", "b", "Hello")
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["Hello-b"]


def test_flag_before_the_step_name(project: Path) -> None:
    result = _run(project, "--T-flag", "T")
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["T-0-1-True"]


def test_luigi_scopes_the_same_way(project: Path) -> None:
    luigi_module = MODULE.replace("import trunq", "import luigi as trunq").replace("trunq.Step", "trunq.Task")
    (project / "lscoped.py").write_text(luigi_module)
    luigi = os.path.join(os.path.dirname(sys.executable), "luigi")
    env = {**os.environ, "PYTHONPATH": str(project)}
    result = subprocess.run([luigi, "--module", "lscoped", "--local-scheduler", "T", "--n", "1", "--flag"],
                            cwd=project, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _outputs(project) == ["T-0-1-False", "T-1-1-True"]


def test_run_leaves_no_command_line_values_behind(project: Path) -> None:
    script = textwrap.dedent('''
        import trunq
        ok = trunq.run(["--module", "scoped", "T", "--size", "3", "--T-flag", "--local-scheduler", "--no-lock"])
        from scoped import T
        later = T()
        print("RESULT", ok, later.size, later.flag)
    ''')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNQ_")} | {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RESULT True 1 False" in result.stdout
    assert "Scheduled" in result.stdout or "scheduled" in result.stdout  # the summary is printed
    assert _outputs(project) == ["T-0-3-True"]
