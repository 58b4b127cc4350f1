"""What to fire when a schedule's last fire is known: the pure decision, clock passed in.

A fire due while skylet was down (or before this node held the lease) runs once on start when
it is at most ``grace_s`` late; older ones are skipped and counted. Of several missed fires only
the latest runs: a schedule that missed a night of ``rate(1 minute)`` fires once, not 600 times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from skylet.schedules.timetable import Timetable

#: How late a missed fire may be and still run (seconds).
DEFAULT_GRACE_S = 300.0
_MAX_WALK = 100_000  # missed fires examined at most: two months of rate(1 minute)


@dataclass(frozen=True, slots=True)
class Decision:
    """``fire``: the due instant to fire now, or None. ``skipped``: missed fires not run.
    ``last``: the instant to keep as the last fire. ``next_due``: the fire after it."""

    fire: datetime | None
    skipped: int
    last: datetime
    next_due: datetime | None


def decide(
    timetable: Timetable,
    last: datetime,
    now: datetime,
    *,
    grace_s: float = DEFAULT_GRACE_S,
    tz: ZoneInfo | None = None,
    anchor: datetime | None = None,
) -> Decision:
    """The decision at ``now`` for a schedule last fired (or first deployed) at ``last``."""
    due = timetable.next_after(last, tz=tz, anchor=anchor)
    if due is None or due > now:
        return Decision(None, 0, last, due)
    missed = 0
    while missed < _MAX_WALK:
        following = timetable.next_after(due, tz=tz, anchor=anchor)
        if following is None or following > now:
            break
        due, missed = following, missed + 1
    following = timetable.next_after(due, tz=tz, anchor=anchor)
    if (now - due).total_seconds() <= grace_s:
        return Decision(due, missed, due, following)
    return Decision(None, missed + 1, due, following)
