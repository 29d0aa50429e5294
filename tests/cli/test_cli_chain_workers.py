"""`trunq ... --workers 2` on a chain, as a user types it: a step that kills its process
fails alone, the steps after it wait, and a rerun goes on from there."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

CHAIN = textwrap.dedent('''
    import os
    import trunq

    class Link(trunq.Step):
        n = trunq.IntParameter()

        def requires(self):
            return Link(n=self.n - 1) if self.n > 0 else []

        def output(self):
            return trunq.LocalTarget(f"out/link-{self.n}")

        def run(self):
            with open("ran.log", "a") as log:
                log.write(f"{self.n} {os.getpid()}\\n")
            if self.n == 30 and not os.path.exists("fixed"):
                os._exit(9)  # the process dies mid-chain
            with self.output().open("w") as f:
                f.write("x")
''')


def trunq_chain(project: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "TRUNQ_CONFIG_PATH"}
    return subprocess.run(["trunq", "--module", "chain_module", "Link", "--n", "60", "--local-scheduler",
                           "--workers", "2"], cwd=project, capture_output=True, text=True, env=env, timeout=120)


def ran(project: Path) -> list[int]:
    return [int(line.split()[0]) for line in (project / "ran.log").read_text().splitlines()]


def test_a_chain_under_two_workers_fails_only_the_crashed_step_and_resumes(tmp_path: Path) -> None:
    (tmp_path / "chain_module.py").write_text(CHAIN)
    first = trunq_chain(tmp_path)
    assert first.returncode != 0
    assert "Traceback" not in first.stderr
    assert "1 failed" in first.stdout and "Link(n=30)" in first.stdout, first.stdout
    assert "had failed dependencies" in first.stdout and "Link(n=31...60)" in first.stdout, first.stdout
    assert "30 ran successfully" in first.stdout
    assert "worker process died: exit code 9" in first.stderr
    assert ran(tmp_path) == list(range(31))  # nothing after the crash ran

    (tmp_path / "fixed").write_text("")
    second = trunq_chain(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert ran(tmp_path)[31:] == list(range(30, 61))
    assert all((tmp_path / "out" / f"link-{n}").exists() for n in range(61))
