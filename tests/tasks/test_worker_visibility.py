"""What Celery's own monitoring shows of a step, and where a step's output goes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.cluster

MARKER = "printer-marker-7b1e"


def active_names(cluster) -> list[str]:  # noqa: ANN001
    result = subprocess.run(["celery", "-A", "trunq", "inspect", "active", "--json", "--timeout", "5"],
                            capture_output=True, text=True, env=cluster.env(), cwd=cluster.workdir, timeout=60)
    names = []
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            for tasks in json.loads(line).values():
                names += [task["name"] for task in tasks] + [str(task.get("args")) for task in tasks]
    return names


def test_monitoring_names_the_step_and_its_output_stays_in_its_run(cluster, dist_steps, root: Path) -> None:
    from visibility_steps import VisiblePrinter

    step_id = VisiblePrinter(root=str(root)).step_id
    client = cluster.spawn("build", "VisiblePrinter", "--module", "visibility_steps", "--no-lock", "--root", str(root))
    try:
        wait_for(lambda: any(step_id in name for name in active_names(cluster)), 30, "the step in `inspect active`")
    finally:
        (root / "go").write_text("")
        out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err
    assert MARKER not in cluster.worker_logs()  # not echoed into the worker log as WARNING lines
    recorded = [path for path in (cluster.workdir / "runs").rglob("*") if path.is_file()
                and MARKER in path.read_text(errors="replace")]
    assert recorded, "the step's stdout is kept in its Run"
