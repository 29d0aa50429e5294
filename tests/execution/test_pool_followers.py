"""``--workers N`` on a chain: a lone ready step takes the steps that wait only on it (and
on each other) into its pool process, so a chain costs one message per chunk, not a round
trip per step. Each follower runs only if the step before it succeeded there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import trunq
from trunq.execution import pool as pool_module


class Link(trunq.Step):
    """Step n of a chain: needs step n - 1; ``fail_at`` raises, ``crash_at`` kills the process."""

    n = trunq.IntParameter()
    root = trunq.Parameter(significant=False)
    fail_at = trunq.IntParameter(default=-1, significant=False)
    crash_at = trunq.IntParameter(default=-1, significant=False)

    def requires(self):
        if self.n == 0:
            return []
        return Link(n=self.n - 1, root=self.root, fail_at=self.fail_at, crash_at=self.crash_at)

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, f"link-{self.n}"))

    def run(self):
        with open(os.path.join(self.root, "runs.log"), "a") as log:
            log.write(f"{self.n} {os.getpid()}\n")
        if self.n == self.crash_at:
            os._exit(3)
        if self.n == self.fail_at:
            raise RuntimeError(f"link {self.n} fails")
        with self.output().open("w") as f:
            f.write("ok")


class TimedLink(Link):
    worker_timeout = 30

    def requires(self):
        return TimedLink(n=self.n - 1, root=self.root) if self.n > 0 else []


class AfterTimed(Link):
    """A chain whose first step has a time limit (it must travel alone to keep it)."""

    def requires(self):
        return AfterTimed(n=self.n - 1, root=self.root) if self.n > 1 else TimedLink(n=0, root=self.root)


@pytest.fixture
def sent_chunks(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[int, bool]]]:
    """(step number, follows) of every request of every message the pool sends."""
    chunks: list[list[tuple[int, bool]]] = []
    original = pool_module._Worker.send

    def recording(self, chunk):
        chunks.append([(request.step.n, request.follows) for request in chunk])
        original(self, chunk)

    monkeypatch.setattr(pool_module._Worker, "send", recording)
    return chunks


def runs(root: Path) -> list[tuple[int, int]]:
    return [tuple(map(int, line.split())) for line in (root / "runs.log").read_text().splitlines()]


def build(step: Link) -> Any:
    return trunq.build([step], workers=2, detailed_summary=True, progress=False)


def test_a_chain_travels_in_chunks_and_runs_in_pool_processes_in_order(tmp_path: Path, sent_chunks) -> None:
    assert build(Link(n=299, root=str(tmp_path))).scheduling_succeeded
    ran = runs(tmp_path)
    assert [n for n, _ in ran] == list(range(300))  # each once, in order
    assert os.getpid() not in {pid for _, pid in ran}
    assert len(sent_chunks) < 30 and max(len(chunk) for chunk in sent_chunks) > 16
    for chunk in sent_chunks:  # a lone step, then steps that each follow the one before
        assert [follows for _, follows in chunk] == [False] + [True] * (len(chunk) - 1)
        assert [n for n, _ in chunk] == list(range(chunk[0][0], chunk[0][0] + len(chunk)))


def test_after_a_failure_the_rest_of_the_chunk_does_not_run(tmp_path: Path, sent_chunks) -> None:
    result = build(Link(n=299, root=str(tmp_path), fail_at=150))
    assert not result.scheduling_succeeded
    assert any(150 in [n for n, _ in chunk][:-1] for chunk in sent_chunks), "followers should wait behind 150"
    assert [n for n, _ in runs(tmp_path)] == list(range(151))
    assert [step.n for step in result.categories["failed"]] == [150]
    assert sorted(step.n for step in result.categories["upstream_failure"]) == list(range(151, 300))
    nodes = result.worker.core.nodes
    assert "link 150 fails" in nodes[Link(n=150, root=str(tmp_path)).step_id].expl


def test_a_crash_fails_its_step_and_its_followers_wait(tmp_path: Path, sent_chunks) -> None:
    result = build(Link(n=299, root=str(tmp_path), crash_at=150))
    assert not result.scheduling_succeeded
    assert [n for n, _ in runs(tmp_path)] == list(range(151))
    failed = result.categories["failed"]
    assert [step.n for step in failed] == [150]
    assert "exit code 3" in result.worker.core.nodes[failed[0].step_id].expl
    assert sorted(step.n for step in result.categories["upstream_failure"]) == list(range(151, 300))
    # the followers behind the crash went to the fresh process, which sent them back unrun
    resent = [chunk for chunk in sent_chunks if chunk[0] == (151, True)]
    assert len(resent) == 1


def test_a_rerun_after_the_failure_continues_the_chain(tmp_path: Path) -> None:
    assert not build(Link(n=99, root=str(tmp_path), fail_at=50)).scheduling_succeeded
    assert build(Link(n=99, root=str(tmp_path))).scheduling_succeeded
    assert [n for n, _ in runs(tmp_path)] == [*range(51), *range(50, 100)]


def test_steps_with_a_time_limit_are_never_followers(tmp_path: Path, sent_chunks) -> None:
    assert build(TimedLink(n=40, root=str(tmp_path))).scheduling_succeeded
    assert sent_chunks and all(len(chunk) == 1 for chunk in sent_chunks)


def test_a_step_with_a_time_limit_leads_no_chain(tmp_path: Path, sent_chunks) -> None:
    assert build(AfterTimed(n=40, root=str(tmp_path))).scheduling_succeeded
    assert sent_chunks[0] == [(0, False)]
    assert max(len(chunk) for chunk in sent_chunks) > 1  # the untimed rest do chain


def test_one_worker_process_has_no_followers_to_hand_out(tmp_path: Path) -> None:
    assert trunq.build([Link(n=50, root=str(tmp_path))], workers=1, progress=False)
    assert {pid for _, pid in runs(tmp_path)} == {os.getpid()}
