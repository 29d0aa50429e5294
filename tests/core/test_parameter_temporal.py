"""Dates, datetimes, intervals and time deltas: formats, clamping and enumeration."""

from __future__ import annotations

import datetime as dt

import pytest

from trunq import parameter as p
from trunq.core import date_interval


@pytest.mark.parametrize(
    ("param", "text", "value"),
    [
        (p.DateParameter(), "2015-11-04", dt.date(2015, 11, 4)),
        (p.DateParameter(), "0005-01-02", dt.date(5, 1, 2)),
        (p.MonthParameter(), "2015-05", dt.date(2015, 5, 1)),
        (p.YearParameter(), "2015", dt.date(2015, 1, 1)),
        (p.DateHourParameter(), "2013-07-10T19", dt.datetime(2013, 7, 10, 19)),
        (p.DateMinuteParameter(), "2013-07-10T1907", dt.datetime(2013, 7, 10, 19, 7)),
        (p.DateSecondParameter(), "2013-07-10T190738", dt.datetime(2013, 7, 10, 19, 7, 38)),
        (p.DateIntervalParameter(), "2015", date_interval.Year(2015)),
        (p.DateIntervalParameter(), "2015-05", date_interval.Month(2015, 5)),
        (p.DateIntervalParameter(), "2015-W35", date_interval.Week(2015, 35)),
        (p.DateIntervalParameter(), "2015-11-04", date_interval.Date(2015, 11, 4)),
        (
            p.DateIntervalParameter(),
            "2015-11-04-2015-12-04",
            date_interval.Custom(dt.date(2015, 11, 4), dt.date(2015, 12, 4)),
        ),
    ],
    ids=lambda item: item if isinstance(item, str) else None,
)
def test_parse_and_serialize(param, text, value):
    assert param.parse(text) == value
    assert param.serialize(value) == text
    assert param.normalize(value) == value
    assert param.normalize(text) == value


@pytest.mark.parametrize(
    ("param", "text"),
    [
        (p.DateParameter(), "2015-13-01"),
        (p.DateParameter(), "2015/01/01"),
        (p.DateParameter(), "20150101"),
        (p.MonthParameter(), "May 2015"),
        (p.YearParameter(), "15"),
        (p.DateHourParameter(), "2013-07-10"),
        (p.DateMinuteParameter(), "2013-07-10T"),  # "2013-07-10T19" is 01:09, as luigi's strptime reads it
        (p.DateSecondParameter(), "2013-07-10T19:07"),
        (p.DateIntervalParameter(), "2015-W60"),
        (p.DateIntervalParameter(), "last week"),
        (p.TimeDeltaParameter(), "1 fortnight"),
        (p.TimeDeltaParameter(), "P"),
        (p.TimeDeltaParameter(), ""),
        (p.TimeDeltaParameter(), "inf"),
    ],
)
def test_bad_text_gives_a_readable_value_error(param, text):
    with pytest.raises(ValueError, match=f"^{text!r} is not a valid"):
        param.parse(text)


def test_date_messages_name_the_expected_form():
    with pytest.raises(ValueError, match=r"'2015-13-01' is not a valid date \(expected YYYY-MM-DD\)"):
        p.DateParameter().parse("2015-13-01")
    with pytest.raises(ValueError, match="expected YYYY-MM-DDTHH"):
        p.DateHourParameter().parse("x")


def test_date_normalize_accepts_datetimes_and_text():
    param = p.DateParameter()
    assert param.normalize(dt.datetime(2015, 1, 2, 13, 45)) == dt.date(2015, 1, 2)
    assert param.normalize("2015-01-02") == dt.date(2015, 1, 2)
    with pytest.raises(ValueError):
        param.normalize(20150102)


def test_date_interval_clamps_to_every_nth_day_from_the_epoch():
    param = p.DateParameter(interval=7)  # 1970-01-01 was a Thursday
    assert param.normalize(dt.date(2015, 1, 1)) == dt.date(2015, 1, 1)
    assert param.normalize(dt.date(2015, 1, 7)) == dt.date(2015, 1, 1)
    assert param.normalize(dt.date(2015, 1, 8)) == dt.date(2015, 1, 8)
    assert param.next_in_enumeration(dt.date(2015, 1, 1)) == dt.date(2015, 1, 8)


def test_date_clamping_with_a_custom_start():
    param = p.DateParameter(interval=3, start=dt.date(2020, 1, 2))
    assert [param.normalize(dt.date(2020, 1, day)) for day in range(1, 8)] == [
        dt.date(2019, 12, 30),
        dt.date(2020, 1, 2),
        dt.date(2020, 1, 2),
        dt.date(2020, 1, 2),
        dt.date(2020, 1, 5),
        dt.date(2020, 1, 5),
        dt.date(2020, 1, 5),
    ]


def test_month_normalizes_to_the_first_and_clamps_by_interval():
    assert p.MonthParameter().normalize(dt.date(2015, 5, 17)) == dt.date(2015, 5, 1)
    assert p.MonthParameter().normalize(date_interval.Month(2015, 5)) == dt.date(2015, 5, 1)
    quarterly = p.MonthParameter(interval=3)
    assert quarterly.normalize(dt.date(2015, 6, 30)) == dt.date(2015, 4, 1)
    assert quarterly.next_in_enumeration(dt.date(2015, 10, 1)) == dt.date(2016, 1, 1)
    custom = p.MonthParameter(interval=2, start=dt.date(2000, 2, 1))
    assert custom.normalize(dt.date(2000, 5, 9)) == dt.date(2000, 4, 1)
    assert p.MonthParameter().next_in_enumeration(dt.date(2015, 12, 1)) == dt.date(2016, 1, 1)


def test_year_normalizes_to_january_first_and_clamps_by_interval():
    assert p.YearParameter().normalize(dt.date(2015, 5, 17)) == dt.date(2015, 1, 1)
    assert p.YearParameter().normalize(date_interval.Year(2015)) == dt.date(2015, 1, 1)
    decade = p.YearParameter(interval=10)
    assert decade.normalize(dt.date(2019, 12, 31)) == dt.date(2010, 1, 1)
    assert decade.next_in_enumeration(dt.date(2010, 1, 1)) == dt.date(2020, 1, 1)


def test_datetime_params_drop_smaller_units_and_microseconds():
    moment = dt.datetime(2013, 7, 10, 19, 7, 38, 123456)
    assert p.DateHourParameter().normalize(moment) == dt.datetime(2013, 7, 10, 19)
    assert p.DateMinuteParameter().normalize(moment) == dt.datetime(2013, 7, 10, 19, 7)
    assert p.DateSecondParameter().normalize(moment) == dt.datetime(2013, 7, 10, 19, 7, 38)
    assert p.DateHourParameter().normalize(dt.date(2013, 7, 10)) == dt.datetime(2013, 7, 10)


def test_datetime_interval_and_start_clamping():
    every_15 = p.DateMinuteParameter(interval=15)
    assert every_15.normalize(dt.datetime(2013, 7, 10, 19, 44)) == dt.datetime(2013, 7, 10, 19, 30)
    assert every_15.next_in_enumeration(dt.datetime(2013, 7, 10, 19, 30)) == dt.datetime(2013, 7, 10, 19, 45)
    every_5h = p.DateHourParameter(interval=5, start=dt.datetime(2013, 7, 10, 1))
    assert every_5h.normalize(dt.datetime(2013, 7, 10, 10, 59)) == dt.datetime(2013, 7, 10, 6)
    assert p.DateSecondParameter(interval=10).normalize(dt.datetime(2013, 1, 1, 0, 0, 59)) == dt.datetime(
        2013, 1, 1, 0, 0, 50
    )
    assert p.DateHourParameter().next_in_enumeration(dt.datetime(2013, 7, 10, 23)) == dt.datetime(2013, 7, 11)


def test_date_minute_still_accepts_the_deprecated_h_separator():
    with pytest.warns(DeprecationWarning, match="deprecated"):
        value = p.DateMinuteParameter().parse("2013-07-10T19H07")
    assert value == dt.datetime(2013, 7, 10, 19, 7)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("90", dt.timedelta(seconds=90)),
        ("1.5", dt.timedelta(seconds=1.5)),
        ("P1DT2H", dt.timedelta(days=1, hours=2)),
        ("P2W", dt.timedelta(weeks=2)),
        ("PT5M30S", dt.timedelta(minutes=5, seconds=30)),
        ("P3D", dt.timedelta(days=3)),
        ("1 week 2 days", dt.timedelta(days=9)),
        ("1 h", dt.timedelta(hours=1)),
        ("3h 20m", dt.timedelta(hours=3, minutes=20)),
        ("2 hours 1 minute 5 seconds", dt.timedelta(hours=2, minutes=1, seconds=5)),
        ("10 min", dt.timedelta(minutes=10)),
        ("0 w 1 d 2 h 3 m 4 s", dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("-1 d", dt.timedelta(days=-1)),
    ],
)
def test_time_delta_forms(text, delta):
    assert p.TimeDeltaParameter().parse(text) == delta


def test_time_delta_serialize_format():
    param = p.TimeDeltaParameter()
    delta = dt.timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)
    assert param.serialize(delta) == "1 w 2 d 3 h 4 m 5 s"
    assert param.serialize(dt.timedelta(seconds=1.25)) == "0 w 0 d 0 h 0 m 1.25 s"
    assert param.serialize(dt.timedelta(hours=-2)) == "-0 w 0 d 2 h 0 m 0 s"
    assert param.normalize(60) == dt.timedelta(minutes=1)
    assert param.normalize("P1D") == dt.timedelta(days=1)


def test_date_interval_parameter_normalize():
    param = p.DateIntervalParameter()
    week = date_interval.Week(2015, 35)
    assert param.normalize(week) is week
    assert param.normalize("2015-W35") == week
    with pytest.raises(ValueError, match="expected one of YYYY, YYYY-MM, YYYY-Www"):
        param.parse("soon")
