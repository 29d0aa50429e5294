"""Cost of the Redis state store per step: round trips and microseconds per operation.

    python bench/redis_store_bench.py [--steps 2000] [--ui-steps 100000] [--url redis://...]

Without ``--url`` (or ``$TRUNQ_REDIS_URL``) it starts a private redis-server on a free
loopback port and stops it by PID at the end. Results go to bench/redis_store_results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis.connection

from trunq.scheduler.redis import RedisStateStore
from trunq.scheduler.state import StepRecord

RESULTS = Path(__file__).with_name("redis_store_results.md")


class RoundTrips:
    """Counts requests written to Redis (a pipeline or a script call is one)."""

    count = 0

    @classmethod
    @contextmanager
    def counting(cls) -> Iterator[None]:
        original = redis.connection.AbstractConnection.send_packed_command

        def counted(self, command, check_health=True):
            cls.count += 1
            return original(self, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted
        try:
            yield
        finally:
            redis.connection.AbstractConnection.send_packed_command = original


@contextmanager
def private_redis() -> Iterator[str]:
    binary = os.environ.get("TRUNQ_REDIS_SERVER") or shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: set TRUNQ_REDIS_SERVER or pass --url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="trunq-bench-")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        probe = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        probe.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def given_redis(url: str) -> Iterator[str]:
    yield url


def timed(samples: dict[str, list[float]], name: str, call: Callable[[], object]) -> object:
    began = time.perf_counter()
    result = call()
    samples.setdefault(name, []).append((time.perf_counter() - began) * 1e6)
    return result


def step_lifecycle(store: RedisStateStore, steps: int) -> tuple[dict[str, list[float]], float]:
    records = [StepRecord(f"Bench(i={i})", "Bench") for i in range(steps)]
    store.register(records)
    samples: dict[str, list[float]] = {}
    with RoundTrips.counting():
        RoundTrips.count = 0
        for record in records:
            sid = record.step_id
            token = timed(samples, "acquire", lambda sid=sid: store.acquire(sid, "bench", 60_000))
            timed(samples, "start", lambda sid=sid, token=token: store.start(sid, token, "w1"))
            timed(samples, "finish", lambda sid=sid, token=token: store.finish([(sid, token)], "DONE"))
        trips = RoundTrips.count / steps
    return samples, trips


def ui_reads(store: RedisStateStore, ui_steps: int) -> tuple[float, dict[str, list[float]]]:
    records = [StepRecord(f"F{i % 20}(i={i})", f"F{i % 20}") for i in range(ui_steps)]
    began = time.perf_counter()
    store.register(records)
    register_s = time.perf_counter() - began
    samples: dict[str, list[float]] = {}
    for _ in range(20):
        timed(samples, "list_steps page 50", lambda: store.list_steps(limit=50))
        timed(samples, "list_steps status+family, offset 2000", lambda: store.list_steps(
            status="PENDING", family="F7", offset=2000, limit=50))
        timed(samples, "status_counts + family_counts", lambda: (store.status_counts(), store.family_counts()))
        timed(samples, "search (full scan)", lambda: store.list_steps(search="i=4242"))
    return register_s, samples


def report(steps: int, ui_steps: int, lifecycle: dict[str, list[float]], trips: float,
           register_s: float, ui: dict[str, list[float]]) -> str:
    per_step = sum(statistics.median(values) for values in lifecycle.values())
    lines = [
        "# Redis state store micro-benchmark",
        "",
        f"`python bench/redis_store_bench.py --steps {steps} --ui-steps {ui_steps}` on "
        f"{platform.node()} ({os.cpu_count()} CPUs, Python {platform.python_version()}), "
        f"{time.strftime('%Y-%m-%d %H:%M')}; client and a private redis-server on one host, loopback.",
        "",
        f"## Step lifecycle ({steps} steps)",
        "",
        f"Round trips per step for acquire + start + finish: **{trips:.2f}**; "
        f"median total **{per_step:.0f} µs/step**.",
        "",
        "| operation | median µs | p95 µs |",
        "|---|---|---|",
        *_rows(lifecycle),
        "",
        f"## UI reads with {ui_steps} steps",
        "",
        f"register of {ui_steps} steps: {register_s:.2f} s ({register_s / ui_steps * 1e6:.0f} µs/step).",
        "",
        "| read | median µs | p95 µs |",
        "|---|---|---|",
        *_rows(ui),
        "",
    ]
    return "\n".join(lines)


def _rows(samples: dict[str, list[float]]) -> list[str]:
    rows = []
    for name, values in samples.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        rows.append(f"| {name} | {statistics.median(values):.0f} | {p95:.0f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--ui-steps", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("TRUNQ_REDIS_URL"))
    options = parser.parse_args()
    with (given_redis(options.url) if options.url else private_redis()) as url:
        store = RedisStateStore(url, namespace="trunq-bench")
        try:
            lifecycle, trips = step_lifecycle(store, options.steps)
            register_s, ui = ui_reads(store, options.ui_steps)
        finally:
            store.close()
    text = report(options.steps, options.ui_steps, lifecycle, trips, register_s, ui)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
