"""PutEvents: each entry checked as EventBridge checks it (failures per entry, as AWS reports
them), made into the event a rule sees, matched against the bus's enabled rules, and handed to
each matched target before PutEvents answers. Every target's sink is durable when it returns
(a function's queued invocation, an SQS message, an SNS publish whose deliveries are queued),
so an acknowledged event reaches its targets at least once.

Targets by ARN: ``lambda`` functions (an asynchronous invocation, with its retries and dead
letters), ``sqs`` queues (``SqsParameters.MessageGroupId`` for FIFO queues), ``sns`` topics,
``events`` buses (the event as it is, matched there against that bus's rules), and skylet's
Knative brokers, ``arn:aws:skylet:REGION:ACCOUNT:broker/NAME`` (the event as a CloudEvent,
docs/eventing.md).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from skylet import arns
from skylet.aws.eventbridge.catalog import Catalog, LiveRule, RuleIndex, Target
from skylet.aws.json_match import flatten
from skylet.errors import ApiError, ResourceNotFound
from skylet.schedules.scheduled_event import envelope

log = logging.getLogger(__name__)
MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 1 << 20  # 1 MiB over all entries (AWS's limit since 2026)
_MAX_HOPS = 5  # bus-to-bus forwarding: AWS stops an event loop; so does this


class Functions(Protocol):
    async def enqueue(
        self, function: str, payload: bytes, *, qualifier: str | None = None
    ) -> str: ...


class QueueSink(Protocol):
    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None: ...


class TopicSink(Protocol):
    async def publish(self, topic: str, message: bytes, attributes: Mapping[str, str]) -> None: ...


class BrokerSink(Protocol):
    async def from_eventbridge(
        self, broker: str, event: Mapping[str, Any], payload: bytes
    ) -> None: ...


def entry_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as AWS counts it toward the limit: its text members' UTF-8 bytes."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode())
    return size + sum(len(str(r).encode()) for r in entry.get("Resources") or ())


def entry_failure(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why PutEvents refuses one entry, as ``(ErrorCode, ErrorMessage)``, else None."""
    for member, name in (("Source", "Source"), ("DetailType", "DetailType"), ("Detail", "Detail")):
        if not entry.get(member):
            reason = f"{name} is a required argument."
            return "InvalidArgument", f"Parameter {name} is not valid. Reason: {reason}"
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def build_event(
    entry: Mapping[str, Any], *, event_id: str, now: datetime, region: str, account: str
) -> dict[str, Any]:
    """The event a rule matches and a target receives (``Time`` defaults to now)."""
    return envelope(
        entry["Source"],
        entry["DetailType"],
        json.loads(entry["Detail"]),
        event_id=event_id,
        when=entry.get("Time") or now,
        region=region,
        account=account,
        resources=list(entry.get("Resources") or []),
    )


def matched(index: RuleIndex, event: Mapping[str, Any]) -> list[LiveRule]:
    """The enabled pattern rules ``event`` matches: the event flattened once, and only the
    rules the index cannot rule out evaluated."""
    flat = flatten(event)
    return [
        live
        for live in index.candidates(event.get("source"))
        if live.pattern is not None and live.pattern.matches_flat(flat)
    ]


class Router:
    """Hands matched events to targets; the sinks are wired by the composition root."""

    def __init__(
        self,
        catalog: Catalog,
        functions: Functions | None = None,
        queues: QueueSink | None = None,
        topics: TopicSink | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog
        self.functions = functions
        self.queues = queues
        self.topics = topics
        self.brokers: BrokerSink | None = None
        self.now = now
        self.region = "us-east-1"
        self.account = arns.ACCOUNT_ID

    async def route(self, bus: str, event: Mapping[str, Any], hops: int = 0) -> int:
        """Deliver ``event`` on ``bus`` to every matched rule's targets; the deliveries made."""
        delivered = 0
        for live in matched(self.catalog.index(bus), event):
            arn = arns.arn(
                "events",
                rule_resource(bus, live.rule.name),
                region=self.region,
                account=self.account,
            )
            for target, shaped in live.targets:
                if target.arn.split(":")[2:3] == ["events"]:
                    if hops < _MAX_HOPS:
                        other = target.arn.rsplit("event-bus/", 1)[-1]
                        delivered += await self.route(other, event, hops + 1)
                    continue
                payload = shaped.render(event, rule_arn=arn, rule_name=live.rule.name)
                try:
                    await self._deliver(target, payload, event)
                    delivered += 1
                except (ApiError, ResourceNotFound) as error:
                    # The target is gone or refuses: AWS drops such an event for that target
                    # (after its retries) and counts a failed invocation; so does skylet.
                    log.warning("rule %s: target %s failed: %s", live.rule.name, target.id, error)
        return delivered

    async def _deliver(
        self, target: Target, payload: bytes, event: Mapping[str, Any] | None = None
    ) -> None:
        parts = target.arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service == "lambda" and self.functions is not None:
            name = parts[6] if len(parts) > 6 else target.arn
            qualifier = parts[7] if len(parts) > 7 else None
            await self.functions.enqueue(name, payload, qualifier=qualifier)
        elif service == "sqs" and self.queues is not None:
            group = (target.spec.get("SqsParameters") or {}).get("MessageGroupId")
            dedup = str(uuid.uuid4()) if group else None
            await self.queues.send(target.arn, payload.decode(), {}, group_id=group, dedup_id=dedup)
        elif service == "sns" and self.topics is not None:
            await self.topics.publish(target.arn, payload, {})
        elif service == "skylet" and parts[5].startswith("broker/") and self.brokers is not None:
            await self.brokers.from_eventbridge(parts[5][len("broker/") :], event or {}, payload)
        else:
            raise ResourceNotFound(f"no {service or 'such'} target is served: {target.arn}")


def rule_resource(bus: str, rule: str) -> str:
    return f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}"
