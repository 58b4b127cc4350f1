"""EventBridge's event envelope, as a rule delivers every event, and the Scheduled Event a
schedule rule sends. Pure: time and id given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skylet import arns


def rule_arn(rule: str, *, region: str, account: str) -> str:
    return arns.arn("events", f"rule/{rule}", region=region, account=account)


def envelope(
    source: str,
    detail_type: str,
    detail: Any,
    *,
    event_id: str,
    when: datetime,
    region: str,
    account: str,
    resources: list[str] | None = None,
) -> dict[str, Any]:
    """An event as EventBridge delivers it: ``time`` in whole seconds, UTC, ``Z``."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources or [],
        "detail": detail,
    }


def scheduled_event(
    rule: str, *, due: datetime, event_id: str, region: str, account: str
) -> dict[str, Any]:
    """The event for the fire due at ``due``: ``time`` is the scheduled instant, not when it
    was sent."""
    return envelope(
        "aws.events",
        "Scheduled Event",
        {},
        event_id=event_id,
        when=due,
        region=region,
        account=account,
        resources=[rule_arn(rule, region=region, account=account)],
    )
