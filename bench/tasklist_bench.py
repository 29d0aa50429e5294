"""TaskList overhead: 2,000 trivial deferred tasks, nprocesses=2, beside multiprocessing.Pool.

    python bench/tasklist_bench.py [--tasks 2000] [--nprocesses 2] [--fresh-sample 100]

Prints a Markdown table (also written to bench/tasklist_results.md). "Overhead per task" is
the extra time one worker spends per task compared with a Pool: (TaskList wall - Pool wall)
* nprocesses / tasks. The fresh-interpreter row runs a sample through ``exec_task`` (a new
``python -m trunq.tasklist`` per task, what a remote worker would do) to show why the local
backend forks warm runner processes instead.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def trivial(value: int) -> int:
    return value * 2


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children: robust when the machine is busy."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def time_pool(tasks: int, nprocesses: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of Pool.map over the same function."""
    cpu, started = cpu_seconds(), time.perf_counter()
    with multiprocessing.get_context("fork").Pool(nprocesses) as pool:
        results = pool.map(trivial, range(tasks), chunksize=1)
    assert results[-1] == trivial(tasks - 1)
    return time.perf_counter() - started, cpu_seconds() - cpu


def time_tasklist(tasks: int, nprocesses: int, durable: bool) -> tuple[float, float, float]:
    """(schedule s, run wall s, run CPU s) in a fresh interpreter so TRUNQ_TASKLIST_FSYNC applies."""
    script = f"""
import time, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from tasklist_bench import trivial, cpu_seconds
from trunq.tasklist import TaskList, defer
tl = TaskList({tempfile.mkdtemp(prefix='tlbench-')!r} + '/tl', post_clean=True)
started = time.perf_counter()
for value in range({tasks}):
    tl.schedule(defer(trivial, value))
scheduled, cpu = time.perf_counter(), cpu_seconds()
done = sum(1 for task in tl.run(nprocesses={nprocesses}) if task.errorvalue is None)
finished = time.perf_counter()
assert done == {tasks}, done
print(scheduled - started, finished - scheduled, cpu_seconds() - cpu)
"""
    env = dict(os.environ, TRUNQ_TASKLIST_FSYNC="1" if durable else "0")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    schedule_seconds, run_seconds, cpu = map(float, out.stdout.split())
    return schedule_seconds, run_seconds, cpu


def time_fresh_interpreters(sample: int) -> float:
    """Seconds per task when every task starts a new interpreter (one at a time)."""
    from trunq.tasklist import TaskJob, TaskList, defer, exec_task, supervise

    tl = TaskList(Path(tempfile.mkdtemp(prefix="tlbench-")) / "tl", post_clean=True)
    uuids = [tl.schedule(defer(abs, -value)) for value in range(sample)]
    started = time.perf_counter()
    for task_uuid in uuids:
        supervise(TaskJob(str(tl.directory), task_uuid), exec_task)
    return (time.perf_counter() - started) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--nprocesses", type=int, default=2)
    parser.add_argument("--fresh-sample", type=int, default=100)
    args = parser.parse_args()
    n, p = args.tasks, args.nprocesses

    pool, pool_cpu = time_pool(n, p)
    rows = [("multiprocessing.Pool (map, chunksize=1)", "-", pool, 0.0, pool_cpu)]
    for durable in (True, False):
        schedule_s, run_s, run_cpu = time_tasklist(n, p, durable)
        label = "TaskList.run, local backend" + (" (fsync on, default)" if durable else " (TRUNQ_TASKLIST_FSYNC=0)")
        rows.append((label, f"{n / schedule_s:,.0f}", run_s, (run_s - pool) * p / n, run_cpu))
    fresh = time_fresh_interpreters(args.fresh_sample)
    load = os.getloadavg()[0]

    lines = [
        f"## TaskList benchmark: {n} trivial tasks, nprocesses={p}",
        "",
        f"`python bench/tasklist_bench.py` on {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} when it finished.",
        "",
        "| runner | schedule (tasks/s) | run wall (s) | tasks/s | overhead per task vs Pool (ms) "
        "| CPU per task, all processes (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for label, schedule_rate, wall, overhead, cpu in rows:
        lines.append(f"| {label} | {schedule_rate} | {wall:.2f} | {n / wall:,.0f} | {overhead * 1000:.2f} "
                     f"| {cpu * 1000 / n:.2f} |")
    lines += [
        f"| fresh interpreter per task (`exec_task`, {args.fresh_sample} tasks, serial) | - | - | "
        f"{1 / fresh:,.0f} | {fresh * 1000:.1f} (latency) | - |",
        "",
        "Overhead per task = (TaskList wall - Pool wall) x nprocesses / tasks: the extra worker time",
        "per task for its own process group, the atomic todo/done files, the claim, and the Run record.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (Path(__file__).parent / "tasklist_results.md").write_text(text)


if __name__ == "__main__":
    main()
