"""PutEvents: each entry checked as EventBridge checks it (failures per entry, as AWS reports
them), made into the event a rule sees, matched against the bus's enabled rules, and handed to
each matched target before PutEvents answers. Every target's sink is durable when it returns
(a function's queued invocation, an SQS message, an SNS publish whose deliveries are queued),
so an acknowledged event reaches its targets at least once. A delivery that fails is retried
or dead-lettered per the target's RetryPolicy and DeadLetterConfig (``retries.py``), also
before PutEvents answers.

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
from skylet.aws.eventbridge.retries import (
    Failure,
    Policy,
    Redelivery,
    classify,
    dead_letter_attributes,
)
from skylet.aws.json_match import flatten
from skylet.errors import ApiError, ResourceNotFound, SkyletError
from skylet.observe.trace_context import CURRENT, parse_traceparent
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
        for live in index.candidates(flat)
        if live.pattern is not None and live.pattern.matches_flat(flat)
    ]


class Router:
    """Hands matched events to targets; the sinks are wired by the composition root. A failed
    delivery is retried or dead-lettered per the target's policy (``retries.py``)."""

    def __init__(
        self,
        catalog: Catalog,
        functions: Functions | None = None,
        queues: QueueSink | None = None,
        topics: TopicSink | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        redelivery: Redelivery | None = None,
    ) -> None:
        self.catalog = catalog
        self.functions = functions
        self.queues = queues
        self.topics = topics
        self.brokers: BrokerSink | None = None
        self.now = now
        self.region = "us-east-1"
        self.account = arns.ACCOUNT_ID
        self.redelivery = redelivery
        if redelivery is not None:
            redelivery.attempt = self._retry
            redelivery.give_up = self._give_up
        #: Deliveries dead-lettered and dropped since start (for tests and metrics).
        self.dead_lettered = 0
        self.dropped = 0

    def rule_arn(self, bus: str, rule: str) -> str:
        return arns.arn(
            "events", rule_resource(bus, rule), region=self.region, account=self.account
        )

    async def route(
        self,
        bus: str,
        event: Mapping[str, Any],
        hops: int = 0,
        *,
        only: frozenset[str] | None = None,
    ) -> int:
        """Deliver ``event`` on ``bus`` to every matched rule's targets (of the rules named
        ``only``, for a replay); the deliveries made. Returns once each is made, kept for a
        retry, or dead-lettered; raises SkyletError when one could be none of these (the
        store is down): the entry failed."""
        delivered = 0
        for live in matched(self.catalog.index(bus), event):
            if only is None or live.rule.name in only:
                delivered += await self.to_rule(bus, live, event, hops)
        return delivered

    async def replay(self, bus: str, event: Mapping[str, Any], only: frozenset[str] | None) -> int:
        return await self.route(bus, event, only=only)

    async def to_rule(
        self, bus: str, live: LiveRule, event: Mapping[str, Any], hops: int = 0
    ) -> int:
        """Deliver ``event`` to ``live``'s targets (a schedule rule's fire comes here too)."""
        delivered = 0
        arn = self.rule_arn(bus, live.rule.name)
        for target, shaped in live.targets:
            if target.arn.split(":")[2:3] == ["events"]:
                other = target.arn.rsplit("event-bus/", 1)[-1]
                if other not in self.catalog.buses:
                    gone = ResourceNotFound(f"Event bus {other} does not exist.")
                    await self._failed(target, arn, event, b"", classify(gone))
                elif hops < _MAX_HOPS:
                    delivered += await self.route(other, event, hops + 1)
                continue
            payload = shaped.render(event, rule_arn=arn, rule_name=live.rule.name)
            try:
                await self._deliver(target, payload, event)
                delivered += 1
            except SkyletError as error:
                await self._failed(target, arn, event, payload, classify(error))
        return delivered

    async def _failed(
        self,
        target: Target,
        rule_arn: str,
        event: Mapping[str, Any],
        payload: bytes,
        failure: Failure,
    ) -> None:
        policy = Policy.of(target.spec)
        first = self.now().timestamp()
        job: dict[str, Any] = {
            "target": {"id": target.id, "arn": target.arn, "spec": dict(target.spec)},
            "rule": rule_arn,
            "payload": payload.decode(),
            "event": dict(event),
            "first": first,
            "attempts": policy.attempts,
            "age_s": policy.age_s,
            "dlq": policy.dlq,
        }
        caller = CURRENT.get()
        if caller is not None:  # the retries and the dead letter continue the event's trace
            job["trace"] = caller.traceparent
        if failure.retry and self.redelivery is not None:
            delay = self.redelivery.first_delay(policy, first)
            if isinstance(delay, float):
                log.info("rule %s: target %s failed (%s), retried", rule_arn, target.id, failure)
                await self.redelivery.store(job, delay)
                return
            await self._give_up(job, failure, 0, delay)
            return
        await self._give_up(job, failure, 0, None)

    async def _retry(self, job: dict[str, Any]) -> None:
        spec = job["target"]
        target = Target(spec["id"], spec["arn"], spec["spec"])
        token = CURRENT.set(parse_traceparent(job.get("trace")))
        try:
            await self._deliver(target, job["payload"].encode(), job["event"])
        finally:
            CURRENT.reset(token)

    async def _give_up(
        self, job: dict[str, Any], failure: Failure, retries: int, exhausted: str | None
    ) -> None:
        """The event to the target's dead-letter queue, or dropped (logged) without one."""
        token = CURRENT.set(parse_traceparent(job.get("trace")))
        try:
            await self._dead_letter(job, failure, retries, exhausted)
        finally:
            CURRENT.reset(token)

    async def _dead_letter(
        self, job: dict[str, Any], failure: Failure, retries: int, exhausted: str | None
    ) -> None:
        target_arn = job["target"]["arn"]
        dlq = job.get("dlq")
        if dlq and self.queues is not None:
            attributes = dead_letter_attributes(
                rule_arn=job["rule"],
                target_arn=target_arn,
                failure=failure,
                retries=retries,
                exhausted=exhausted,
            )
            try:
                await self.queues.send(dlq, json.dumps(job["event"]), attributes)
                self.dead_lettered += 1
                return
            except ApiError as error:  # the DLQ itself is missing: dropped, as on AWS
                log.warning("rule %s: dead-letter queue %s refused: %s", job["rule"], dlq, error)
        self.dropped += 1
        log.warning(
            "rule %s: the event for target %s is dropped after %d retries: %s %s",
            job["rule"],
            target_arn,
            retries,
            failure.code,
            failure.message,
        )

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
