"""``--workers N`` hands short steps to its processes in chunks: one message, many steps,
each still its own job (own outcome, crash attribution, time limit)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import trunq
from trunq.execution import pool as pool_module


class Tiny(trunq.Step):
    n = trunq.IntParameter()
    root = trunq.Parameter(significant=False)
    crash_from = trunq.IntParameter(default=-1, significant=False)

    def output(self):
        return trunq.LocalTarget(os.path.join(self.root, f"tiny-{self.n}"))

    def run(self):
        with open(os.path.join(self.root, "runs.log"), "a") as log:  # one line per execution
            log.write(f"{self.n}\n")
        if crashes(self.n, self.crash_from):
            os._exit(3)
        with self.output().open("w") as f:
            f.write("ok")


def crashes(n: int, crash_from: int) -> bool:
    """From ``crash_from`` on, every 50th step kills its process (several crashes, so at
    least one strikes inside a chunk whatever sizes the chunks took)."""
    return 0 <= crash_from <= n and (n - crash_from) % 50 == 0


class Timed(Tiny):
    worker_timeout = 30


class AllTiny(trunq.WrapperStep):
    count = trunq.IntParameter()
    root = trunq.Parameter(significant=False)
    crash_from = trunq.IntParameter(default=-1, significant=False)
    timed = trunq.BoolParameter(default=False, significant=False)

    def requires(self):
        family = Timed if self.timed else Tiny
        return [family(n=n, root=self.root, crash_from=self.crash_from) for n in range(self.count)]


@pytest.fixture
def sent_chunks(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The step numbers of every message the pool sends to a process."""
    chunks: list[list[int]] = []
    original = pool_module._Worker.send

    def recording(self, chunk):
        chunks.append([getattr(request.step, "n", -1) for request in chunk])
        original(self, chunk)

    monkeypatch.setattr(pool_module._Worker, "send", recording)
    return chunks


def executions(root: Path) -> Counter[int]:
    return Counter(int(line) for line in (root / "runs.log").read_text().split())


def test_short_steps_travel_in_chunks_and_each_runs_once(tmp_path: Path, sent_chunks: list[list[int]]) -> None:
    result = trunq.build([AllTiny(count=400, root=str(tmp_path))], workers=2, detailed_summary=True, progress=False)
    assert result.scheduling_succeeded
    assert max(len(chunk) for chunk in sent_chunks) > 1
    assert len(sent_chunks) < 400
    assert executions(tmp_path) == Counter(range(400))


def test_a_process_that_dies_mid_chunk_fails_only_its_step(tmp_path: Path, sent_chunks: list[list[int]]) -> None:
    crash_from = 225  # late enough that the chunks have grown
    crashing = [n for n in range(400) if crashes(n, crash_from)]
    result = trunq.build([AllTiny(count=400, root=str(tmp_path), crash_from=crash_from)], workers=2,
                         detailed_summary=True, progress=False)
    assert not result.scheduling_succeeded
    carriers = [next(chunk for chunk in sent_chunks if n in chunk) for n in crashing]
    assert any(chunk[-1] != n for chunk, n in zip(carriers, crashing)), "a crash should strike inside a chunk"
    assert sorted(step.n for step in result.categories["failed"]) == crashing
    nodes = result.worker.core.nodes
    assert all("exit code 3" in nodes[Tiny(n=n, root=str(tmp_path)).step_id].expl for n in crashing)
    assert executions(tmp_path) == Counter(range(400))  # the rest of each chunk ran once, elsewhere
    assert all((tmp_path / f"tiny-{n}").exists() for n in range(400) if n not in crashing)


def test_steps_with_a_time_limit_travel_alone(tmp_path: Path, sent_chunks: list[list[int]]) -> None:
    assert trunq.build([AllTiny(count=100, root=str(tmp_path), timed=True)], workers=2, progress=False)
    assert sent_chunks and all(len(chunk) == 1 for chunk in sent_chunks)
