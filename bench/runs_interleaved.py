"""One layered build in which every other step is recorded as a Run: the cost of recording
measured inside one build, so that the load drifts of a shared machine hit both halves alike.

    python bench/runs_interleaved.py STEPS FOLDER     # prints one JSON line

The recorded and unrecorded halves are timed around ``execute_step`` (which holds the whole
recording: the context, the capture, the journal line and its share of the group writes).
Fixed costs per build (importing ``trunq.runs``, the first journal open) are not in it.
Used by ``bench/runs_overhead.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from contextlib import nullcontext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import define  # noqa: E402


def main() -> None:
    steps, folder = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("TRUNQ_RUNS_DIR", os.path.join(folder, "runs"))
    import trunq
    import trunq.execution.dispatch
    import trunq.execution.execute
    from trunq.runs.steps import record_step

    flip = [False]
    recorded: set[int] = set()

    def every_other(step, deps):  # stands in for trunq.execution.execute._record
        flip[0] = not flip[0]
        if not flip[0]:
            return nullcontext()
        recorded.add(id(step))
        return record_step(step, deps)

    durations: dict[bool, list[int]] = {True: [], False: []}
    execute = trunq.execution.dispatch.execute_step

    def timed(step, reporter=None, **options):
        started = time.perf_counter_ns()
        outcome = execute(step, reporter, **options)
        durations[id(step) in recorded].append(time.perf_counter_ns() - started)
        return outcome

    trunq.execution.execute._record = every_other
    trunq.execution.dispatch.execute_step = timed
    root = define(trunq, trunq.WrapperStep, trunq.LocalTarget)("layered", steps, folder)
    started = time.perf_counter()
    assert trunq.build([root], workers=1, progress=False)
    per_step = (time.perf_counter() - started) / steps * 1e6
    extra = (statistics.mean(durations[True]) - statistics.mean(durations[False])) / 1000
    baseline = per_step - extra / 2  # half the steps were recorded
    print(json.dumps({"per_step_us": round(per_step, 2), "extra_us": round(extra, 2),
                      "baseline_us": round(baseline, 2), "overhead_pct": round(100 * extra / baseline, 2)}))


if __name__ == "__main__":
    main()
