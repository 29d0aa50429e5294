"""Every spec 03 command line of the range sections, run as typed through ``trunq``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from my_steps import utc_today

pytestmark = pytest.mark.slow  # real `trunq` processes, seconds each


def made_days(directory: Path) -> list[datetime.date]:
    return sorted(datetime.date.fromisoformat(p.stem) for p in directory.iterdir()) if directory.exists() else []


def epoch(day: str) -> str:
    return str(int(datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.UTC).timestamp()))


REPORTS = ("SomeReport", "SomeOtherReport", "CropReport", "TPSReport", "FooBarBazReport")


def test_range_daily_base_keeps_recent_days_complete(run_trunq, workdir):
    result = run_trunq("--module", "all_reports", "RangeDailyBase", "--of", "AllReports",
                       "--start", "2015-01-01", "--local-scheduler")
    assert result.returncode == 0, result.stderr
    today = utc_today()
    for report in REPORTS:
        days = made_days(workdir / "out" / report)
        # step_limit 50 per invocation; the oldest missing first; within 100 days back; today excluded
        assert len(days) == 50
        assert days[0] == today - datetime.timedelta(days=100)
        assert days[-1] == today - datetime.timedelta(days=51)
    assert "50 AllReports" in result.stdout


def test_range_daily_closes_the_gaps_over_invocations(run_trunq, workdir):
    command = ("--module", "all_reports", "RangeDaily", "--of", "AllReports", "--start", "2015-01-01",
               "--local-scheduler")
    assert run_trunq(*command).returncode == 0
    second = run_trunq(*command)
    assert second.returncode == 0, second.stderr
    today = utc_today()
    expected = [today - datetime.timedelta(days=n) for n in range(100, 0, -1)]
    assert made_days(workdir / "out" / "TPSReport") == expected
    third = run_trunq(*command)
    assert third.returncode == 0 and "50 AllReports" not in third.stdout


def test_backfill_with_start_and_stop(run_trunq, workdir):
    command = ("--module", "all_reports", "RangeDaily", "--of", "AllReportsV2", "--start", "2014-10-31",
               "--stop", "2014-12-25", "--local-scheduler")
    first = run_trunq(*command)
    assert first.returncode == 0, first.stderr
    days = made_days(workdir / "out" / "ReportV2")
    assert len(days) == 50 and days[0] == datetime.date(2014, 10, 31)
    assert run_trunq(*command).returncode == 0
    days = made_days(workdir / "out" / "ReportV2")
    assert days[0] == datetime.date(2014, 10, 31) and days[-1] == datetime.date(2014, 12, 24)
    assert len(days) == 55  # stop is exclusive


def test_of_params_are_passed_onwards(run_trunq, workdir):
    result = run_trunq("RangeDaily", "--of", "MyStep", "--start", "2014-10-31", "--of-params",
                       '{"my_string_param": "123", "my_int_param": 123}', "--module", "my_steps",
                       "--local-scheduler")
    assert result.returncode == 0, result.stderr
    files = sorted((workdir / "out" / "MyStep").iterdir())
    assert len(files) == 50
    assert json.loads(files[0].read_text()) == {"string": "123", "int": 123, "param": 0}


def test_class_level_parameter_reaches_the_ranged_step(run_trunq, workdir):
    result = run_trunq("RangeDaily", "--of", "MyStep", "--start", "2014-10-31", "--MyStep-my-param", "123",
                       "--module", "my_steps", "--local-scheduler")
    assert result.returncode == 0, result.stderr
    files = sorted((workdir / "out" / "MyStep").iterdir())
    assert len(files) == 50
    assert all(json.loads(f.read_text())["param"] == 123 for f in files)


def test_reverse_and_task_limit_alias(run_trunq, workdir):
    result = run_trunq("--module", "all_reports", "RangeDaily", "--of", "AllReportsV2", "--start", "2020-01-01",
                       "--stop", "2020-02-01", "--reverse", "--task-limit", "3", "--local-scheduler")
    assert result.returncode == 0, result.stderr
    assert made_days(workdir / "out" / "ReportV2") == [datetime.date(2020, 1, d) for d in (29, 30, 31)]


def test_reverse_without_start_looks_back_from_now(run_trunq, workdir):
    result = run_trunq("--module", "my_steps", "RangeDaily", "--of", "MyStep", "--stop", "2024-03-08",
                       "--reverse", "--days-back", "5", "--step-limit", "2", "--now", epoch("2024-03-10"),
                       "--local-scheduler")
    assert result.returncode == 0, result.stderr
    # window [Mar 5, Mar 8): the newest two missing days
    assert made_days(workdir / "out" / "MyStep") == [datetime.date(2024, 3, 6), datetime.date(2024, 3, 7)]


def test_range_hourly_and_by_minutes(run_trunq, workdir):
    hourly = run_trunq("--module", "my_steps", "RangeHourly", "--of", "HourlyStep", "--start", "2024-01-01T20",
                       "--stop", "2024-01-02T02", "--now", epoch("2024-01-05"), "--local-scheduler")
    assert hourly.returncode == 0, hourly.stderr
    names = sorted(p.stem for p in (workdir / "out" / "hourly").iterdir())
    assert names == ["2024-01-01T20", "2024-01-01T21", "2024-01-01T22", "2024-01-01T23",
                     "2024-01-02T00", "2024-01-02T01"]
    minutes = run_trunq("--module", "my_steps", "RangeByMinutes", "--of", "MinuteStep", "--start",
                        "2024-01-01T1000", "--stop", "2024-01-01T1100", "--minutes-interval", "15",
                        "--now", epoch("2024-01-02"), "--local-scheduler")
    assert minutes.returncode == 0, minutes.stderr
    names = sorted(p.stem for p in (workdir / "out" / "minutes").iterdir())
    assert names == ["2024-01-01T1000", "2024-01-01T1015", "2024-01-01T1030", "2024-01-01T1045"]


def test_range_monthly_and_hourly_base(run_trunq, workdir):
    result = run_trunq("--module", "my_steps", "RangeMonthly", "--of", "MonthlyStep", "--start", "2023-11",
                       "--now", epoch("2024-03-15"), "--local-scheduler")
    assert result.returncode == 0, result.stderr
    names = sorted(p.stem for p in (workdir / "out" / "monthly").iterdir())
    assert names == ["2023-11", "2023-12", "2024-01", "2024-02"]  # the running month is not due yet
    base = run_trunq("--module", "my_steps", "RangeHourlyBase", "--of", "HourlyStep", "--start", "2024-01-01T00",
                     "--now", epoch("2024-01-01T03"), "--local-scheduler")
    assert base.returncode == 0, base.stderr
    assert len(list((workdir / "out" / "hourly").iterdir())) == 3


def test_bad_range_arguments_give_one_line_errors(run_trunq):
    cases = [
        (("RangeDaily", "--of", "NoSuchStep", "--start", "2015-01-01"), "NoSuchStep"),
        (("RangeDaily", "--of", "MyStep", "--start", "2015-13-01"), "2015-13-01"),
        (("RangeDaily", "--of", "MyStep"), "--start"),
        (("RangeDaily", "--of", "MyStep", "--stop", "2015-01-01"), "--reverse"),
        (("RangeDaily", "--of", "MyStep", "--start", "2015-02-01", "--stop", "2015-01-01"), "after"),
        (("RangeDaily", "--of", "MyStep", "--start", "2015-01-01", "--of-params", '{"nope": 1}'), "nope"),
        (("RangeByMinutes", "--of", "MinuteStep", "--start", "2015-01-01T0000", "--minutes-interval", "7"),
         "divide 60"),
    ]
    for args, needle in cases:
        result = run_trunq("--module", "my_steps", *args, "--local-scheduler")
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_range_families_are_found_without_importing_the_tools(run_trunq):
    result = run_trunq("RangeDaily", "--help")
    assert result.returncode == 0, result.stderr
    assert "--of" in result.stdout and "--days-back" in result.stdout
