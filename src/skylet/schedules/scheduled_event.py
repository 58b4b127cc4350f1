"""EventBridge's Scheduled Event, exactly as a schedule rule sends it. Pure: time and id given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skylet import arns


def rule_arn(rule: str, *, region: str, account: str) -> str:
    return arns.arn("events", f"rule/{rule}", region=region, account=account)


def scheduled_event(
    rule: str, *, due: datetime, event_id: str, region: str, account: str
) -> dict[str, Any]:
    """The event for the fire due at ``due``: ``time`` is the scheduled instant (whole seconds,
    UTC, ``Z``), not when it was sent."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn(rule, region=region, account=account)],
        "detail": {},
    }
