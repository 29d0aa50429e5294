"""Dates, datetimes, date intervals and time deltas.

Date-like parameters take ``interval`` and ``start``: ``normalize`` clamps a value down to
``start + k * interval`` units, so ``DateParameter(interval=7)`` only ever holds every 7th day
counted from ``start`` (default 1970-01-01).
"""

from __future__ import annotations

import datetime
import math
import re
import warnings
from typing import Any

from trunq.core import date_interval
from trunq.core.parameters.base import (
    NO_VALUE,
    OptionalParameterMixin,
    Parameter,
    ParameterValueError,
    invalid,
)

_EPOCH = datetime.datetime(1970, 1, 1)


def _format_date(value: datetime.date) -> str:
    # f-strings instead of strftime: faster, and years < 1000 keep their four digits.
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _add_months(value: datetime.date, months: int) -> datetime.date:
    index = value.year * 12 + value.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _parse_fields(pattern: re.Pattern[str], text: str) -> tuple[int, ...] | None:
    """The integer fields of ``text`` if it matches ``pattern`` exactly (fixed digit counts)."""
    match = pattern.fullmatch(text) if isinstance(text, str) else None
    return None if match is None else tuple(int(field) for field in match.groups())


def _to_datetime(fields: tuple[int, ...]) -> datetime.datetime:
    """A datetime from (year, month, day[, hour[, minute[, second]]]) fields."""
    y, mo, d, h, mi, s = fields + (0,) * (6 - len(fields))
    return datetime.datetime(y, mo, d, h, mi, s)


class _DateParameterBase(Parameter[datetime.date]):
    """Shared constructor and text handling for parameters whose value is a ``date``."""

    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
    form = "YYYY-MM-DD"
    date_format = "%Y-%m-%d"  # the strptime form: also takes 1-digit months and days (2015-1-5)

    def __init__(
        self, default: Any = NO_VALUE, *, interval: int = 1, start: datetime.date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _EPOCH.date()

    def parse(self, text: str) -> datetime.date:
        fields = _parse_fields(self.pattern, text)
        try:
            if fields is not None:
                # Missing month/day (MonthParameter, YearParameter) mean the first.
                return datetime.date(*fields, *(1,) * (3 - len(fields)))
        except ValueError:
            pass
        try:  # the slower, more lenient form luigi accepts
            return datetime.datetime.strptime(text, self.date_format).date()
        except (TypeError, ValueError):
            raise invalid(text, "date", f"expected {self.form}") from None

    def _coerce(self, value: Any) -> datetime.date:
        """Any accepted input (date, datetime, text) as a plain ``date``."""
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise invalid(value, "date", f"expected {self.form}")


class DateParameter(_DateParameterBase):
    """A ``datetime.date`` written ``YYYY-MM-DD``; enumerable by ``interval`` days."""

    def serialize(self, value: datetime.date) -> str:
        if type(value) is datetime.date:
            return value.isoformat()  # fastest; always four-digit years
        return _format_date(value)

    def normalize(self, value: Any) -> datetime.date:
        if type(value) is not datetime.date:
            value = self._coerce(value)
        if self.interval == 1:
            return value
        offset = (value - self.start).days % self.interval
        return value - datetime.timedelta(days=offset)

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value + datetime.timedelta(days=self.interval)


class OptionalDateParameter(OptionalParameterMixin[datetime.date], DateParameter):  # type: ignore[misc]
    """A ``DateParameter`` that may be None."""

    expected_type = datetime.date


class MonthParameter(DateParameter):
    """A month written ``YYYY-MM``; the value is the ``date`` of its first day."""

    pattern = re.compile(r"(\d{4})-(\d{2})")
    form = "YYYY-MM"
    date_format = "%Y-%m"

    def serialize(self, value: datetime.date) -> str:
        return f"{value.year:04d}-{value.month:02d}"

    def normalize(self, value: Any) -> datetime.date:
        if isinstance(value, date_interval.Month):
            value = value.date_a
        value = self._coerce(value)
        months_since_start = (value.year - self.start.year) * 12 + value.month - self.start.month
        months_since_start -= months_since_start % self.interval
        return _add_months(self.start, months_since_start)

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return _add_months(value, self.interval)


class YearParameter(DateParameter):
    """A year written ``YYYY``; the value is the ``date`` of January 1st."""

    pattern = re.compile(r"(\d{4})")
    form = "YYYY"
    date_format = "%Y"

    def serialize(self, value: datetime.date) -> str:
        return f"{value.year:04d}"

    def normalize(self, value: Any) -> datetime.date:
        if isinstance(value, date_interval.Year):
            value = value.date_a
        value = self._coerce(value)
        year = value.year - (value.year - self.start.year) % self.interval
        return datetime.date(year, 1, 1)

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value.replace(year=value.year + self.interval)


class _DatetimeParameterBase(Parameter[datetime.datetime]):
    """Shared logic for ``datetime`` values clamped to whole units of ``unit * interval``."""

    pattern: re.Pattern[str]
    form: str
    date_format: str  # the strptime form, tried when the fast pattern does not match
    unit: datetime.timedelta
    zero_fields: dict[str, int]  # the fields below ``unit``

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        interval: int = 1,
        start: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _EPOCH
        self._step = self.unit * interval
        # With the default grid (every unit from the epoch), clamping is plain truncation.
        self._truncate_only = interval == 1 and self.start == _EPOCH

    def parse(self, text: str) -> datetime.datetime:
        fields = _parse_fields(self.pattern, text)
        try:
            if fields is not None:
                return _to_datetime(fields)
        except ValueError:
            pass
        return self._strptime(text, self.date_format)

    def _strptime(self, text: str, date_format: str) -> datetime.datetime:
        try:  # slower and more lenient (2015-1-5T3), as luigi parses
            return datetime.datetime.strptime(text, date_format)
        except (TypeError, ValueError):
            raise invalid(text, "date and time", f"expected {self.form}") from None

    def serialize(self, value: datetime.datetime) -> str:
        text = _format_date(value) + f"T{value.hour:02d}"
        if self.unit < datetime.timedelta(hours=1):
            text += f"{value.minute:02d}"
        if self.unit < datetime.timedelta(minutes=1):
            text += f"{value.second:02d}"
        return text

    def normalize(self, value: Any) -> datetime.datetime:
        if isinstance(value, str):
            value = self.parse(value)
        elif not isinstance(value, datetime.datetime):
            if not isinstance(value, datetime.date):
                raise invalid(value, "date and time", f"expected {self.form}")
            value = datetime.datetime.combine(value, datetime.time.min)
        if self._truncate_only:
            return value.replace(**self.zero_fields)
        value = value.replace(microsecond=0)
        start = self.start
        if value.tzinfo is not None and start.tzinfo is None:
            start = start.replace(tzinfo=value.tzinfo)
        # timedelta % timedelta is exact integer arithmetic (no float rounding).
        return value - (value - start) % self._step

    def next_in_enumeration(self, value: datetime.datetime) -> datetime.datetime:
        return value + self._step


class DateHourParameter(_DatetimeParameterBase):
    """A ``datetime`` to the hour, written ``YYYY-MM-DDTHH`` (e.g. ``2013-07-10T19``)."""

    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})")
    form = "YYYY-MM-DDTHH"
    date_format = "%Y-%m-%dT%H"
    unit = datetime.timedelta(hours=1)
    zero_fields = {"minute": 0, "second": 0, "microsecond": 0}


class DateMinuteParameter(_DatetimeParameterBase):
    """A ``datetime`` to the minute, written ``YYYY-MM-DDTHHMM`` (e.g. ``2013-07-10T1907``)."""

    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})")
    form = "YYYY-MM-DDTHHMM"
    date_format = "%Y-%m-%dT%H%M"
    deprecated_date_format = "%Y-%m-%dT%HH%M"
    unit = datetime.timedelta(minutes=1)
    zero_fields = {"second": 0, "microsecond": 0}
    deprecated_pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})H(\d{2})")

    def parse(self, text: str) -> datetime.datetime:
        if "H" not in str(text):
            return super().parse(text)
        fields = _parse_fields(self.deprecated_pattern, text)
        try:
            value = _to_datetime(fields) if fields is not None else None
        except ValueError:
            value = None
        if value is None:
            value = self._strptime(text, self.deprecated_date_format)
        warnings.warn(
            "'H' between hours and minutes is deprecated: write YYYY-MM-DDTHHMM",
            DeprecationWarning,
            stacklevel=2,
        )
        return value


class DateSecondParameter(_DatetimeParameterBase):
    """A ``datetime`` to the second, written ``YYYY-MM-DDTHHMMSS`` (e.g. ``2013-07-10T190738``)."""

    pattern = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})")
    form = "YYYY-MM-DDTHHMMSS"
    date_format = "%Y-%m-%dT%H%M%S"
    unit = datetime.timedelta(seconds=1)
    zero_fields = {"microsecond": 0}


class DateIntervalParameter(Parameter[date_interval.DateInterval]):
    """A ``DateInterval``: ``2015``, ``2015-05``, ``2015-W35``, ``2015-11-04`` or ``2015-11-04-2015-12-04``."""

    def parse(self, text: str) -> date_interval.DateInterval:
        if not isinstance(text, str):
            raise invalid(text, "date interval")
        try:
            return date_interval.parse_interval(text)
        except ValueError as error:
            raise ParameterValueError(str(error)) from None

    def normalize(self, value: Any) -> date_interval.DateInterval:
        if isinstance(value, date_interval.DateInterval):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise invalid(value, "date interval")


# A number with an optional fraction, used by both duration grammars.
_NUMBER = r"\d+(?:\.\d+)?"
_ISO_DURATION = re.compile(
    rf"P(?:(?P<weeks>{_NUMBER})W"
    rf"|(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?)",
    re.IGNORECASE,
)
_UNIT_WORDS = {
    "weeks": r"w(?:(?:ee)?ks?)?",
    "days": r"d(?:ays?)?",
    "hours": r"h(?:(?:ou)?rs?)?",
    "minutes": r"m(?:in(?:ute)?s?)?",
    "seconds": r"s(?:ec(?:ond)?s?)?",
}
_SIMPLE_DURATION = re.compile(
    r"\s*".join(rf"(?:(?P<{unit}>{_NUMBER})\s*{word})?" for unit, word in _UNIT_WORDS.items()),
    re.IGNORECASE,
)


def _duration_from_match(match: re.Match[str] | None) -> datetime.timedelta | None:
    if match is None:
        return None
    fields = {
        unit: float(amount) if "." in amount else int(amount)  # ints keep large values exact
        for unit, amount in match.groupdict().items()
        if amount is not None
    }
    return datetime.timedelta(**fields) if fields else None


def _format_seconds(delta: datetime.timedelta) -> str:
    seconds = delta.seconds % 60
    if not delta.microseconds:
        return str(seconds)
    return f"{seconds}.{delta.microseconds:06d}".rstrip("0")


class TimeDeltaParameter(Parameter[datetime.timedelta]):
    """A ``datetime.timedelta``.

    Accepted text: a bare number of seconds (``90``, ``1.5``); ISO 8601 ``P1DT2H30M``, ``P2W``;
    or units from longest to shortest, ``1 week 2 days``, ``3h 20m``, ``45 s``. A leading ``-``
    negates. Written back as ``"{w} w {d} d {h} h {m} m {s} s"``.
    """

    def parse(self, text: str) -> datetime.timedelta:
        if not isinstance(text, str):
            raise invalid(text, "time delta")
        body = text.strip()
        sign = -1 if body.startswith("-") else 1
        if sign < 0:
            body = body[1:].lstrip()
        try:
            delta = self._parse_unsigned(body)
        except OverflowError:
            raise invalid(text, "time delta", "too large") from None
        if delta is None:
            raise invalid(text, "time delta", "e.g. 90, P1DT2H or '1 week 2 days'")
        return delta if sign > 0 else -delta

    @staticmethod
    def _parse_unsigned(body: str) -> datetime.timedelta | None:
        try:
            seconds = float(body)
        except ValueError:
            pass
        else:
            return datetime.timedelta(seconds=seconds) if math.isfinite(seconds) else None
        delta = _duration_from_match(_ISO_DURATION.fullmatch(body))
        if delta is None:
            delta = _duration_from_match(_SIMPLE_DURATION.fullmatch(body))
        return delta

    def serialize(self, value: datetime.timedelta) -> str:
        if value < datetime.timedelta(0):
            return "-" + self.serialize(-value)
        weeks, days = divmod(value.days, 7)
        hours, rest = divmod(value.seconds, 3600)
        return f"{weeks} w {days} d {hours} h {rest // 60} m {_format_seconds(value)} s"

    def _wants_type_check(self) -> bool:
        return type(self) is TimeDeltaParameter

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if not isinstance(param_value, datetime.timedelta):
            warnings.warn(f'Parameter "{param_name}" with value "{param_value}" is not of type timedelta.', stacklevel=5)

    def normalize(self, value: Any) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.timedelta(seconds=value)
        raise invalid(value, "time delta")
