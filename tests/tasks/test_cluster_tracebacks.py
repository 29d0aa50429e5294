"""A failing step's traceback where luigi users look: the client's stderr and the Run's stderr
(`trunq logs RUN --stderr`), on a real cluster (redis-server + celery worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunq.runs._fs import safe_name

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock", "--no-progress"]
RAISING_LINE = 'raise RuntimeError("always fails")'


def _run_name(cluster, step_id: str) -> str:
    listed = cluster.trunq("runs", "--status", "error", "--type", "step", "--limit", "500")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()[1:]
             if line.startswith(safe_name(step_id) + "@")]
    assert len(names) == 1, listed.stdout
    return names[0]


def test_the_traceback_is_printed_by_the_client_and_kept_by_the_run(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistAlwaysFails", *MODULE, "--root", str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    # as luigi's client: the error line, then the whole traceback from the worker
    assert "DistAlwaysFails" in result.stderr and "failed: RuntimeError: always fails" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr and RAISING_LINE in result.stderr

    name = _run_name(cluster, dist_steps.DistAlwaysFails(root=str(root)).step_id)
    logs = cluster.trunq("logs", name, "--stderr")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.startswith("Traceback (most recent call last)")
    assert RAISING_LINE in logs.stdout and logs.stdout.rstrip().endswith("RuntimeError: always fails")
    assert cluster.trunq("logs", name).stdout == ""  # nothing was printed on stdout
