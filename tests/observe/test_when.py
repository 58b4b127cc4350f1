"""``--since``'s moments: durations back from now, ISO 8601 times, epoch seconds."""

from __future__ import annotations

import pytest

from skylet.observe.when import parse_moment

NOW = 1_765_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("30s", NOW - 30, id="seconds back"),
        pytest.param("5m", NOW - 300, id="minutes back"),
        pytest.param("1h", NOW - 3600, id="an hour back"),
        pytest.param("2d", NOW - 172_800, id="days back"),
        pytest.param("1w", NOW - 604_800, id="a week back"),
        pytest.param("2025-12-06T05:46:40Z", 1_765_000_000.0, id="ISO with Z"),
        pytest.param("2025-12-06T06:46:40+01:00", 1_765_000_000.0, id="ISO with an offset"),
        pytest.param("2025-12-06 05:46:40", 1_765_000_000.0, id="ISO without a zone is UTC"),
        pytest.param("2025-12-06", 1_764_979_200.0, id="a date is its midnight UTC"),
        pytest.param("1765000000.5", 1_765_000_000.5, id="epoch seconds"),
    ],
)
def test_moments(text: str, expected: float) -> None:
    assert parse_moment(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "5 minutes", "-5m", "", "5y"])
def test_what_is_not_a_moment_says_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="allowed: a duration"):
        parse_moment(text, NOW)
