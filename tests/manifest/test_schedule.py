"""Schedule expression syntax: rates, AWS 6-field cron, 5-field cron."""

from __future__ import annotations

import pytest

from skylet.manifest import ScheduleExpression


@pytest.mark.parametrize(
    ("text", "rate_s"),
    [
        pytest.param("rate(1 minute)", 60, id="one minute"),
        pytest.param("rate(5 minutes)", 300, id="five minutes"),
        pytest.param("rate(1 hour)", 3600, id="one hour"),
        pytest.param("rate(2 days)", 172800, id="two days"),
        pytest.param("  rate( 10 minutes )  ", 600, id="spaces around"),
    ],
)
def test_rates_parse_to_seconds(text: str, rate_s: int) -> None:
    parsed = ScheduleExpression.parse(text)
    assert (parsed.kind, parsed.rate_s, parsed.cron_fields) == ("rate", rate_s, ())


@pytest.mark.parametrize(
    ("text", "flavor"),
    [
        pytest.param("cron(0 1 * * ? *)", "aws", id="daily at one"),
        pytest.param("cron(0/15 * * * ? *)", "aws", id="every fifteen minutes"),
        pytest.param("cron(0 18 ? * MON-FRI *)", "aws", id="weekdays by name"),
        pytest.param("cron(0 9 ? * 2#1 *)", "aws", id="first monday"),
        pytest.param("cron(0 0 L * ? *)", "aws", id="last day of month"),
        pytest.param("cron(0 0 15W * ? *)", "aws", id="nearest weekday"),
        pytest.param("cron(15 10 ? * 6L 2022-2030)", "aws", id="last friday in years"),
        pytest.param("cron(0 8 1,15 JAN,JUL ? *)", "aws", id="lists of days and months"),
        pytest.param("*/5 * * * *", "unix", id="bare five fields"),
        pytest.param("cron(30 2 * * 0)", "unix", id="five fields in cron()"),
        pytest.param("0 0 * * SUN,7", "unix", id="sunday as seven"),
        pytest.param("0 0 * * FRI-MON", "unix", id="wrapping weekday range"),
    ],
)
def test_cron_expressions_keep_their_fields(text: str, flavor: str) -> None:
    parsed = ScheduleExpression.parse(text)
    assert parsed.kind == "cron" and parsed.flavor == flavor
    assert len(parsed.cron_fields) == (6 if flavor == "aws" else 5)
    assert str(parsed) == text.strip()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("rate(1 minutes)", "use 'minute' for a value of 1", id="plural unit for one"),
        pytest.param(
            "rate(5 hour)", "use 'hours' for a value other than 1", id="singular unit for five"
        ),
        pytest.param("rate(0 minutes)", "at least 1", id="zero rate"),
        pytest.param("rate(1 week)", "unknown unit 'week'", id="weeks"),
        pytest.param("rate(five minutes)", "rate(<positive integer> <unit>)", id="words"),
        pytest.param(
            "cron(0 1 * * * *)",
            "exactly one of day-of-month and day-of-week",
            id="no question mark",
        ),
        pytest.param(
            "cron(0 1 ? * ? *)",
            "exactly one of day-of-month and day-of-week",
            id="two question marks",
        ),
        pytest.param(
            "cron(60 1 * * ? *)",
            "minutes field '60': 60 is out of range 0\u201359",
            id="minute sixty",
        ),
        pytest.param("cron(0 1 * 13 ? *)", "month field '13'", id="month thirteen"),
        pytest.param("cron(0 1 ? * 8 *)", "day-of-week field '8'", id="weekday eight"),
        pytest.param("cron(0 1 * * ? 1969)", "year field '1969'", id="year before 1970"),
        pytest.param(
            "cron(0 1 ? * 2#6 *)", "the week number after '#' must be 1\u20135", id="sixth week"
        ),
        pytest.param("cron(0 1 * *)", "has 4 field(s)", id="four fields"),
        pytest.param(
            "cron(*/0 * * * ? *)", "the step after '/' must be a positive integer", id="zero step"
        ),
        pytest.param("cron(5-1 * * * ? *)", "the range runs backwards", id="backwards range"),
        pytest.param("0 0 ? * *", "'?' is not allowed here", id="question mark in unix cron"),
        pytest.param("0 0 * * MONDAY", "'MONDAY' is not a number", id="long weekday name"),
        pytest.param("every day", "has 2 field(s), expected 5 fields", id="prose"),
    ],
)
def test_invalid_expressions_say_what_is_wrong_and_what_is_allowed(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        ScheduleExpression.parse(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r} is not a valid schedule expression: ")
    assert problem in message
    assert message.endswith(
        "(allowed: rate(N minutes|hours|days), AWS cron(6 fields), or a 5-field cron)"
    )
