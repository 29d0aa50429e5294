"""Bulk completeness (bulk_complete and directory listings) and the monitoring events, in process."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import pytest
from my_steps import BulkDaily, MyStep, NestedDaily

import trunq
from trunq.core.target import FileSystemTarget
from trunq.tools.range import RangeDaily, RangeDailyBase, RangeEvent


def epoch(day: datetime.date) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp())


START = datetime.date(2021, 1, 1)
THREE_YEARS = [START + datetime.timedelta(days=n) for n in range(3 * 365)]
STOP = THREE_YEARS[-1] + datetime.timedelta(days=1)


def write_nested(out: Path, days: list[datetime.date]) -> None:
    for day in days:
        path = out / "nested" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


@pytest.fixture
def no_exists_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any per-file exists() call: the listing inference must make none."""
    calls: list[str] = []
    original = FileSystemTarget.exists

    def counting_exists(self: FileSystemTarget) -> bool:
        calls.append(self.path)
        return original(self)

    monkeypatch.setattr(FileSystemTarget, "exists", counting_exists)
    return calls


def test_listing_inference_checks_three_years_quickly(workdir, no_exists_calls):
    missing = set(THREE_YEARS[::10])  # 10% missing
    write_nested(workdir / "out", [d for d in THREE_YEARS if d not in missing])
    listed: list[str] = []
    original_listdir = os.listdir
    os.listdir = lambda path=".": listed.append(path) or original_listdir(path)  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        steps = RangeDaily(of=NestedDaily, start=START, stop=STOP, step_limit=5000, now=epoch(STOP)).requires()
        elapsed = time.perf_counter() - started
    finally:
        os.listdir = original_listdir  # type: ignore[assignment]
    assert sorted(step.date for step in steps) == sorted(missing)
    assert no_exists_calls == []
    assert len(listed) == 36 and len(set(listed)) == 36  # one listing per month directory
    assert elapsed < 1.0


def test_missing_directories_count_as_missing_outputs(workdir):
    steps = RangeDaily(of=NestedDaily, start=START, stop=START + datetime.timedelta(days=3),
                       now=epoch(STOP)).requires()
    assert [step.date for step in steps] == [START, START + datetime.timedelta(days=1),
                                             START + datetime.timedelta(days=2)]


def test_range_daily_base_checks_each_day(workdir, no_exists_calls):
    RangeDailyBase(of=NestedDaily, start=START, stop=START + datetime.timedelta(days=4),
                   now=epoch(STOP)).requires()
    assert len(no_exists_calls) == 4


def test_bulk_complete_is_used_once_with_of_params(workdir):
    out = workdir / "out"
    (out / "bulk_done.txt").write_text("2021-01-02\n2021-01-04\n")
    rng = RangeDaily(of=BulkDaily, of_params={"region": "us"}, start=START,
                     stop=START + datetime.timedelta(days=5), now=epoch(STOP))
    steps = rng.requires()
    assert [step.date.day for step in steps] == [1, 3, 5]
    assert all(step.region == "us" for step in steps)
    assert (out / "bulk_calls.txt").read_text().split() == ["5"]


def test_bulk_range_builds_only_the_missing_days(workdir):
    out = workdir / "out"
    (out / "bulk_done.txt").write_text("2021-01-02\n")
    rng = RangeDaily(of=BulkDaily, start=START, stop=START + datetime.timedelta(days=3), now=epoch(STOP))
    assert trunq.build([rng], local_scheduler=True)
    assert sorted((out / "bulk_done.txt").read_text().split()) == ["2021-01-01", "2021-01-02", "2021-01-03"]


def test_range_events_report_missing_count_and_delay(workdir):
    seen: dict[str, tuple] = {}
    handlers = {event: (lambda e: lambda *args: seen.__setitem__(e, args))(event)
                for event in (RangeEvent.COMPLETE_COUNT, RangeEvent.COMPLETE_FRACTION, RangeEvent.MISSING_COUNT,
                              RangeEvent.OLDEST_MISSING, RangeEvent.DELAY)}
    for event, handler in handlers.items():
        RangeDaily.event_handler(event)(handler)
    try:
        write_nested(workdir / "out", [START, START + datetime.timedelta(days=1), START + datetime.timedelta(days=3)])
        now = START + datetime.timedelta(days=5)
        RangeDaily(of=NestedDaily, start=START, now=epoch(now)).requires()
    finally:
        for event, handler in handlers.items():
            RangeDaily.remove_event_handler(event, handler)
    assert seen[RangeEvent.COMPLETE_COUNT] == ("NestedDaily", 3)
    assert seen[RangeEvent.MISSING_COUNT] == ("NestedDaily", 2)
    assert seen[RangeEvent.COMPLETE_FRACTION] == ("NestedDaily", 0.6)
    oldest = datetime.datetime(2021, 1, 3)
    assert seen[RangeEvent.OLDEST_MISSING] == ("NestedDaily", oldest)
    assert seen[RangeEvent.DELAY] == ("NestedDaily", 48.0)  # day 3 ended 48 hours before day 6 began


def test_step_ids_differ_by_of_params(workdir):
    plain = RangeDaily(of=MyStep, start=START)
    with_params = RangeDaily(of=MyStep, start=START, of_params={"my_int_param": 1})
    assert plain.step_id != with_params.step_id
    assert "my_int_param" in with_params.to_str_params()["of_params"]
