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

ANCHORS = ("bare", "step-api", "dask-threads", "dask-distributed")


def _run_anchor(engine: str, n: int, workers: int, out: str) -> tuple[bool, float]:
    """Time one anchor on the layered graph; a dask cluster is started before the clock."""
    import anchors

    if engine == "dask-distributed":
        client, cluster = anchors.start_dask_cluster(workers)
        try:
            started = time.perf_counter()
            ok = anchors.run_dask_distributed(client, n, out)
            return ok, time.perf_counter() - started
        finally:
            client.close()
            cluster.close()
    if engine == "step-api":
        import trunq

        layer_cls = type(define(trunq, trunq.WrapperStep, trunq.LocalTarget)("layered", n, out).requires()[0])
        started = time.perf_counter()
        return anchors.run_step_api(layer_cls, n, out), time.perf_counter() - started
    started = time.perf_counter()
    ok = anchors.run_bare(n, out) if engine == "bare" else anchors.run_dask_threads(n, out, workers)
    return ok, time.perf_counter() - started


def main() -> None:
    engine, kind, n, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    base = sys.argv[5] if len(sys.argv) > 5 else tempfile.gettempdir()
    out = tempfile.mkdtemp(prefix=f"bench-{engine}-{kind}-", dir=base)
    if kind == "complete":
        prepare_complete(n, out)
    if engine in ANCHORS:
        ok, elapsed = _run_anchor(engine, n, workers, out)
    elif engine == "trunq":
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
    if engine not in ANCHORS:
        elapsed = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "kind": kind, "n": n, "workers": workers, "ok": bool(ok),
                      "seconds": round(elapsed, 3), "steps_per_s": round(n / elapsed, 1),
                      "peak_rss_mb": round(rss_mb, 1)}))


if __name__ == "__main__":
    main()
