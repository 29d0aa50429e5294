"""Retries on a cluster: luigi's attempt count, DISABLED reported as a failure (exit 1),
dependents UPSTREAM_* in the store, and `trunq reenable`."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

MODULE = ["--module", "dist_steps", "--no-lock"]


def starts(dist_steps, root: Path, step_id: str) -> int:
    return sum(1 for event, sid, _, _ in dist_steps.executions(root) if event == "start" and sid == step_id)


def statuses(cluster, step_ids: list[str]) -> list[str]:
    store = cluster.store()
    try:
        return [record.status for record in store.get_many(step_ids)]
    finally:
        store.close()


def test_retry_count_one_runs_once_is_disabled_and_fails_the_build(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistTopOfFailure", *MODULE, "--root", str(root))
    failing = dist_steps.DistAlwaysFails(root=str(root)).step_id
    middle = dist_steps.DistAfterFailure(root=str(root)).step_id
    top = dist_steps.DistTopOfFailure(root=str(root)).step_id
    assert result.returncode == 1, result.stderr + result.stdout
    assert starts(dist_steps, root, failing) == 1  # luigi: disabled after retry_count failures
    assert "1 failed" in result.stdout and ":(" in result.stdout
    assert "had failed dependencies" in result.stdout
    assert f"trunq reenable {failing}" in result.stdout
    assert statuses(cluster, [failing, middle, top]) == ["DISABLED", "UPSTREAM_DISABLED", "UPSTREAM_DISABLED"]

    again = cluster.trunq("build", "DistAlwaysFails", *MODULE, "--root", str(root))
    assert again.returncode == 1 and starts(dist_steps, root, failing) == 1  # still disabled: not run

    reenabled = cluster.trunq("reenable", failing)
    assert reenabled.returncode == 0 and f"re-enabled {failing}" in reenabled.stdout
    assert statuses(cluster, [failing]) == ["FAILED"]
    third = cluster.trunq("build", "DistAlwaysFails", *MODULE, "--root", str(root))
    assert third.returncode == 1 and starts(dist_steps, root, failing) == 2


def test_retry_count_two_runs_twice(cluster, dist_steps, root: Path) -> None:
    result = cluster.trunq("build", "DistFailsTwice", *MODULE, "--root", str(root))
    step_id = dist_steps.DistFailsTwice(root=str(root)).step_id
    assert result.returncode == 1, result.stderr + result.stdout
    assert starts(dist_steps, root, step_id) == 2
    assert statuses(cluster, [step_id]) == ["DISABLED"]


def test_reenable_by_family(cluster, dist_steps, root: Path) -> None:
    cluster.trunq("build", "DistAlwaysFails", *MODULE, "--root", str(root))
    step_id = dist_steps.DistAlwaysFails(root=str(root)).step_id
    assert statuses(cluster, [step_id]) == ["DISABLED"]
    result = cluster.trunq("reenable", "--family", "DistAlwaysFails")
    assert result.returncode == 0 and step_id in result.stdout
    assert statuses(cluster, [step_id]) == ["FAILED"]


def test_a_history_row_has_the_steps_real_duration(cluster, dist_steps, root: Path) -> None:
    from trunq.history.store import History

    url = f"sqlite:///{root / 'history.sqlite3'}"
    result = cluster.trunq("build", "DistLeaf", *MODULE, "--root", str(root), "--n", "1", "--sleep", "0.5",
                           env=cluster.env(TRUNQ_HISTORY_URL=url))
    assert result.returncode == 0, result.stderr + result.stdout
    history = History.from_url(url)
    try:
        row = history.last_run(dist_steps.DistLeaf(root=str(root), n=1).step_id)
    finally:
        history.close()
    assert row is not None and row.status == "DONE"
    assert 0.5 <= row.duration < 10  # not the machine's uptime
