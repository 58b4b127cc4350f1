"""The next fire of a schedule: tables of cases for rates, AWS cron and Unix cron."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from skylet.manifest import ScheduleExpression
from skylet.schedules.timetable import Timetable


def _fires(expression: str, after: str, count: int, tz: str | None = None) -> list[str]:
    timetable = Timetable.compile(ScheduleExpression.parse(expression))
    zone = ZoneInfo(tz) if tz else None
    at: datetime | None = datetime.fromisoformat(after)
    out = []
    for _ in range(count):
        assert at is not None
        at = timetable.next_after(at, tz=zone)
        out.append(
            "none" if at is None else at.astimezone(zone or UTC).isoformat(timespec="minutes")
        )
        if at is None:
            break
    return out


CASES = [
    (
        "cron(0 1 * * ? *)",
        "2026-05-01T00:59:59+00:00",
        ["2026-05-01T01:00+00:00", "2026-05-02T01:00+00:00"],
        "daily at one",
    ),
    (
        "cron(0 1 * * ? *)",
        "2026-05-01T01:00:00+00:00",
        ["2026-05-02T01:00+00:00"],
        "strictly after a fire",
    ),
    (
        "cron(0/15 * * * ? *)",
        "2026-05-01T10:50:00+00:00",
        ["2026-05-01T11:00+00:00", "2026-05-01T11:15+00:00"],
        "every fifteen minutes across the hour",
    ),
    (
        "cron(5-7 3 * * ? *)",
        "2026-05-01T00:00:00+00:00",
        [
            "2026-05-01T03:05+00:00",
            "2026-05-01T03:06+00:00",
            "2026-05-01T03:07+00:00",
            "2026-05-02T03:05+00:00",
        ],
        "a range of minutes",
    ),
    (
        "cron(0 10-20/5 * * ? *)",
        "2026-05-01T00:00:00+00:00",
        [
            "2026-05-01T10:00+00:00",
            "2026-05-01T15:00+00:00",
            "2026-05-01T20:00+00:00",
            "2026-05-02T10:00+00:00",
        ],
        "a stepped range of hours",
    ),
    (
        "cron(0 0 L * ? *)",
        "2026-01-31T00:00:00+00:00",
        ["2026-02-28T00:00+00:00", "2026-03-31T00:00+00:00", "2026-04-30T00:00+00:00"],
        "last day of each month",
    ),
    (
        "cron(0 0 L 2 ? *)",
        "2027-06-01T00:00:00+00:00",
        ["2028-02-29T00:00+00:00", "2029-02-28T00:00+00:00"],
        "last day of february in and after a leap year",
    ),
    (
        "cron(0 0 29 2 ? *)",
        "2096-03-01T00:00:00+00:00",
        ["2104-02-29T00:00+00:00"],
        "february 29 skips 2100, not a leap year",
    ),
    (
        "cron(0 0 31 * ? *)",
        "2026-03-31T00:00:00+00:00",
        ["2026-05-31T00:00+00:00", "2026-07-31T00:00+00:00"],
        "the 31st skips short months",
    ),
    (
        "cron(0 0 LW * ? *)",
        "2026-01-01T00:00:00+00:00",
        ["2026-01-30T00:00+00:00", "2026-02-27T00:00+00:00", "2026-03-31T00:00+00:00"],
        "last weekday of the month, friday when it ends on a weekend",
    ),
    (
        "cron(0 0 15W * ? *)",
        "2026-08-01T00:00:00+00:00",
        [
            "2026-08-14T00:00+00:00",
            "2026-09-15T00:00+00:00",
            "2026-10-15T00:00+00:00",
            "2026-11-16T00:00+00:00",
        ],
        "nearest weekday to the 15th, friday before a saturday and monday after a sunday",
    ),
    (
        "cron(0 0 1W * ? *)",
        "2026-07-31T00:00:00+00:00",
        ["2026-08-03T00:00+00:00"],
        "the 1st on a saturday moves to monday the 3rd, never into the month before",
    ),
    (
        "cron(0 0 31W * ? *)",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-29T00:00+00:00", "2026-07-31T00:00+00:00"],
        "the 31st on a sunday moves to friday, and months without a 31st do not fire",
    ),
    (
        "cron(0 18 ? * MON-FRI *)",
        "2026-05-01T19:00:00+00:00",
        ["2026-05-04T18:00+00:00", "2026-05-05T18:00+00:00"],
        "weekdays by name skip the weekend",
    ),
    (
        "cron(0 12 ? * 1 *)",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-03T12:00+00:00"],
        "day of week 1 is sunday",
    ),
    (
        "cron(0 12 ? * FRI-MON *)",
        "2026-05-02T13:00:00+00:00",
        ["2026-05-03T12:00+00:00", "2026-05-04T12:00+00:00", "2026-05-08T12:00+00:00"],
        "a weekday range that wraps",
    ),
    (
        "cron(0 12 ? * L *)",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-02T12:00+00:00", "2026-05-09T12:00+00:00"],
        "L alone in day of week is saturday",
    ),
    (
        "cron(15 10 ? * 6L 2022-2030)",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-29T10:15+00:00", "2026-06-26T10:15+00:00"],
        "last friday of the month",
    ),
    (
        "cron(15 10 ? * 6L 2022-2030)",
        "2030-12-27T10:15:00+00:00",
        ["none"],
        "the year field runs out",
    ),
    (
        "cron(0 9 ? * 2#1 *)",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-04T09:00+00:00", "2026-06-01T09:00+00:00"],
        "first monday of the month",
    ),
    (
        "cron(0 9 ? * 5#5 *)",
        "2026-05-01T00:00:00+00:00",
        ["2026-07-30T09:00+00:00", "2026-10-29T09:00+00:00"],
        "fifth thursday only in months that have one",
    ),
    (
        "cron(0 8 1,15 JAN,JUL ? *)",
        "2026-01-15T08:00:00+00:00",
        ["2026-07-01T08:00+00:00", "2026-07-15T08:00+00:00", "2027-01-01T08:00+00:00"],
        "lists of days and months by name",
    ),
    (
        "cron(0 0 1 1 ? 2030)",
        "2026-05-01T00:00:00+00:00",
        ["2030-01-01T00:00+00:00", "none"],
        "a single year",
    ),
    ("cron(0 0 30 2 ? *)", "2026-05-01T00:00:00+00:00", ["none"], "a day no month has never fires"),
    (
        "*/20 * * * *",
        "2026-05-01T10:45:00+00:00",
        ["2026-05-01T11:00+00:00", "2026-05-01T11:20+00:00"],
        "unix cron every twenty minutes",
    ),
    (
        "0 0 * * 0",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-03T00:00+00:00"],
        "unix day of week 0 is sunday",
    ),
    (
        "0 0 * * 7",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-03T00:00+00:00"],
        "unix day of week 7 is sunday too",
    ),
    (
        "0 0 13 * FRI",
        "2026-05-01T00:00:00+00:00",
        ["2026-05-08T00:00+00:00", "2026-05-13T00:00+00:00", "2026-05-15T00:00+00:00"],
        "unix day of month and week both restricted fire on either",
    ),
    (
        "0 0 29 2 *",
        "2026-01-01T00:00:00+00:00",
        ["2028-02-29T00:00+00:00"],
        "unix february 29 waits for a leap year",
    ),
    (
        "cron(0 1 * * ? *)",
        "2026-04-30T22:00:00+00:00",
        ["2026-05-01T01:00+02:00", "2026-05-02T01:00+02:00"],
        "wall time in a zone",
        "Europe/Berlin",
    ),
    (
        "cron(30 2 * * ? *)",
        "2026-03-07T12:00:00+00:00",
        ["2026-03-09T02:30-04:00"],
        "a time the clocks skip in spring does not fire that day",
        "America/New_York",
    ),
    (
        "cron(0 3 * * ? *)",
        "2026-03-07T12:00:00+00:00",
        ["2026-03-08T03:00-04:00", "2026-03-09T03:00-04:00"],
        "the hour after the spring gap fires",
        "America/New_York",
    ),
    (
        "cron(30 1 * * ? *)",
        "2026-10-31T12:00:00+00:00",
        ["2026-11-01T01:30-04:00", "2026-11-02T01:30-05:00"],
        "a time repeated in autumn fires once, at its first occurrence",
        "America/New_York",
    ),
    (
        "cron(0/30 1 * * ? *)",
        "2026-11-01T06:10:00+00:00",
        ["2026-11-02T01:00-05:00"],
        "from inside the repeated hour the repeats do not fire",
        "America/New_York",
    ),
    (
        "cron(0 0 * * ? *)",
        "2026-05-01T12:00:00+00:00",
        ["2026-05-02T00:00+05:45"],
        "a zone with a 45 minute offset",
        "Asia/Kathmandu",
    ),
]


@pytest.mark.parametrize(
    ("expression", "after", "expected", "tz"),
    [pytest.param(c[0], c[1], c[2], c[4] if len(c) > 4 else None, id=str(c[3])) for c in CASES],
)
def test_next_fires(expression: str, after: str, expected: list[str], tz: str | None) -> None:
    assert _fires(expression, after, len(expected), tz) == expected


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        pytest.param(
            "rate(5 minutes)",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:05:00+00:00",
            id="a rate counts from its anchor",
        ),
        pytest.param(
            "rate(5 minutes)",
            "2026-01-01T00:07:30+00:00",
            "2026-01-01T00:10:00+00:00",
            id="a rate keeps its phase",
        ),
        pytest.param(
            "rate(5 minutes)",
            "2026-01-01T00:10:00+00:00",
            "2026-01-01T00:15:00+00:00",
            id="a rate fires strictly after",
        ),
        pytest.param(
            "rate(1 day)",
            "2026-03-08T00:00:00+00:00",
            "2026-03-09T00:00:00+00:00",
            id="a day is 24 hours",
        ),
        pytest.param(
            "rate(2 hours)",
            "2025-12-31T00:00:00+00:00",
            "2026-01-01T02:00:00+00:00",
            id="before its anchor a rate first fires one period after it",
        ),
    ],
)
def test_rates_fire_every_period_from_the_anchor(
    expression: str, after: str, expected: str
) -> None:
    timetable = Timetable.compile(ScheduleExpression.parse(expression))
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    fire = timetable.next_after(datetime.fromisoformat(after), anchor=anchor)
    assert fire is not None and fire.isoformat() == expected


def test_a_rate_across_daylight_saving_time_is_elapsed_time() -> None:
    timetable = Timetable.compile(ScheduleExpression.parse("rate(1 day)"))
    zone = ZoneInfo("America/New_York")
    anchor = datetime(2026, 3, 7, 12, tzinfo=zone)
    fire = timetable.next_after(anchor, tz=zone, anchor=anchor)
    assert fire is not None and fire.astimezone(zone).hour == 13  # 24 h later, clocks moved


def test_a_naive_instant_is_refused() -> None:
    timetable = Timetable.compile(ScheduleExpression.parse("cron(0 1 * * ? *)"))
    with pytest.raises(ValueError, match="aware"):
        timetable.next_after(datetime(2026, 1, 1))
