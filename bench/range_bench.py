"""Time the completeness check of a 3-year daily range, trunq beside luigi, on the same files.

    python bench/range_bench.py            # writes bench/range_results.md

3 * 365 daily LocalTarget outputs ``data/YYYY-MM-DD.txt``, 90% present. Each tool works out
the missing days (``requires()`` of the range step, step limit large enough for all); the
median of several rounds is reported, for the bulk classes (RangeDaily) and the naive ones
(RangeDailyBase, one ``exists()`` per day).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import luigi
import luigi.task_register
import luigi.tools.range

import trunq
from trunq.core import registry
from trunq.tools.range import RangeDaily, RangeDailyBase

DAYS = 3 * 365
START = datetime.date(2020, 1, 1)
STOP = START + datetime.timedelta(days=DAYS)
NOW = int(datetime.datetime(STOP.year, STOP.month, STOP.day, tzinfo=datetime.UTC).timestamp())
ROUNDS = 7
DATA = Path(tempfile.mkdtemp(prefix="trunq-range-bench-"))


class TrunqDaily(trunq.Step):
    date = trunq.DateParameter()

    def output(self):
        return trunq.LocalTarget(str(DATA / f"{self.date:%Y-%m-%d}.txt"))


class LuigiDaily(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(str(DATA / f"{self.date:%Y-%m-%d}.txt"))


def make_data() -> int:
    missing = 0
    for n in range(DAYS):
        if n % 10 == 3:  # every tenth day is missing
            missing += 1
            continue
        day = START + datetime.timedelta(days=n)
        (DATA / f"{day:%Y-%m-%d}.txt").write_text("x\n")
    return missing


def trunq_check(cls: type) -> int:
    registry.clear_instance_cache()
    return len(cls(of=TrunqDaily, start=START, stop=STOP, now=NOW, step_limit=10_000).requires())


def luigi_check(cls: type) -> int:
    luigi.task_register.Register.clear_instance_cache()  # else requires() is served from the cache
    rng = cls(of=LuigiDaily, start=START, stop=STOP, now=NOW, task_limit=10_000, days_back=10_000)
    return len(rng.requires())


def median_seconds(check: Callable[[], int], expected: int) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        found = check()
        times.append(time.perf_counter() - started)
        assert found == expected, (found, expected)
    return statistics.median(times)


def main() -> None:
    import logging
    import warnings

    warnings.simplefilter("ignore", UserWarning)  # luigi warns about param_name=None
    logging.getLogger("luigi-interface").setLevel(logging.ERROR)
    expected = make_data()
    rows = [
        ("trunq RangeDaily (directory listing)", median_seconds(lambda: trunq_check(RangeDaily), expected)),
        ("luigi RangeDaily (infer_bulk_complete_from_fs)",
         median_seconds(lambda: luigi_check(luigi.tools.range.RangeDaily), expected)),
        ("trunq RangeDailyBase (exists() per day)", median_seconds(lambda: trunq_check(RangeDailyBase), expected)),
        ("luigi RangeDailyBase (exists() per day)",
         median_seconds(lambda: luigi_check(luigi.tools.range.RangeDailyBase), expected)),
    ]
    lines = [
        "# Range completeness check: 3 years of daily outputs, 90% present",
        "",
        f"`python bench/range_bench.py` on {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, luigi {getattr(luigi, '__version__', '?')}; {DAYS} daily LocalTarget outputs, "
        f"{expected} missing; median of {ROUNDS} rounds of `requires()` (missing days found, step instances made).",
        "",
        "| range class | median time |",
        "|---|---|",
        *[f"| {name} | {seconds * 1000:.1f} ms |" for name, seconds in rows],
        "",
        "On a local disk with a warm page cache `exists()` is cheap, so trunq's listing and per-day",
        "checks cost about the same here (most of the time is making the 1095 step instances); the",
        "listing pays off where each call is a round trip (one call per directory, not per day).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (Path(__file__).parent / "range_results.md").write_text(text)
    for path in DATA.iterdir():
        path.unlink()
    os.rmdir(DATA)


if __name__ == "__main__":
    sys.exit(main())
