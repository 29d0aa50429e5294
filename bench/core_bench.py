"""Core benchmark: local scheduler throughput, scaling and memory.

    python bench/core_bench.py                 # full table (N = 1k, 10k, 100k; workers 1 and 2)
    python bench/core_bench.py --quick         # N = 1k and 10k only
    python bench/core_bench.py --luigi         # also luigi at N = 1k (it is O(N^2): larger N take minutes)
    python bench/core_bench.py --anchors       # also the layered graph as a bare loop, engine-free Step calls and on Dask
    python bench/core_bench.py --cpu 200       # also 200 steps burning 20 ms of CPU each, 1 and 2 workers
    python bench/core_bench.py --million       # also layered 1,000,000 steps (1 worker) beside the bare loop

Each case runs in a fresh subprocess; outputs go to a temp dir on the normal disk
(``--dir /dev/shm`` to take the disk out of the figures). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("chain", "fanin", "layered", "complete")


def run_case(engine: str, kind: str, n: int, workers: int, base: str, record: bool) -> dict:
    env = dict(os.environ, TRUNQ_RECORD_STEPS="1" if record else "0",
               TRUNQ_RUNS_DIR=os.path.join(base, "runs"))
    proc = subprocess.run([sys.executable, os.path.join(HERE, "run_case.py"), engine, kind, str(n), str(workers), base],
                          capture_output=True, text=True, env=env, cwd=base)
    if proc.returncode != 0:
        return {"engine": engine, "kind": kind, "n": n, "workers": workers, "ok": False,
                "seconds": float("nan"), "steps_per_s": float("nan"), "peak_rss_mb": float("nan"),
                "error": proc.stderr.strip().splitlines()[-1:] }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--luigi", action="store_true")
    parser.add_argument("--anchors", action="store_true",
                        help="layered graph also as a bare loop and engine-free Step calls (every N) and on Dask (N <= 10k)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-record", action="store_true", help="switch Run recording off")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--sizes", default="")
    parser.add_argument("--cpu", type=int, default=0, metavar="N",
                        help="also the 'cpu' workload (layered, 20 ms of CPU per step) at N steps")
    parser.add_argument("--million", action="store_true",
                        help="also layered 1,000,000 steps with 1 worker, beside the bare loop (peak RSS)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] or ([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000])
    base = tempfile.mkdtemp(prefix="trunq-bench-", dir=args.dir)
    rows = []
    try:
        for n in sizes:
            for kind in args.kinds.split(","):
                for workers in (1, 2):
                    rows.append(run_case("trunq", kind, n, workers, base, not args.no_record))
                    print(_row(rows[-1]), flush=True)
            if args.anchors:
                for engine, workers in _anchor_cases(n):
                    rows.append(run_case(engine, "layered", n, workers, base, False))
                    print(_row(rows[-1]), flush=True)
        if args.cpu:
            for workers in (1, 2):
                rows.append(run_case("trunq", "cpu", args.cpu, workers, base, not args.no_record))
                print(_row(rows[-1]), flush=True)
        if args.million:
            for engine in ("trunq", "bare", "step-api"):
                rows.append(run_case(engine, "layered", 1_000_000, 1, base, not args.no_record))
                print(_row(rows[-1]), flush=True)
        if args.luigi:
            for kind in KINDS:
                rows.append(run_case("luigi", kind, 1_000, 1, base, False))
                print(_row(rows[-1]), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print("| engine | workload | N | workers | wall s | steps/s | peak RSS MB | ok |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(_row(row))
    _print_ratios(rows)


def _print_ratios(rows: list[dict]) -> None:
    """trunq's layered wall time over the bare loop's (the issue-14 target: <= 3) and over
    the step-api floor (the same Step calls without an engine) at the same N."""
    floors = {engine: {row["n"]: row["seconds"] for row in rows if row["engine"] == engine}
              for engine in ("bare", "step-api")}
    lines = []
    for row in rows:
        bare, api = floors["bare"].get(row["n"]), floors["step-api"].get(row["n"])
        if row["engine"] == "trunq" and row["kind"] == "layered" and bare:
            over_api = f"{row['seconds'] / api:.2f}" if api else "-"
            lines.append(f"| layered | {row['n']:,} | {row['workers']} | {row['seconds'] / bare:.2f} | {over_api} |")
    if lines:
        print()
        print("| workload | N | workers | trunq / bare | trunq / step-api |")
        print("|---|---|---|---|---|")
        print("\n".join(lines))


def _anchor_cases(n: int) -> list[tuple[str, int]]:
    cases = [("bare", 1), ("step-api", 1)]
    if n <= 10_000:  # Dask's per-task overhead makes larger graphs take minutes
        cases += [("dask-threads", 1), ("dask-threads", 2), ("dask-distributed", 2)]
    return cases


def _row(row: dict) -> str:
    return (f"| {row['engine']} | {row['kind']} | {row['n']:,} | {row['workers']} | {row['seconds']} | "
            f"{row['steps_per_s']:,} | {row['peak_rss_mb']} | {'yes' if row['ok'] else 'NO'} |")


if __name__ == "__main__":
    main()
