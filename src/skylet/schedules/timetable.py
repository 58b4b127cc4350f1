"""When a schedule fires next: a pure function of the expression, an instant and a time zone.

``Timetable.compile(expression)`` turns a validated ``ScheduleExpression`` into sets of allowed
values once; ``next_after(after, tz=…, anchor=…)`` answers the first fire strictly after
``after`` (an aware datetime), in UTC, or None when the expression never fires again (its
year field has run out, or it names a day no month has).

The dialects:

- ``rate(N unit)``: every N units of elapsed time from ``anchor`` (the instant the schedule was
  first deployed), whatever the time zone: a rate of one day is 24 hours, also across a change
  of daylight saving time, as EventBridge Scheduler documents.
- AWS ``cron(min hour dom month dow year)``: day-of-week 1-7 from Sunday; one of day-of-month
  and day-of-week is ``?``; ``L`` (last day of the month; in day-of-week alone, Saturday, the
  last day of the week), ``LW`` (last weekday of the month), ``15W`` (the weekday nearest the
  15th, never leaving the month; no fire in a month without that day), ``6L`` (the last Friday),
  ``2#1`` (the first Monday; no fire in a month without a fifth one for ``#5``).
- Unix 5-field cron (skylet's extension): day-of-week 0-7 with 0 and 7 Sunday; when both
  day-of-month and day-of-week are restricted a day matching either fires (Vixie cron's rule).

Cron fields are read as wall-clock time in ``tz`` (UTC unless given). A wall time that does not
exist (the hour skipped when clocks go forward) is skipped; a wall time that happens twice
(the hour repeated when clocks go back) fires once, at its first occurrence.

No library reads the AWS dialect exactly: croniter numbers days of week from 0 (Sunday) where AWS
numbers them from 1, writes the last Friday ``L5`` where AWS writes ``6L``, and knows neither
``LW`` nor ``15W``; so the dialect is written here, over the standard library's calendar.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from skylet.manifest.schedule import ScheduleExpression

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTH_NAMES = {name: i + 1 for i, name in enumerate(_MONTHS)}
_AWS_DAY_NAMES = {name: i + 1 for i, name in enumerate(_DAYS)}
_UNIX_DAY_NAMES = {name: i for i, name in enumerate(_DAYS)}
_LAST_YEAR = 2199


@dataclass(frozen=True, slots=True)
class _DayRule:
    """Which days of a month fire. ``weekdays`` are Python's (Monday 0 … Sunday 6)."""

    days: frozenset[int] = frozenset()  # day-of-month numbers
    last_day: bool = False  # L
    last_weekday_of_month: bool = False  # LW
    nearest_weekday: frozenset[int] = frozenset()  # 15W
    weekdays: frozenset[int] = frozenset()
    last_of_weekday: frozenset[int] = frozenset()  # 6L: the last Friday
    nth_weekday: frozenset[tuple[int, int]] = frozenset()  # 2#1: (weekday, n)

    def matches(self, day: date) -> bool:
        year, month, number = day.year, day.month, day.day
        month_days = calendar.monthrange(year, month)[1]
        weekday = day.weekday()
        return (
            number in self.days
            or (self.last_day and number == month_days)
            or (self.last_weekday_of_month and number == _last_weekday(year, month))
            or any(number == _nearest_weekday(year, month, n) for n in self.nearest_weekday)
            or weekday in self.weekdays
            or (weekday in self.last_of_weekday and number + 7 > month_days)
            or (weekday, (number - 1) // 7 + 1) in self.nth_weekday
        )


@dataclass(frozen=True, slots=True)
class Timetable:
    """A compiled schedule; ``next_after`` is pure and cheap (one pass over candidate days)."""

    rate_s: int | None = None
    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    months: frozenset[int] = frozenset()
    years: frozenset[int] | None = None  # None: every year
    day_rule: _DayRule = _DayRule()

    @classmethod
    def compile(cls, expression: ScheduleExpression) -> Timetable:
        """Compile a validated expression (``ScheduleExpression.parse`` checked its syntax)."""
        if expression.kind == "rate":
            if expression.rate_s is None:
                raise ValueError(f"{expression} has no rate")
            return cls(rate_s=expression.rate_s)
        fields = [field.upper() for field in expression.cron_fields]
        if expression.flavor == "aws":
            minute, hour, dom, month, dow, year = fields
            day_rule = _aws_day_rule(dom) if dow == "?" else _aws_weekday_rule(dow)
            years = None if year == "*" else frozenset(_values(year, 1970, _LAST_YEAR))
        else:
            minute, hour, dom, month, dow = fields
            day_rule, years = _unix_day_rule(dom, dow), None
        return cls(
            minutes=tuple(sorted(_values(minute, 0, 59))),
            hours=tuple(sorted(_values(hour, 0, 23))),
            months=frozenset(_values(month, 1, 12, _MONTH_NAMES)),
            years=years,
            day_rule=day_rule,
        )

    def next_after(
        self, after: datetime, *, tz: ZoneInfo | None = None, anchor: datetime | None = None
    ) -> datetime | None:
        """The first fire strictly after ``after``, in UTC; None if there is none.

        ``anchor`` is where a rate counts from (required for rates, ignored by cron)."""
        if after.tzinfo is None:
            raise ValueError("after must be an aware datetime")
        if self.rate_s is not None:
            if anchor is None:
                raise ValueError("a rate needs the anchor it counts from")
            # In UTC: aware arithmetic within one zone would add wall-clock time, not elapsed.
            start = anchor.astimezone(UTC)
            elapsed = (after.astimezone(UTC) - start).total_seconds()
            periods = max(1, int(elapsed // self.rate_s) + 1)
            return start + timedelta(seconds=periods * self.rate_s)
        zone = tz or ZoneInfo("UTC")
        after_utc = after.astimezone(UTC)
        # Candidates start a day early, in wall-clock days: a shift of clocks never exceeds a
        # day, so no fire after ``after`` is on an earlier local date than that.
        first_day = after_utc.astimezone(zone).date() - timedelta(days=1)
        last_hour, last_minute = self.hours[-1], self.minutes[-1]
        for day in self._days_from(first_day):
            # Wall times of one day map to UTC in order (fold=0), so a day, or an hour, whose
            # last fire is not after ``after`` holds none that is: skipped with one look, not
            # 1,440 (a minutely cron looks at about 90 instants, not 2,900).
            if _not_after(_wall_to_utc(day, last_hour, last_minute, zone), after_utc):
                continue
            for hour in self.hours:
                if _not_after(_wall_to_utc(day, hour, last_minute, zone), after_utc):
                    continue
                for minute in self.minutes:
                    fire = _wall_to_utc(day, hour, minute, zone)
                    if fire is not None and fire > after_utc:
                        return fire
        return None

    def _days_from(self, start: date) -> Iterator[date]:
        year, month = start.year, start.month
        first = start.day
        while year <= _LAST_YEAR:
            if (self.years is None or year in self.years) and month in self.months:
                for number in range(first, calendar.monthrange(year, month)[1] + 1):
                    day = date(year, month, number)
                    if self.day_rule.matches(day):
                        yield day
            first = 1
            month += 1
            if month > 12:
                year, month = year + 1, 1
                if self.years is not None and not any(y >= year for y in self.years):
                    return
                if self.years is None and year > start.year + 28:
                    return  # calendars repeat every 28 years: a day that never came never will


def _not_after(fire: datetime | None, after: datetime) -> bool:
    """Whether a known fire is at or before ``after`` (an unknown one, in a gap, is not)."""
    return fire is not None and fire <= after


def _wall_to_utc(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall time; None for a time the clocks skip. fold=0 picks the first
    of a repeated time, so a repeated hour fires once."""
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    utc = wall.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return utc


def _last_weekday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    weekday = date(year, month, last).weekday()
    return last - max(0, weekday - 4)  # Saturday (5) → Friday, Sunday (6) → Friday


def _nearest_weekday(year: int, month: int, number: int) -> int | None:
    last = calendar.monthrange(year, month)[1]
    if number > last:
        return None
    weekday = date(year, month, number).weekday()
    if weekday == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return number - 1 if number > 1 else number + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return number + 1 if number < last else number - 2
    return number


def _values(
    text: str, low: int, high: int, names: dict[str, int] | None = None, *, wrap: bool = False
) -> set[int]:
    """Expand a field's list of values, ranges and steps (``1,5-9/2,*/15,MON-FRI``)."""
    out: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            left, _, right = base.partition("-")
            first, last = _number(left, names), _number(right, names)
        else:
            first = _number(base, names)
            last = high if step_text else first
        if last < first and wrap:
            span = list(range(first, high + 1)) + list(range(low, last + 1))
        else:
            span = list(range(first, last + 1))
        out.update(span[::step])
    return out


def _number(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    return int(text)


def _python_weekday(aws_day: int) -> int:
    return (aws_day + 5) % 7  # AWS 1=Sunday … 7=Saturday → Python 0=Monday … 6=Sunday


def _aws_day_rule(field: str) -> _DayRule:
    days: set[int] = set()
    nearest: set[int] = set()
    last_day = last_weekday = False
    for item in field.split(","):
        if item == "L":
            last_day = True
        elif item == "LW":
            last_weekday = True
        elif item.endswith("W"):
            nearest.add(int(item[:-1]))
        else:
            days |= _values(item, 1, 31)
    return _DayRule(
        days=frozenset(days),
        last_day=last_day,
        last_weekday_of_month=last_weekday,
        nearest_weekday=frozenset(nearest),
    )


def _aws_weekday_rule(field: str) -> _DayRule:
    weekdays: set[int] = set()
    last_of: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in field.split(","):
        if item == "L":
            weekdays.add(_python_weekday(7))
        elif item.endswith("L"):
            last_of.add(_python_weekday(_number(item[:-1], _AWS_DAY_NAMES)))
        elif "#" in item:
            day, _, n = item.partition("#")
            nth.add((_python_weekday(_number(day, _AWS_DAY_NAMES)), int(n)))
        else:
            values = _values(item, 1, 7, _AWS_DAY_NAMES, wrap=True)
            weekdays |= {_python_weekday(v) for v in values}
    return _DayRule(
        weekdays=frozenset(weekdays), last_of_weekday=frozenset(last_of), nth_weekday=frozenset(nth)
    )


def _unix_day_rule(dom: str, dow: str) -> _DayRule:
    every_day = frozenset(range(1, 32))
    days = frozenset(_values(dom, 1, 31))
    unix = _values(dow, 0, 7, _UNIX_DAY_NAMES, wrap=True)
    weekdays = frozenset((v + 6) % 7 for v in unix)  # 0 and 7 Sunday → 6; 1 Monday → 0
    if dom.startswith("*") and dow.startswith("*"):
        return _DayRule(days=every_day)
    if dow.startswith("*"):
        return _DayRule(days=days)
    if dom.startswith("*"):
        return _DayRule(weekdays=weekdays)
    return _DayRule(days=days, weekdays=weekdays)  # both restricted: either fires (Vixie cron)
