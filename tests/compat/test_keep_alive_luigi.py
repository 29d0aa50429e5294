"""``[worker] keep_alive`` and ``[worker] retry_external_tasks``, side by side with luigi."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import trunq
from trunq.config import Configuration, set_config
from trunq.scheduler.core import FAILED, RETRY_WAIT, RUN_BY_OTHER

# MakeLater writes the external data 1.5 s after it ran; UsesExt needs that data.
MODULE = textwrap.dedent('''
    import threading
    import {lib}

    class Ext({lib}.{External}):
        def output(self):
            return {lib}.LocalTarget("ext.data")

    class UsesExt({lib}.{Task}):
        def requires(self):
            return Ext()

        def output(self):
            return {lib}.LocalTarget("uses.done")

        def run(self):
            with self.output().open("w") as f:
                f.write("used")

    class MakeLater({lib}.{Task}):
        def output(self):
            return {lib}.LocalTarget("later.done")

        def run(self):
            threading.Timer(1.5, lambda: open("ext.data", "w").close()).start()
            self.output().open("w").close()

    class Both({lib}.{Wrapper}):
        def requires(self):
            return [MakeLater(), UsesExt()]
''')
NAMES = {"luigi": {"Task": "Task", "External": "ExternalTask", "Wrapper": "WrapperTask"},
         "trunq": {"Task": "Step", "External": "ExternalStep", "Wrapper": "WrapperStep"}}


@pytest.fixture
def projects(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for lib, names in NAMES.items():
        project = tmp_path / lib
        project.mkdir()
        (project / "kam.py").write_text(MODULE.format(lib=lib, **names))
        (project / "sched.cfg").write_text("[scheduler]\nretry_delay = 0.5\n")
        made[lib] = project
    return made


def _run(project: Path, lib: str, *args: str, config: str = "sched.cfg") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNQ_", "LUIGI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH", "")]))
    env[f"{lib.upper()}_CONFIG_PATH"] = str(project / config)
    command = [lib, "--module", "kam", "Both", *args, "--local-scheduler"]
    if lib == "trunq":
        command += ["--no-lock", "--no-progress"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=120)


def _summary(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The summary's category and step lines, with the library's own word for a step."""
    text = (result.stdout + result.stderr).replace("tasks", "steps")
    return [line for line in text.splitlines() if line.startswith(("* ", "    - ", "This progress looks"))]


@pytest.mark.parametrize("flags", [
    (),
    ("--worker-retry-external-tasks",),
    ("--worker-retry-external-tasks", "--worker-keep-alive"),
], ids=["plain", "retry-external", "retry-external-keep-alive"])
def test_external_rechecks_as_luigi(projects: dict[str, Path], flags: tuple[str, ...]) -> None:
    luigi_run = _run(projects["luigi"], "luigi", *flags)
    trunq_run = _run(projects["trunq"], "trunq", *flags)
    assert _summary(trunq_run) == _summary(luigi_run), trunq_run.stderr
    used = [(projects[lib] / "uses.done").exists() for lib in ("luigi", "trunq")]
    assert used == [len(flags) == 2] * 2
    assert "not supported" not in trunq_run.stderr


def test_the_options_from_a_config_file(projects: dict[str, Path]) -> None:
    project = projects["trunq"]
    (project / "both.cfg").write_text("[scheduler]\nretry_delay = 0.5\n[worker]\nkeep_alive = true\n"
                                      "retry_external_tasks = true\n")
    result = _run(project, "trunq", config="both.cfg")
    assert result.returncode == 0, result.stderr
    assert (project / "uses.done").read_text() == "used"
    assert "4 ran successfully" in result.stdout and "not supported" not in result.stderr


def test_a_retry_count_bounds_the_rechecks(projects: dict[str, Path]) -> None:
    project = projects["trunq"]
    (project / "bounded.cfg").write_text("[scheduler]\nretry_delay = 0.1\nretry_count = 2\n")
    result = _run(project, "trunq", "--worker-retry-external-tasks", "--worker-keep-alive", config="bounded.cfg")
    assert result.returncode != 0
    assert "- 1 Ext()" in result.stdout.split("failed:")[1]
    assert "data does not exist (yet?)" in result.stderr
    assert not (project / "uses.done").exists()


class Shared(trunq.Step):
    retry_count = 3

    def run(self) -> None:
        pass


@pytest.mark.parametrize("keep_alive", [False, True])
def test_keep_alive_takes_over_a_step_that_failed_in_another_build(keep_alive: bool) -> None:
    set_config(Configuration({"scheduler": {"retry_delay": "0"}}))
    try:
        with trunq.worker.Worker() as worker:
            worker.set_luigi_options(keep_alive=keep_alive)
            worker.add(Shared())
            node = next(iter(worker.core.nodes.values()))
            node.status = RUN_BY_OTHER
            worker._others[node.step_id] = node
            worker._other_finished(node, FAILED, "boom elsewhere")
            assert node.step_id not in worker._others
            assert node.status == (RETRY_WAIT if keep_alive else FAILED)
    finally:
        set_config(None)
