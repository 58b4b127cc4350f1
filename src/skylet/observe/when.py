"""Moments as ``skylet logs --since`` and the admin API take them: a duration back from now
(``30s``, ``5m``, ``1h``, ``2d``, ``1w``), an ISO 8601 time (``2026-12-08T10:00:00Z``; without
a zone, UTC), or epoch seconds. Pure: ``now`` is passed in."""

from __future__ import annotations

import datetime
import re

_DURATION = re.compile(r"^([0-9]{1,9})\s*(s|m|h|d|w)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_EPOCH = re.compile(r"^[0-9]{1,12}(?:\.[0-9]{0,9})?$")


def parse_moment(text: str, now: float) -> float:
    """Epoch seconds for ``text``; ValueError saying what is allowed."""
    value = text.strip()
    duration = _DURATION.match(value)
    if duration:
        return now - int(duration.group(1)) * _UNIT_S[duration.group(2)]
    if _EPOCH.match(value):
        return float(value)
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time (allowed: a duration such as 30s, 5m, 1h, 2d, 1w; an ISO "
            "8601 time such as 2026-12-08T10:00:00Z; or epoch seconds)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
