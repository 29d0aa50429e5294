"""Date intervals: a day, an ISO week, a month, a year, or a custom ``[date_a, date_b)`` range.

Each interval covers the dates ``date_a <= d < date_b``. Text forms:

========  =========================
Year      ``2015``
Month     ``2015-05``
Week      ``2015-W35`` (ISO week)
Date      ``2015-11-04``
Custom    ``2015-11-04-2015-12-04``
========  =========================
"""

from __future__ import annotations

import datetime
import re
from typing import Any, ClassVar, TypeVar

_IntervalT = TypeVar("_IntervalT", bound="DateInterval")
_ONE_DAY = datetime.timedelta(days=1)


def _as_date(value: datetime.date) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


class DateInterval:
    """Base class: the half-open range of dates ``[date_a, date_b)``."""

    __slots__ = ("date_a", "date_b")
    pattern: ClassVar[re.Pattern[str]]
    form: ClassVar[str] = ""

    def __init__(self, date_a: datetime.date, date_b: datetime.date) -> None:
        self.date_a = date_a
        self.date_b = date_b

    # text -------------------------------------------------------------------------------
    def to_string(self) -> str:
        raise NotImplementedError

    @classmethod
    def _from_match(cls: type[_IntervalT], match: re.Match[str]) -> _IntervalT:
        raise NotImplementedError

    @classmethod
    def parse(cls: type[_IntervalT], text: str) -> _IntervalT | None:
        """The interval written as ``text``, or None if ``text`` is not in this class's form."""
        match = cls.pattern.fullmatch(text)
        if match is None:
            return None
        try:
            return cls._from_match(match)
        except ValueError:  # e.g. month 13 or week 60: right shape, impossible value
            return None

    @classmethod
    def from_str(cls: type[_IntervalT], text: str) -> _IntervalT:
        """Like ``parse`` but raises ``ValueError`` when ``text`` is not a valid interval."""
        interval = cls.parse(text)
        if interval is None:
            raise ValueError(f"{text!r} is not a valid {cls.__name__.lower()} (expected {cls.form})")
        return interval

    @classmethod
    def from_date(cls: type[_IntervalT], day: datetime.date) -> _IntervalT:
        """The interval of this kind that contains ``day``."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:  # luigi's: the interval's text
        return self.to_string()

    # dates ------------------------------------------------------------------------------
    def dates(self) -> list[datetime.date]:
        count = (self.date_b - self.date_a).days
        return [self.date_a + datetime.timedelta(days=offset) for offset in range(count)]

    def hours(self) -> list[datetime.datetime]:
        return [
            datetime.datetime.combine(day, datetime.time(hour)) for day in self.dates() for hour in range(24)
        ]

    def prev(self: _IntervalT) -> _IntervalT:
        return self.from_date(self.date_a - _ONE_DAY)

    def next(self: _IntervalT) -> _IntervalT:
        return self.from_date(self.date_b)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, datetime.date):
            return False
        return self.date_a <= _as_date(day) < self.date_b

    def __iter__(self) -> Any:
        return iter(self.dates())

    def __len__(self) -> int:
        return (self.date_b - self.date_a).days

    # comparison: only intervals of the same kind are ordered --------------------------
    def _key(self, other: object) -> tuple[tuple[datetime.date, datetime.date], Any] | None:
        if type(other) is not type(self):
            return None
        return (self.date_a, self.date_b), (other.date_a, other.date_b)

    def __eq__(self, other: object) -> bool:
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] == keys[1]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.date_a, self.date_b))

    def __lt__(self, other: object) -> bool:
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] < keys[1]

    def __le__(self, other: object) -> bool:
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] <= keys[1]

    def __gt__(self, other: object) -> bool:
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] > keys[1]

    def __ge__(self, other: object) -> bool:
        keys = self._key(other)
        return NotImplemented if keys is None else keys[0] >= keys[1]


class Date(DateInterval):
    """A single day."""

    __slots__ = ()
    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
    form = "YYYY-MM-DD"

    def __init__(self, year: int, month: int, day: int) -> None:
        date_a = datetime.date(year, month, day)
        super().__init__(date_a, date_a + _ONE_DAY)

    def to_string(self) -> str:
        return f"{self.date_a.year:04d}-{self.date_a.month:02d}-{self.date_a.day:02d}"

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Date:
        return cls(*map(int, match.groups()))

    @classmethod
    def from_date(cls, day: datetime.date) -> Date:
        return cls(day.year, day.month, day.day)


class Week(DateInterval):
    """An ISO 8601 week, Monday to Sunday (2009-W01 starts on Monday 2008-12-29)."""

    __slots__ = ()
    pattern = re.compile(r"(\d{4})-W(\d{2})")
    form = "YYYY-Www"

    def __init__(self, year: int, week: int) -> None:
        date_a = datetime.date.fromisocalendar(year, week, 1)
        super().__init__(date_a, date_a + datetime.timedelta(days=7))

    def to_string(self) -> str:
        year, week, _ = self.date_a.isocalendar()
        return f"{year:04d}-W{week:02d}"

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Week:
        return cls(*map(int, match.groups()))

    @classmethod
    def from_date(cls, day: datetime.date) -> Week:
        year, week, _ = day.isocalendar()
        return cls(year, week)


class Month(DateInterval):
    """A calendar month."""

    __slots__ = ()
    pattern = re.compile(r"(\d{4})-(\d{2})")
    form = "YYYY-MM"

    def __init__(self, year: int, month: int) -> None:
        date_a = datetime.date(year, month, 1)
        date_b = datetime.date(year + 1, 1, 1) if month == 12 else datetime.date(year, month + 1, 1)
        super().__init__(date_a, date_b)

    def to_string(self) -> str:
        return f"{self.date_a.year:04d}-{self.date_a.month:02d}"

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Month:
        return cls(*map(int, match.groups()))

    @classmethod
    def from_date(cls, day: datetime.date) -> Month:
        return cls(day.year, day.month)


class Year(DateInterval):
    """A calendar year."""

    __slots__ = ()
    pattern = re.compile(r"(\d{4})")
    form = "YYYY"

    def __init__(self, year: int) -> None:
        super().__init__(datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))

    def to_string(self) -> str:
        return f"{self.date_a.year:04d}"

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Year:
        return cls(int(match.group(1)))

    @classmethod
    def from_date(cls, day: datetime.date) -> Year:
        return cls(day.year)


class Custom(DateInterval):
    """Any range ``[date_a, date_b)``; ``prev``/``next`` shift it by its own length."""

    __slots__ = ()
    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{4})-(\d{2})-(\d{2})")
    form = "YYYY-MM-DD-YYYY-MM-DD"

    def __init__(self, date_a: datetime.date, date_b: datetime.date) -> None:
        super().__init__(_as_date(date_a), _as_date(date_b))

    def to_string(self) -> str:
        return f"{Date.from_date(self.date_a)}-{Date.from_date(self.date_b)}"

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Custom:
        numbers = list(map(int, match.groups()))
        return cls(datetime.date(*numbers[:3]), datetime.date(*numbers[3:]))

    @classmethod
    def from_date(cls, day: datetime.date) -> Custom:
        return cls(day, day + _ONE_DAY)

    def prev(self) -> Custom:
        length = self.date_b - self.date_a
        return Custom(self.date_a - length, self.date_a)

    def next(self) -> Custom:
        length = self.date_b - self.date_a
        return Custom(self.date_b, self.date_b + length)


#: The order in which ``parse_interval`` tries each form.
INTERVAL_TYPES: tuple[type[DateInterval], ...] = (Year, Month, Week, Date, Custom)


def parse_interval(text: str) -> DateInterval:
    """Parse any interval form; raises ``ValueError`` naming the accepted forms."""
    for interval_type in INTERVAL_TYPES:
        interval = interval_type.parse(text)
        if interval is not None:
            return interval
    forms = ", ".join(interval_type.form for interval_type in INTERVAL_TYPES)
    raise ValueError(f"{text!r} is not a valid date interval (expected one of {forms})")
