"""Run one benchmark case in this process and print one JSON line (used by core_bench.py)."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time

sys.setrecursionlimit(1_000_000)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import define, prepare_complete  # noqa: E402


def main() -> None:
    engine, kind, n, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    base = sys.argv[5] if len(sys.argv) > 5 else tempfile.gettempdir()
    out = tempfile.mkdtemp(prefix=f"bench-{engine}-{kind}-", dir=base)
    if kind == "complete":
        prepare_complete(n, out)
    if engine == "trunq":
        import trunq

        make_root = define(trunq, trunq.WrapperStep, trunq.LocalTarget)
        root = make_root(kind, n, out)
        started = time.perf_counter()
        result = trunq.build([root], workers=workers, detailed_summary=True, progress=False)
        ok = result.scheduling_succeeded
    else:
        import logging

        import luigi

        logging.disable(logging.CRITICAL)
        make_root = define(luigi, luigi.WrapperTask, luigi.LocalTarget)
        root = make_root(kind, n, out)
        started = time.perf_counter()
        ok = luigi.build([root], workers=workers, local_scheduler=True, log_level="CRITICAL")
    elapsed = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "kind": kind, "n": n, "workers": workers, "ok": bool(ok),
                      "seconds": round(elapsed, 3), "steps_per_s": round(n / elapsed, 1),
                      "peak_rss_mb": round(rss_mb, 1)}))


if __name__ == "__main__":
    main()
