"""luigi's spellings of the engine options in config files (luigi.cfg, trunq.toml)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from trunq.config import load_config
from trunq.config_compat import translate_sections

MODULE = textwrap.dedent('''
    import time
    import {lib}

    class Fails({lib}.{Task}):
        def run(self):
            raise RuntimeError("broken on purpose")

    class Sleeps({lib}.{Task}):
        def run(self):
            time.sleep(30)

    class Fine({lib}.{Task}):
        def output(self):
            return {lib}.LocalTarget("fine.txt")

        def run(self):
            with self.output().open("w") as f:
                f.write("x")
''')


def _project(directory: Path, lib: str, config: str) -> Path:
    directory.mkdir()
    (directory / "opts.py").write_text(MODULE.format(lib=lib, Task="Task" if lib == "luigi" else "Step"))
    (directory / "luigi.cfg").write_text(textwrap.dedent(config))
    return directory


def _run(project: Path, lib: str, *args: str, config_file: str = "luigi.cfg") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNQ_", "LUIGI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH", "")]))
    env[f"{lib.upper()}_CONFIG_PATH"] = str(project / config_file)
    env["PYTHONWARNINGS"] = "default::DeprecationWarning"
    command = [lib, "--module", "opts", *args, "--local-scheduler"]
    if lib == "trunq":
        command.append("--no-lock")
    return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("lib", ["luigi", "trunq"])
def test_retcode_section_of_a_luigi_cfg(tmp_path: Path, lib: str) -> None:
    project = _project(tmp_path / lib, lib, """
        [retcode]
        task_failed = 9
        missing_data = 8
    """)
    assert _run(project, lib, "Fails").returncode == 9


def test_old_core_spelling_moves_to_its_section(tmp_path: Path) -> None:
    project = _project(tmp_path / "t", "trunq", """
        [core]
        worker-timeout = 1
    """)
    result = _run(project, "trunq", "Sleeps", "--workers", "2")  # timeouts need a process
    assert result.returncode == 1, result.stderr  # killed after a second, not after 30
    assert result.stderr.count("[core] worker-timeout in") == 1
    assert "use [worker] timeout in trunq" in result.stderr and "DeprecationWarning" in result.stderr


def test_hyphenated_spelling_warns_once_and_works(tmp_path: Path) -> None:
    project = _project(tmp_path / "t", "trunq", """
        [retcode]
        task-failed = 6
    """)
    result = _run(project, "trunq", "Fails")
    assert result.returncode == 6
    assert result.stderr.count("[retcode] task-failed in") == 1
    assert "use [retcode] task_failed in trunq" in result.stderr


def test_toml_file_gets_the_same_translation(tmp_path: Path) -> None:
    project = _project(tmp_path / "t", "trunq", "")
    (project / "trunq.toml").write_text('[core]\n"worker-timeout" = 1\n')
    result = _run(project, "trunq", "Sleeps", "--workers", "2", config_file="trunq.toml")
    assert result.returncode == 1 and "use [worker] timeout in trunq" in result.stderr


def test_unsupported_options_are_one_line_each_and_never_blame_a_step(tmp_path: Path) -> None:
    project = _project(tmp_path / "t", "trunq", """
        [core]
        default-scheduler-host = scheduler.example.org
        workers = 1
        [worker]
        wait_interval = 2
        foo = 1
        [scheduler]
        retry_delay = 1
        record_task_history = true
    """)
    result = _run(project, "trunq", "Fine")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines.count("trunq: warning: [worker] foo is not supported by trunq (ignored)") == 1
    assert lines.count("trunq: warning: [worker] wait_interval is not supported by trunq (ignored)") == 1
    assert lines.count("trunq: warning: [scheduler] record_task_history is not supported by trunq (ignored)") == 1
    assert ("trunq: warning: [core] default-scheduler-host is not supported by trunq (ignored); "
            "trunq's cluster is a Redis: set [core] redis_url") in lines
    assert not any("workers" in line or "retry_delay" in line for line in lines)  # trunq reads those
    assert "Fine" not in result.stderr and "unconsumed" not in result.stderr.lower()
    assert (project / "fine.txt").exists()


def test_trunq_spelling_wins_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.cfg"
    path.write_text("[worker]\ntimeout = 5\n[core]\nworker-timeout = 7\n[Fine]\nworker-timeout = 3\n")
    with pytest.warns(DeprecationWarning, match=r"use \[worker\] timeout"):
        config = load_config({"TRUNQ_CONFIG_PATH": str(path)}, cwd=str(tmp_path))
    assert config.getint("worker", "timeout") == 5
    assert not config.has_option("core", "worker_timeout")
    assert config.get("Fine", "worker_timeout") == "3"  # step sections are the step's own


def test_translate_sections_keeps_step_sections() -> None:
    sections = {"MyStep": {"retry-delay": "2"}, "scheduler": {"retry_count": "3"}}
    assert translate_sections(sections, "x.cfg") == {"MyStep": {"retry-delay": "2"},
                                                     "scheduler": {"retry_count": "3"}}
