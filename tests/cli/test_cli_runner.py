"""Parsing, help and one-line errors of `trunq`, in-process through click's CliRunner (fast).

Exit status and cross-process behaviour stay in test_cli.py (real subprocesses)."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from trunq.cli.commands import cli

STEPS = textwrap.dedent('''
    import trunq

    class RunnerStep(trunq.Step):
        """A step of the CliRunner tests."""
        x = trunq.IntParameter(description="the x")
        y = trunq.IntParameter(default=45)

        def run(self):
            print("sum", self.x + self.y)
''')


@pytest.fixture
def invoke(tmp_path, monkeypatch):  # noqa: ANN201 - a function
    (tmp_path / "runner_steps.py").write_text(STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRUNQ_CONFIG_PATH", raising=False)

    def run(*args: str):  # noqa: ANN202
        return CliRunner().invoke(cli, list(args), prog_name="trunq")

    return run


def one_line_error(result, *fragments: str) -> str:  # noqa: ANN001
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    line = next(line for line in lines if "error" in line.lower())
    for fragment in fragments:
        assert fragment in line, result.output
    return line


BUILD = ["build", "--module", "runner_steps", "--local-scheduler", "--no-lock"]


def test_a_good_build_runs_in_process(invoke) -> None:
    result = invoke(*BUILD, "RunnerStep", "--x", "1")
    assert result.exit_code == 0, result.output
    assert "1 ran successfully" in result.output


@pytest.mark.parametrize(("args", "fragments"), [
    (["NoSuchStep"], ["unknown step family 'NoSuchStep'"]),
    (["RunnerStep", "--x", "1", "--z", "2"], ["unknown parameter --z"]),
    (["RunnerStep"], ["requires the 'x' parameter"]),
    (["RunnerStep", "--x", "abc"], ["'abc'"]),
    (["RunnerStep", "--x", "1", "--workers", "many"], ["--workers"]),
    (["RunnerStep", "--x", "1", "--workers", "-1"], ["--workers"]),
])
def test_bad_build_input_is_one_line(invoke, args, fragments) -> None:
    one_line_error(invoke(*BUILD, *args), *fragments)


def test_unknown_module_is_one_line(invoke) -> None:
    one_line_error(invoke("build", "--module", "no_such_module", "RunnerStep", "--local-scheduler"),
                   "cannot import module 'no_such_module'")


def test_help_of_a_step_lists_its_parameters(invoke) -> None:
    result = invoke(*BUILD, "RunnerStep", "--help")
    assert result.exit_code == 0, result.output
    assert "--x, --RunnerStep-x INT (required)" in result.output
    assert "--y, --RunnerStep-y INT (default: 45)" in result.output


def test_bare_help_lists_the_commands(invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "build" in result.output and "worker" in result.output


def test_unknown_command_option_is_one_line(invoke) -> None:
    result = invoke("runs", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option '--no-such-option'" in result.output
