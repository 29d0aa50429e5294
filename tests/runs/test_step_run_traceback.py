"""A step that raises keeps its traceback in its Run's stderr (`trunq logs RUN --stderr`)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

MODULE = textwrap.dedent('''
    import trunq

    class Breaks(trunq.Step):
        def run(self):
            print("about to break")
            raise ValueError("broken on purpose")
''')


def _trunq(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNQ_")}
    env["TRUNQ_RUNS_DIR"] = str(project / "runs")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(["trunq", *args], cwd=project, capture_output=True, text=True, env=env, timeout=120)


def test_local_failure_traceback_is_in_the_run_stderr(tmp_path: Path) -> None:
    (tmp_path / "breaks.py").write_text(MODULE)
    build = _trunq(tmp_path, "--module", "breaks", "Breaks", "--local-scheduler", "--no-lock", "--no-progress")
    assert build.returncode == 1 and 'raise ValueError("broken on purpose")' in build.stderr
    listed = _trunq(tmp_path, "runs", "--status", "error")
    name = listed.stdout.splitlines()[1].split()[0]
    assert name.startswith("Breaks_")
    err = _trunq(tmp_path, "logs", name, "--stderr").stdout
    assert err.startswith("Traceback (most recent call last)")
    assert 'raise ValueError("broken on purpose")' in err and err.rstrip().endswith("ValueError: broken on purpose")
    assert _trunq(tmp_path, "logs", name).stdout == "about to break\n"
