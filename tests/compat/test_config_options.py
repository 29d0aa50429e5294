"""luigi's ``--Section-key value`` command-line form for config options."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

MODULE = textwrap.dedent('''
    import trunq

    class Fails(trunq.Step):
        def run(self):
            raise RuntimeError("broken on purpose")

    class Fine(trunq.Step):
        def output(self):
            return trunq.LocalTarget("fine.txt")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "opts.py").write_text(MODULE)
    return tmp_path


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNQ_")}
    return subprocess.run(["trunq", "build", "--module", "opts", "--local-scheduler", "--no-lock", *args],
                          cwd=project, capture_output=True, text=True, env=env, timeout=120)


def test_retcode_option_sets_the_exit_status(project: Path) -> None:
    assert _run(project, "Fails").returncode == 1
    assert _run(project, "Fails", "--retcode-task-failed", "5").returncode == 5
    assert _run(project, "--retcode-task-failed=7", "Fails").returncode == 7


def test_supported_section_options_are_quiet(project: Path) -> None:
    result = _run(project, "Fine", "--scheduler-retry-delay", "5", "--core-workers", "2")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert (project / "fine.txt").exists()


def test_unsupported_option_is_named_once_and_never_blames_the_step(project: Path) -> None:
    result = _run(project, "Fine", "--worker-count-uniques", "--worker-foo", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines.count("trunq: warning: [worker] foo is not supported by trunq (ignored)") == 1
    assert lines.count("trunq: warning: [worker] count_uniques is not supported by trunq (ignored)") == 1
    assert "unknown parameter" not in result.stderr


def test_logging_conf_file(project: Path) -> None:
    (project / "log.cfg").write_text(textwrap.dedent('''
        [loggers]
        keys=root
        [handlers]
        keys=file
        [formatters]
        keys=plain
        [logger_root]
        level=DEBUG
        handlers=file
        [handler_file]
        class=FileHandler
        args=('build.log',)
        formatter=plain
        [formatter_plain]
        format=LOG %(message)s
    '''))
    result = _run(project, "Fine", "--logging-conf-file", "log.cfg")
    assert result.returncode == 0, result.stderr
    assert "LOG " in (project / "build.log").read_text()
    bad = _run(project, "Fine", "--logging-conf-file", "nope.cfg")
    assert bad.returncode != 0 and "nope.cfg" in bad.stderr and "Traceback" not in bad.stderr


def test_failing_step_traceback_is_printed(project: Path) -> None:
    result = _run(project, "Fails")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("broken on purpose")' in result.stderr


def test_unknown_family_suggests_range_tools_too(project: Path) -> None:
    result = _run(project, "RangeDayly")
    assert result.returncode == 2
    assert result.stderr.strip() == "trunq: error: unknown step family 'RangeDayly' (did you mean 'RangeDaily'?)"
    near = _run(project, "Fin")
    assert "did you mean 'Fine'?" in near.stderr and len(near.stderr.strip().splitlines()) == 1


def test_no_step_named_is_one_line(project: Path) -> None:
    result = _run(project)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "trunq: error: no step family given (e.g. `trunq build MyStep --module my_module`)"]
