"""Overhead of recording every step execution as a Run, on the real engine.

    python bench/runs_overhead.py                     # 10,000-step layered DAG, 9 builds per case
    python bench/runs_overhead.py --steps 2000 --repeats 1

Builds the core benchmark's layered DAG (``bench/workloads.py``) with ``trunq.build(...,
workers=1)`` in a fresh process per case, with ``TRUNQ_RECORD_STEPS=0`` and ``=1``. The step
outputs and the runs root share one folder: a temp dir on the normal disk (``/tmp``) and one
on ``/dev/shm``. Prints steps/s (best of the repeats) and the overhead of recording (from the
best and from the median builds), as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def in_fresh_process(script: str, args: list[str], base: str, **env_extra: str) -> dict:
    """Run ``bench/<script> *args CASE_DIR`` in a fresh interpreter; its last JSON line, plus
    ``recorded``: the runs it left in ``CASE_DIR/runs``."""
    case_dir = tempfile.mkdtemp(prefix="case-", dir=base)
    env = dict(os.environ, TRUNQ_RUNS_DIR=os.path.join(case_dir, "runs"), **env_extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: imports read compiled bytecode
    try:
        proc = subprocess.run([sys.executable, os.path.join(HERE, script), *args, case_dir],
                              capture_output=True, text=True, env=env, cwd=case_dir, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{script} failed: {proc.stderr.strip().splitlines()[-1:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["recorded"] = _recorded_runs(os.path.join(case_dir, "runs"))
        return result
    finally:
        shutil.rmtree(case_dir, ignore_errors=True)


def _recorded_runs(root: str) -> int:
    """Run folders plus journal lines (not the header lines): what the readers will list."""
    if not os.path.isdir(root):
        return 0
    count = sum(1 for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    journal = os.path.join(root, ".journal")
    for entry in os.scandir(journal) if os.path.isdir(journal) else []:
        with open(entry.path, "rb") as handle:
            count += sum(1 for line in handle if not line.startswith(b'{"journal": '))
    return count


def rates(steps: int, base: str, repeats: int) -> tuple[list[float], list[float], int]:
    """Steps/s of each build with recording off and on; the cases alternate so that load drifts hit both."""
    off, on = [], []
    for _ in range(repeats):
        for record, results in (("0", off), ("1", on)):
            results.append(in_fresh_process("run_case.py", ["trunq", "layered", str(steps), "1"], base,
                                            TRUNQ_RECORD_STEPS=record))
    return [r["steps_per_s"] for r in off], [r["steps_per_s"] for r in on], on[-1]["recorded"]


def interleaved(steps: int, base: str, repeats: int) -> list[dict]:
    """``bench/runs_interleaved.py`` builds: every other step recorded, timed inside one build."""
    return [in_fresh_process("runs_interleaved.py", [str(steps)], base) for _ in range(repeats)]


def in_each_dir(dirs: str, measure):
    """``(parent, measure(temp dir under parent))`` for each existing parent folder in ``dirs``."""
    for parent in [d for d in dirs.split(",") if d and os.path.isdir(d)]:
        base = tempfile.mkdtemp(prefix="trunq-runs-bench-", dir=parent)
        try:
            yield parent, measure(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dirs", default="/tmp,/dev/shm", help="comma-separated parent folders to test")
    options = parser.parse_args()
    print(f"layered DAG, {options.steps} steps, workers=1, {options.repeats} builds each\n")
    print("| disk | recording off (steps/s, best) | recording on (steps/s, best) | overhead (best) "
          "| overhead (medians) | runs recorded |")
    print("|---|---:|---:|---:|---:|---:|")
    for parent, (off, on, recorded) in in_each_dir(options.dirs, lambda base: rates(options.steps, base,
                                                                                      options.repeats)):
        best = (max(off) / max(on) - 1) * 100
        typical = (statistics.median(off) / statistics.median(on) - 1) * 100
        print(f"| {parent} | {max(off):,.0f} | {max(on):,.0f} | {best:.1f}% | {typical:.1f}% | {recorded:,} |",
              flush=True)
    print("\nInside one build, every other step recorded (median of the repeats):\n")
    print("| disk | µs per step, recording off | µs added per recorded step | overhead |")
    print("|---|---:|---:|---:|")
    for parent, results in in_each_dir(options.dirs, lambda base: interleaved(options.steps, base, options.repeats)):
        median = sorted(results, key=lambda r: r["overhead_pct"])[len(results) // 2]
        every = ", ".join(f"{r['overhead_pct']:.1f}%" for r in results)
        print(f"| {parent} | {median['baseline_us']:.1f} | {median['extra_us']:.1f} | "
              f"{median['overhead_pct']:.1f}% (runs: {every}) |", flush=True)


if __name__ == "__main__":
    main()
