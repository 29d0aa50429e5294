"""Range tools: keep a recurring step complete for every date (hour, minute, month) in a window.

``trunq --module all_reports RangeDailyBase --of AllReports --start 2015-01-01`` requires the
missing ``AllReports(date)`` for the dates of the window, at most ``step_limit`` of them per
invocation, so that running it from a trigger (``trunq schedule`` or cron) closes gaps.

The window is ``[start, stop)`` intersected with the look-back/look-ahead window around now
(``days_back=100`` days before today, today excluded). When both ``start`` and ``stop`` are
given the range is a deliberate backfill and the look-back limit does not apply; dates after
now (plus the ``*_forward`` knob) are never required. Times are UTC.

``RangeDailyBase`` & co. check each candidate with ``complete()``. ``RangeDaily`` & co. ask
``of.bulk_complete(values)`` when the step implements it, else list the directories of the
candidates' file-system outputs once each (see ``trunq.tools.bulk``).

Each evaluation triggers ``RangeEvent`` events on the range step with ``(of_family, value)``,
for delay monitoring: see ``RangeEvent``.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any

from trunq.core.step import Step, WrapperStep
from trunq.parameter import (
    BoolParameter,
    DateHourParameter,
    DateMinuteParameter,
    DateParameter,
    DictParameter,
    IntParameter,
    MonthParameter,
    OptionalIntParameter,
    OptionalStrParameter,
    ParameterException,
    StepParameter,
)
from trunq.tools import bulk

logger = logging.getLogger("trunq")

__all__ = [
    "RangeEvent", "RangeBase", "RangeDailyBase", "RangeDaily", "RangeHourlyBase", "RangeHourly",
    "RangeByMinutesBase", "RangeByMinutes", "RangeMonthly",
]


class RangeEvent:
    """Events a range step triggers each time it works out what is missing.

    Handlers get ``(of_family, value)``: register with
    ``@RangeDaily.event_handler(RangeEvent.DELAY)`` (or on ``RangeBase`` for all ranges).
    """

    COMPLETE_COUNT = "event.tools.range.complete.count"  # how many in the window are complete
    COMPLETE_FRACTION = "event.tools.range.complete.fraction"  # complete / all (1.0 for an empty window)
    MISSING_COUNT = "event.tools.range.missing.count"  # how many in the window are missing
    OLDEST_MISSING = "event.tools.range.missing.oldest"  # the oldest missing datetime, or None
    DELAY = "event.tools.range.delay"  # hours from the end of the oldest missing period to now; 0 if none


def _utc_now(epoch: int | None) -> datetime.datetime:
    seconds = time.time() if epoch is None else epoch
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


class RangeBase(WrapperStep):
    """Requires ``of`` for the missing datetimes of a window; subclasses fix the unit."""

    of = StepParameter(positional=False, description="the step family to keep complete over the range")
    of_params = DictParameter(default={}, positional=False,
                              description="more parameters (JSON object) passed to each `of` step")
    reverse = BoolParameter(default=False, positional=False,
                            description="require the newest missing first (needed without --start)")
    step_limit = IntParameter(default=50, positional=False,
                              description="require at most this many `of` steps per invocation")
    task_limit = OptionalIntParameter(default=None, positional=False, significant=False,
                                      description="alias of --step-limit")
    now = OptionalIntParameter(default=None, positional=False,
                               description="the current time in seconds since the epoch (default: the clock)")
    param_name = OptionalStrParameter(default=None, positional=False,
                                      description="the parameter of `of` that takes the datetime "
                                                  "(default: its first positional parameter)")

    # Filled in by subclasses.
    start: Any
    stop: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cached_requires: list[Step] | None = None
        self._check()

    # ---- validation --------------------------------------------------------------------
    def _check(self) -> None:
        family = self.step_family
        if self.start is None and self.stop is None:
            raise ParameterException(f"{family}: give --start or --stop (or both)")
        if self.start is not None and self.stop is not None and self.start > self.stop:
            raise ParameterException(f"{family}: --start {self.start} is after --stop {self.stop}")
        if self.start is None and not self.reverse:
            raise ParameterException(f"{family}: without --start the range must run with --reverse")
        if self.limit < 1:
            raise ParameterException(f"{family}: --step-limit must be at least 1, got {self.limit}")
        names = dict(self.of.get_params())
        unknown = sorted(set(self.of_params) - set(names))
        if unknown:
            raise ParameterException(f"{family}: --of-params names unknown parameters of "
                                     f"{self.of.get_step_family()}: {', '.join(unknown)}")
        if self.datetime_param not in names:
            raise ParameterException(f"{family}: {self.of.get_step_family()} has no parameter "
                                     f"{self.datetime_param!r} to take the range's datetimes")

    @property
    def limit(self) -> int:
        return self.task_limit if self.task_limit is not None else self.step_limit

    @property
    def datetime_param(self) -> str:
        if self.param_name:
            return self.param_name
        positional = [name for name, param in self.of.get_params()
                      if param.positional and name not in self.of_params]
        if not positional:
            raise ParameterException(f"{self.step_family}: {self.of.get_step_family()} has no positional "
                                     "parameter; name the datetime one with --param-name")
        return positional[0]

    # ---- unit-specific hooks -----------------------------------------------------------
    def datetime_to_parameter(self, moment: datetime.datetime) -> Any:
        raise NotImplementedError

    def parameter_to_datetime(self, value: Any) -> datetime.datetime:
        raise NotImplementedError

    def align(self, moment: datetime.datetime) -> datetime.datetime:
        """The start of the period that contains ``moment``."""
        raise NotImplementedError

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        raise NotImplementedError

    def moving_start(self, now: datetime.datetime) -> datetime.datetime:
        raise NotImplementedError

    def moving_stop(self, now: datetime.datetime) -> datetime.datetime:
        raise NotImplementedError

    # ---- the window and what is missing --------------------------------------------------
    def window(self, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        start = None if self.start is None else self.parameter_to_datetime(self.start)
        stop = None if self.stop is None else self.parameter_to_datetime(self.stop)
        upper = self.moving_stop(now) if stop is None else min(stop, self.moving_stop(now))
        if start is not None and stop is not None:
            lower = start  # an explicit backfill: no look-back limit
        else:
            lower = self.moving_start(now) if start is None else max(start, self.moving_start(now))
        return lower, upper

    def finite_datetimes(self, lower: datetime.datetime, upper: datetime.datetime) -> list[datetime.datetime]:
        moments = []
        moment = self.align(lower)
        if moment < lower:
            moment = self.next_moment(moment)
        while moment < upper:
            moments.append(moment)
            moment = self.next_moment(moment)
        return moments

    def of_step(self, moment: datetime.datetime) -> Step:
        """The ``of`` step for one datetime, with ``of_params`` applied."""
        params = dict(self.of.get_params())
        kwargs = {}
        for name, value in self.of_params.items():
            # JSON gives "123" for an int parameter as readily as 123: parse text the CLI way.
            kwargs[name] = params[name].parse(value) if isinstance(value, str) else value
        kwargs[self.datetime_param] = self.datetime_to_parameter(moment)
        return self.of(**kwargs)

    def missing_datetimes(self, moments: Sequence[datetime.datetime]) -> list[datetime.datetime]:
        return bulk.incomplete_one_by_one((moment, self.of_step(moment)) for moment in moments)

    def requires(self) -> list[Step]:
        if self._cached_requires is None:
            self._cached_requires = self._required_steps()
        return self._cached_requires

    def _required_steps(self) -> list[Step]:
        now = _utc_now(self.now)
        moments = self.finite_datetimes(*self.window(now))
        missing = sorted(self.missing_datetimes(moments))
        self._emit_metrics(moments, missing, now)
        chosen = list(reversed(missing))[:self.limit] if self.reverse else missing[:self.limit]
        logger.info("%s: %d of %d missing, requiring %d", self.step_family, len(missing), len(moments), len(chosen))
        return [self.of_step(moment) for moment in chosen]

    def _emit_metrics(self, moments: Sequence[datetime.datetime], missing: Sequence[datetime.datetime],
                      now: datetime.datetime) -> None:
        family = self.of.get_step_family()
        complete = len(moments) - len(missing)
        self.trigger_event(RangeEvent.COMPLETE_COUNT, family, complete)
        self.trigger_event(RangeEvent.COMPLETE_FRACTION, family, complete / len(moments) if moments else 1.0)
        self.trigger_event(RangeEvent.MISSING_COUNT, family, len(missing))
        oldest = missing[0] if missing else None
        self.trigger_event(RangeEvent.OLDEST_MISSING, family, oldest)
        delay = 0.0
        if oldest is not None:
            delay = max(0.0, (now - self.next_moment(oldest)).total_seconds() / 3600)
        self.trigger_event(RangeEvent.DELAY, family, delay)


class _BulkMissing:
    """Missing detection through ``bulk_complete`` or one directory listing per directory."""

    def missing_datetimes(self: Any, moments: Sequence[datetime.datetime]) -> list[datetime.datetime]:
        if not moments:
            return []
        if bulk.implements_bulk_complete(self.of):
            values = [self.datetime_to_parameter(moment) for moment in moments]
            done = bulk.complete_values_from_step(self.of, dict(self.of_params), values)
            done_moments = {self.parameter_to_datetime(value) for value in done}
            return [moment for moment in moments if moment not in done_moments]
        candidates = [(moment, self.of_step(moment)) for moment in moments]
        missing = bulk.incomplete_by_listing(candidates)
        if missing is None:
            logger.info("%s: %s has no file-system outputs to list; checking each step",
                        self.step_family, self.of.get_step_family())
            return bulk.incomplete_one_by_one(candidates)
        return missing


# ---- days ----------------------------------------------------------------------------------
class RangeDailyBase(RangeBase):
    """Requires ``of(date)`` for each missing day; checks each day with ``complete()``."""

    start = DateParameter(default=None, positional=False, description="the first day (inclusive)")
    stop = DateParameter(default=None, positional=False, description="the day after the last (exclusive)")
    days_back = IntParameter(default=100, positional=False,
                             description="look back at most this many days before today")
    days_forward = IntParameter(default=0, positional=False,
                                description="also require up to this many days after today")

    def datetime_to_parameter(self, moment: datetime.datetime) -> datetime.date:
        return moment.date()

    def parameter_to_datetime(self, value: datetime.date) -> datetime.datetime:
        return datetime.datetime(value.year, value.month, value.day)

    def align(self, moment: datetime.datetime) -> datetime.datetime:
        return datetime.datetime(moment.year, moment.month, moment.day)

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        return moment + datetime.timedelta(days=1)

    def moving_start(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) - datetime.timedelta(days=self.days_back)

    def moving_stop(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) + datetime.timedelta(days=self.days_forward)


class RangeDaily(_BulkMissing, RangeDailyBase):
    """``RangeDailyBase`` with bulk completeness (``bulk_complete`` or directory listings)."""


# ---- hours ---------------------------------------------------------------------------------
class RangeHourlyBase(RangeBase):
    """Requires ``of(date_hour)`` for each missing hour; checks each hour with ``complete()``."""

    start = DateHourParameter(default=None, positional=False, description="the first hour (inclusive)")
    stop = DateHourParameter(default=None, positional=False, description="the hour after the last (exclusive)")
    hours_back = IntParameter(default=100 * 24, positional=False,
                              description="look back at most this many hours before this hour")
    hours_forward = IntParameter(default=0, positional=False,
                                 description="also require up to this many hours after this hour")

    def datetime_to_parameter(self, moment: datetime.datetime) -> datetime.datetime:
        return moment

    def parameter_to_datetime(self, value: datetime.datetime) -> datetime.datetime:
        return value

    def align(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.replace(minute=0, second=0, microsecond=0)

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        return moment + datetime.timedelta(hours=1)

    def moving_start(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) - datetime.timedelta(hours=self.hours_back)

    def moving_stop(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) + datetime.timedelta(hours=self.hours_forward)


class RangeHourly(_BulkMissing, RangeHourlyBase):
    """``RangeHourlyBase`` with bulk completeness (``bulk_complete`` or directory listings)."""


# ---- minutes -------------------------------------------------------------------------------
class RangeByMinutesBase(RangeBase):
    """Requires ``of(date_minute)`` every ``minutes_interval`` minutes; checks each with ``complete()``."""

    start = DateMinuteParameter(default=None, positional=False, description="the first minute (inclusive)")
    stop = DateMinuteParameter(default=None, positional=False, description="the minute after the last (exclusive)")
    minutes_back = IntParameter(default=24 * 60, positional=False,
                                description="look back at most this many minutes before now")
    minutes_forward = IntParameter(default=0, positional=False,
                                   description="also require up to this many minutes after now")
    minutes_interval = IntParameter(default=1, positional=False,
                                    description="minutes between two instances; must divide 60")

    def _check(self) -> None:
        if self.minutes_interval < 1 or 60 % self.minutes_interval:
            raise ParameterException(f"{self.step_family}: --minutes-interval must divide 60, "
                                     f"got {self.minutes_interval}")
        super()._check()

    def datetime_to_parameter(self, moment: datetime.datetime) -> datetime.datetime:
        return moment

    def parameter_to_datetime(self, value: datetime.datetime) -> datetime.datetime:
        return value

    def align(self, moment: datetime.datetime) -> datetime.datetime:
        minute = moment.minute - moment.minute % self.minutes_interval
        return moment.replace(minute=minute, second=0, microsecond=0)

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        return moment + datetime.timedelta(minutes=self.minutes_interval)

    def moving_start(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) - datetime.timedelta(minutes=self.minutes_back)

    def moving_stop(self, now: datetime.datetime) -> datetime.datetime:
        return self.align(now) + datetime.timedelta(minutes=self.minutes_forward)


class RangeByMinutes(_BulkMissing, RangeByMinutesBase):
    """``RangeByMinutesBase`` with bulk completeness (``bulk_complete`` or directory listings)."""


# ---- months --------------------------------------------------------------------------------
class RangeMonthly(RangeBase):
    """Requires ``of(month)`` for each missing month; checks each with ``complete()``."""

    start = MonthParameter(default=None, positional=False, description="the first month (inclusive)")
    stop = MonthParameter(default=None, positional=False, description="the month after the last (exclusive)")
    months_back = IntParameter(default=13, positional=False,
                               description="look back at most this many months before this month")
    months_forward = IntParameter(default=0, positional=False,
                                  description="also require up to this many months after this month")

    def datetime_to_parameter(self, moment: datetime.datetime) -> datetime.date:
        return moment.date()

    def parameter_to_datetime(self, value: datetime.date) -> datetime.datetime:
        return datetime.datetime(value.year, value.month, 1)

    def align(self, moment: datetime.datetime) -> datetime.datetime:
        return datetime.datetime(moment.year, moment.month, 1)

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        return _shift_months(moment, 1)

    def moving_start(self, now: datetime.datetime) -> datetime.datetime:
        return _shift_months(self.align(now), -self.months_back)

    def moving_stop(self, now: datetime.datetime) -> datetime.datetime:
        return _shift_months(self.align(now), self.months_forward)


def _shift_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)
