"""Missed fires: run once within the grace period, else skipped and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skylet.manifest import ScheduleExpression
from skylet.schedules.catch_up import decide
from skylet.schedules.timetable import Timetable

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _table(expression: str) -> Timetable:
    return Timetable.compile(ScheduleExpression.parse(expression))


@pytest.mark.parametrize(
    ("expression", "now_after_s", "fire_after_s", "skipped"),
    [
        pytest.param("cron(0/5 * * * ? *)", 120, None, 0, id="nothing due yet fires nothing"),
        pytest.param("cron(0/5 * * * ? *)", 300, 300, 0, id="a fire due this instant fires"),
        pytest.param("cron(0/5 * * * ? *)", 400, 300, 0, id="a fire a little late fires once"),
        pytest.param(
            "cron(0/5 * * * ? *)", 1300, 1200, 3, id="of several missed only the latest fires"
        ),
        pytest.param(
            "cron(0 * * * ? *)", 3600 + 301, None, 1, id="a fire older than the grace is skipped"
        ),
        pytest.param(
            "rate(1 minute)", 36000 + 10, 36000, 599, id="a night of rate(1 minute) fires once"
        ),
    ],
)
def test_decisions(
    expression: str, now_after_s: int, fire_after_s: int | None, skipped: int
) -> None:
    decision = decide(_table(expression), T0, T0 + timedelta(seconds=now_after_s), anchor=T0)
    expected = None if fire_after_s is None else T0 + timedelta(seconds=fire_after_s)
    assert (decision.fire, decision.skipped) == (expected, skipped)
    assert decision.next_due is not None and decision.next_due > T0 + timedelta(seconds=now_after_s)
