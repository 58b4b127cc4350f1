"""Subscription operations: Subscribe (lambda, sqs, http, https; with its attributes),
ConfirmSubscription (HTTP/S endpoints confirm with the token skylet POSTed them),
Unsubscribe, Get/SetSubscriptionAttributes, ListSubscriptions(ByTopic)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace

from skylet import arns
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sns import filter_policy
from skylet.aws.sns.base import SnsBase, listing
from skylet.aws.sns.catalog import Subscription, Topic
from skylet.aws.sns.delivery import DELIVERIES
from skylet.aws.sns.messages import iso_now
from skylet.aws.sns.names import (
    PENDING,
    PENDING_ARN,
    http_endpoint,
    invalid,
    lambda_endpoint,
    parse_subscription_arn,
    sqs_endpoint,
    subscription_arn,
)
from skylet.aws.sns.retries import parse_delivery_policy
from skylet.aws.sns.topics import HTTP_DEFAULT_POLICY

PROTOCOLS = ("lambda", "sqs", "http", "https")
#: SNS's other protocols: known, but skylet does not deliver to them.
NOT_DELIVERED = ("email", "email-json", "sms", "application", "firehose")
ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
#: A confirmation token is good for three days, as SNS's.
TOKEN_TTL_S = 3 * 24 * 3600.0


def check_attributes(
    attributes: Mapping[str, str], protocol: str, topic: Topic, *, subscribe: bool
) -> dict[str, str]:
    """A subscription's attributes checked as SNS checks them (``subscribe``: the message
    starts "Attributes Reason:"); returns them normalised."""
    reason = "Attributes Reason: " if subscribe else ""
    out = dict(attributes)
    for name in out:
        if name not in ATTRIBUTES:
            raise invalid(f"{reason}Unknown attribute [{name}]" if subscribe else "AttributeName")
    raw = out.get("RawMessageDelivery")
    if raw is not None:
        if raw.lower() not in ("true", "false"):
            raise invalid(
                f"{reason}RawMessageDelivery: Invalid value [{raw}]. Must be true or false."
            )
        if raw.lower() == "true" and protocol == "lambda":
            raise invalid(
                f"{reason}Delivery protocol [{protocol}] does not support raw message delivery."
            )
        out["RawMessageDelivery"] = raw.lower()
    scope = out.get("FilterPolicyScope")
    if scope is not None and scope not in filter_policy.SCOPES:
        raise invalid(
            f"{reason}FilterPolicyScope: Invalid value [{scope}]. Please use either MessageBody "
            "or MessageAttributes"
        )
    policy = out.get("FilterPolicy")
    if policy:
        filter_policy.parse(policy, scope or "MessageAttributes", subscribe=subscribe)
        out.setdefault("FilterPolicyScope", "MessageAttributes")
    redrive = out.get("RedrivePolicy")
    if redrive:
        check_redrive(redrive, topic, reason)
    delivery = out.get("DeliveryPolicy")
    if delivery:
        if protocol not in ("http", "https"):
            raise invalid(
                f"{reason}DeliveryPolicy: only HTTP/S subscriptions take a delivery policy"
            )
        parse_delivery_policy(delivery, topic=False)
    return out


def check_redrive(text: str, topic: Topic, reason: str) -> str:
    """The dead-letter queue's ARN of a ``RedrivePolicy``."""
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(f"{reason}RedrivePolicy: failed to parse JSON.") from None
    target = document.get("deadLetterTargetArn") if isinstance(document, dict) else None
    if not isinstance(target, str):
        raise invalid(f"{reason}RedrivePolicy: deadLetterTargetArn is missing")
    try:
        sqs_endpoint(target)
    except Exception:
        raise invalid(f"{reason}RedrivePolicy: deadLetterTargetArn is an invalid arn") from None
    if topic.fifo != target.endswith(".fifo"):
        raise invalid(
            f"{reason}RedrivePolicy: must use a FIFO queue as DLQ for a FIFO subscription to a "
            "FIFO topic."
            if topic.fifo
            else f"{reason}RedrivePolicy: must use a standard queue "
            "as DLQ for a subscription to a standard topic."
        )
    return target


def dead_letter_queue(subscription: Subscription) -> str | None:
    text = subscription.attributes.get("RedrivePolicy")
    if not text:
        return None
    target = json.loads(text).get("deadLetterTargetArn")
    return target if isinstance(target, str) else None


def check_endpoint(protocol: str, endpoint: str | None, topic: Topic) -> str:
    if protocol in NOT_DELIVERED:
        raise invalid(
            f"skylet does not deliver to the {protocol} protocol (it delivers to "
            f"{', '.join(PROTOCOLS)})"
        )
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if topic.fifo and protocol != "sqs":
        raise invalid(f"Invalid protocol type: {protocol}")
    if not endpoint:
        raise invalid("Endpoint")
    if protocol == "lambda":
        lambda_endpoint(endpoint)
    elif protocol == "sqs":
        sqs_endpoint(endpoint)
    else:
        http_endpoint(protocol, endpoint)
    return endpoint


def _summary(s: Subscription, owner: str) -> Params:
    return {
        "SubscriptionArn": PENDING if s.pending else s.arn,
        "Owner": owner,
        "Protocol": s.protocol,
        "Endpoint": s.endpoint,
        "TopicArn": s.topic_arn,
    }


class SubscriptionOps(SnsBase):
    async def subscribe(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        protocol = request["Protocol"].lower()
        endpoint = check_endpoint(protocol, request.get("Endpoint"), topic)
        attributes = check_attributes(
            request.get("Attributes") or {}, protocol, topic, subscribe=True
        )
        for existing in self.catalog.of_topic(topic.arn):
            if existing.protocol == protocol and existing.endpoint == endpoint:
                if any(existing.attributes.get(k) != v for k, v in attributes.items()):
                    raise invalid(
                        "Attributes Reason: Subscription already exists with different attributes"
                    )
                shown = existing.arn
                if existing.pending and not request.get("ReturnSubscriptionArn"):
                    shown = PENDING_ARN
                return {"SubscriptionArn": shown}
        pending = protocol in ("http", "https")
        subscription = Subscription(
            arn=subscription_arn(topic.arn),
            topic_arn=topic.arn,
            protocol=protocol,
            endpoint=endpoint,
            attributes=attributes,
            pending=pending,
            token=secrets.token_hex(64) if pending else None,
            token_created_at=self.now(),
            created_at=self.now(),
        )
        await self.catalog.put_subscription(subscription)
        if pending:
            await self._send_confirmation(topic, subscription)
            if not request.get("ReturnSubscriptionArn"):
                return {"SubscriptionArn": PENDING_ARN}
        return {"SubscriptionArn": subscription.arn}

    async def _send_confirmation(self, topic: Topic, subscription: Subscription) -> None:
        job = {
            "kind": "confirmation",
            "protocol": subscription.protocol,
            "endpoint": subscription.endpoint,
            "sub": subscription.arn,
            "topic": topic.arn,
            "token": subscription.token,
            "id": str(uuid.uuid4()),
            "ts": iso_now(self.now()),
            "sigv": topic.attributes.get("SignatureVersion", "1"),
            "policy": None,
        }
        await self.deliveries.store.send(DELIVERIES, json.dumps(job).encode())

    async def confirm_subscription(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        token = request["Token"]
        for subscription in self.catalog.of_topic(topic.arn):
            if subscription.token == token and subscription.pending:
                if self.now() - subscription.token_created_at > TOKEN_TTL_S:
                    raise invalid("Token")
                authenticated = str(request.get("AuthenticateOnUnsubscribe", "")).lower() == "true"
                await self.catalog.put_subscription(
                    subscription.confirmed(authenticated=authenticated)
                )
                return {"SubscriptionArn": subscription.arn}
        raise invalid("Token")

    async def unsubscribe(self, request: Params, context: RequestContext) -> Params:
        """Idempotent: an ARN of a subscription that is gone succeeds."""
        await self.catalog.refresh()
        arn = request["SubscriptionArn"]
        parse_subscription_arn(arn)
        if arn in self.catalog.subscriptions:
            await self.catalog.delete_subscription(arn)
        return {}

    async def get_subscription_attributes(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        s = self.subscription_or_error(request["SubscriptionArn"])
        attributes = {
            "SubscriptionArn": s.arn,
            "TopicArn": s.topic_arn,
            "Owner": context.account_id,
            "Protocol": s.protocol,
            "Endpoint": s.endpoint,
            "PendingConfirmation": str(s.pending).lower(),
            "ConfirmationWasAuthenticated": str(s.authenticated or not s.pending).lower(),
            "RawMessageDelivery": "false",
            "SubscriptionPrincipal": arns.root_arn(context.account_id),
            **s.attributes,
        }
        if s.protocol in ("http", "https"):
            attributes["EffectiveDeliveryPolicy"] = s.attributes.get("DeliveryPolicy") or (
                json.dumps(HTTP_DEFAULT_POLICY["http"], separators=(",", ":"))
            )
        return {"Attributes": attributes}

    async def set_subscription_attributes(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        s = self.subscription_or_error(request["SubscriptionArn"])
        topic = self.topic_or_error(s.topic_arn, None)
        name = request["AttributeName"]
        value = request.get("AttributeValue") or ""
        attributes = dict(s.attributes)
        if value == "" and name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            attributes.pop(name, None)
        else:
            attributes[name] = value
        if name == "FilterPolicy" and not value:
            attributes.pop("FilterPolicyScope", None)
        checked = check_attributes(attributes, s.protocol, topic, subscribe=False)
        await self.catalog.put_subscription(replace(s, attributes=checked))
        return {}

    async def list_subscriptions(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        rows = (_summary(s, context.account_id) for s in self.catalog.subscriptions.values())
        return listing("Subscriptions", rows, request.get("NextToken"))

    async def list_subscriptions_by_topic(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        rows = (_summary(s, context.account_id) for s in self.catalog.of_topic(topic.arn))
        return listing("Subscriptions", rows, request.get("NextToken"))
