"""trunq.core.date_interval: text forms, the dates each interval covers, navigation and ordering."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunq.core.date_interval import Custom, Date, Month, Week, Year, parse_interval


@pytest.mark.parametrize(
    ("text", "expected", "first", "last"),
    [
        ("2015", Year(2015), dt.date(2015, 1, 1), dt.date(2015, 12, 31)),
        ("2015-05", Month(2015, 5), dt.date(2015, 5, 1), dt.date(2015, 5, 31)),
        ("2015-12", Month(2015, 12), dt.date(2015, 12, 1), dt.date(2015, 12, 31)),
        ("2015-W35", Week(2015, 35), dt.date(2015, 8, 24), dt.date(2015, 8, 30)),
        ("2009-W01", Week(2009, 1), dt.date(2008, 12, 29), dt.date(2009, 1, 4)),
        ("2015-11-04", Date(2015, 11, 4), dt.date(2015, 11, 4), dt.date(2015, 11, 4)),
        (
            "2015-11-04-2015-12-04",
            Custom(dt.date(2015, 11, 4), dt.date(2015, 12, 4)),
            dt.date(2015, 11, 4),
            dt.date(2015, 12, 3),
        ),
    ],
)
def test_text_forms(text, expected, first, last):
    interval = parse_interval(text)
    assert interval == expected
    assert type(interval) is type(expected)
    assert str(interval) == text
    assert interval.dates()[0] == first and interval.dates()[-1] == last
    assert type(expected).from_str(text) == expected


@pytest.mark.parametrize("text", ["", "15", "2015-13", "2015-W54", "2015-02-30", "2015-5", "2015-01-01-2015"])
def test_invalid_text(text):
    with pytest.raises(ValueError, match="is not a valid date interval"):
        parse_interval(text)


def test_each_class_parses_only_its_own_form():
    assert Year.parse("2015-05") is None
    assert Month.parse("2015") is None
    assert Date.parse("2015-W35") is None
    with pytest.raises(ValueError, match=r"'2015' is not a valid month \(expected YYYY-MM\)"):
        Month.from_str("2015")


def test_dates_and_hours():
    assert len(Year(2016).dates()) == 366
    assert len(Month(2015, 2)) == 28
    assert len(Week(2015, 1).dates()) == 7
    hours = Date(2015, 1, 1).hours()
    assert len(hours) == 24
    assert hours[0] == dt.datetime(2015, 1, 1, 0) and hours[-1] == dt.datetime(2015, 1, 1, 23)
    assert list(Date(2015, 1, 1)) == [dt.date(2015, 1, 1)]


def test_prev_and_next():
    assert Date(2015, 1, 1).prev() == Date(2014, 12, 31)
    assert Date(2015, 12, 31).next() == Date(2016, 1, 1)
    assert Month(2015, 1).prev() == Month(2014, 12)
    assert Month(2015, 12).next() == Month(2016, 1)
    assert Week(2015, 1).prev() == Week(2014, 52)
    assert Week(2015, 53).next() == Week(2016, 1)
    assert Year(2015).next() == Year(2016)
    custom = Custom(dt.date(2015, 1, 1), dt.date(2015, 1, 11))
    assert custom.next() == Custom(dt.date(2015, 1, 11), dt.date(2015, 1, 21))
    assert custom.prev() == Custom(dt.date(2014, 12, 22), dt.date(2015, 1, 1))


def test_contains():
    month = Month(2015, 5)
    assert dt.date(2015, 5, 1) in month
    assert dt.date(2015, 5, 31) in month
    assert dt.datetime(2015, 5, 31, 23, 59) in month
    assert dt.date(2015, 6, 1) not in month
    assert "2015-05-01" not in month


def test_ordering_equality_and_hashing():
    assert Date(2015, 1, 1) < Date(2015, 1, 2) <= Date(2015, 1, 2)
    assert Month(2015, 2) > Month(2015, 1) >= Month(2015, 1)
    assert max([Week(2015, 3), Week(2015, 10), Week(2014, 50)]) == Week(2015, 10)
    assert len({Year(2015), Year(2015), Year(2016)}) == 2
    assert Year(2015) != Custom(dt.date(2015, 1, 1), dt.date(2016, 1, 1))
    assert Year(2015) != "2015"
    with pytest.raises(TypeError):
        _ = Year(2015) < Month(2015, 1)
    assert repr(Week(2015, 35)) == "2015-W35"  # as luigi: the interval's text


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9998, 12, 31)))
def test_every_kind_contains_the_date_it_was_built_from_and_round_trips(day):
    for kind in (Date, Week, Month, Year):
        interval = kind.from_date(day)
        assert day in interval
        assert kind.from_str(str(interval)) == interval
        assert interval.next().prev() == interval
        assert interval.next().date_a == interval.date_b
