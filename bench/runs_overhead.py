"""Overhead of recording step runs: ``python bench/runs_overhead.py [--steps N]``.

Runs N trivial steps (a few attribute reads, like the core benchmark's steps) bare and
inside ``record_step``, and prints the per-step cost and the overhead at 5,000 steps/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


class _Target:
    def __init__(self, path: str) -> None:
        self.path = path


class TrivialStep:
    step_family = "TrivialStep"

    def __init__(self, index: int) -> None:
        self.step_id = f"TrivialStep_{index}_abcdef0123"
        self._params = {"index": str(index)}

    def input(self) -> list[_Target]:
        return [_Target("/data/in_a.txt"), _Target("/data/in_b.txt")]

    def output(self) -> _Target:
        return _Target(f"/data/out_{self.step_id}.txt")

    def to_str_params(self) -> dict[str, str]:
        return self._params

    def run(self) -> None:
        return None


def _bare(steps: list[TrivialStep]) -> float:
    started = time.perf_counter()
    for step in steps:
        step.run()
    return time.perf_counter() - started


def _recorded(steps: list[TrivialStep]) -> tuple[float, float]:
    from trunq.runs.steps import flush_step_records, record_step

    started = time.perf_counter()
    for step in steps:
        with record_step(step):
            step.run()
    caller = time.perf_counter() - started
    flush_step_records(timeout=600)
    return caller, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        os.environ["TRUNQ_RUNS_DIR"] = root
        steps = [TrivialStep(index) for index in range(options.steps)]
        bare = _bare(steps)
        caller, drained = _recorded(steps)
        written = len(os.listdir(root))
    per_step_us = (caller - bare) / options.steps * 1e6
    budget_us = 1e6 / 5000
    print(f"steps: {options.steps}, run folders written: {written}")
    print(f"bare loop:            {bare / options.steps * 1e6:8.2f} us/step")
    print(f"recorded (caller):    {caller / options.steps * 1e6:8.2f} us/step "
          f"-> +{per_step_us:.2f} us = {per_step_us / budget_us * 100:.1f}% of a 200 us (5,000 steps/s) step")
    print(f"recorded (+ drained): {drained / options.steps * 1e6:8.2f} us/step (background writer finished)")


if __name__ == "__main__":
    main()
