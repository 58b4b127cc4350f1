"""Topic operations: CreateTopic (standard and FIFO, idempotent for equal attributes),
ListTopics, Get/SetTopicAttributes, DeleteTopic, and tags (Tag/UntagResource,
ListTagsForResource)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sns.base import SnsBase, listing
from skylet.aws.sns.catalog import Topic
from skylet.aws.sns.names import check_topic_name, invalid, parse_topic_arn, topic_arn
from skylet.aws.sns.retries import parse_delivery_policy
from skylet.errors import ServiceError

#: Attributes CreateTopic and SetTopicAttributes take (FifoTopic only at creation).
SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "KmsMasterKeyId",
        "SignatureVersion",
        "TracingConfig",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "FifoThroughputScope",
        "DataProtectionPolicy",
    }
)
_FEEDBACK = ("SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate")
_FEEDBACK_PROTOCOLS = ("HTTP", "Lambda", "SQS", "Firehose", "Application")
MAX_TAGS = 50
HTTP_DEFAULT_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}


def settable(name: str) -> bool:
    return name in SETTABLE or any(
        name == f"{protocol}{suffix}" for protocol in _FEEDBACK_PROTOCOLS for suffix in _FEEDBACK
    )


def check_attribute(name: str, value: str, *, fifo: bool, reason: str) -> None:
    """One topic attribute's value as SNS checks it; ``reason`` prefixes the message."""
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid(f"{reason}SignatureVersion: Invalid value [{value}]. Must be 1 or 2.")
    if name == "ContentBasedDeduplication":
        if value not in ("true", "false"):
            raise invalid(f"{reason}ContentBasedDeduplication: Invalid value [{value}]")
        if not fifo:
            raise invalid(
                f"{reason}The topic should be a FIFO topic to enable content-based deduplication"
            )
    if name == "DeliveryPolicy" and value:
        parse_delivery_policy(value, topic=True)
    if name in ("Policy", "DataProtectionPolicy", "ArchivePolicy") and value:
        try:
            json.loads(value)
        except ValueError:
            raise invalid(f"{reason}{name}: failed to parse JSON") from None


def default_policy(arn: str, account: str) -> str:
    actions = [
        "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes",
        "SNS:AddPermission",
        "SNS:RemovePermission",
        "SNS:DeleteTopic",
        "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic",
        "SNS:Publish",
    ]
    statement = {
        "Sid": "__default_statement_ID",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": actions,
        "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
    }
    return json.dumps(
        {"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [statement]},
        separators=(",", ":"),
    )


def _tags(given: Any) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given or []:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid("Tags Reason: tag keys are 1-128 characters, values at most 256")
        tags[key] = value
    return tags


class TopicOps(SnsBase):
    async def create_topic(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        name = request["Name"]
        given = dict(request.get("Attributes") or {})
        if "DataProtectionPolicy" in request:
            given["DataProtectionPolicy"] = request["DataProtectionPolicy"]
        fifo_value = given.pop("FifoTopic", "false").lower()
        if fifo_value not in ("true", "false"):
            raise invalid(f"Attributes Reason: FifoTopic: Invalid value [{fifo_value}]")
        fifo = fifo_value == "true"
        check_topic_name(name, fifo=fifo)
        for key, value in given.items():
            if not settable(key):
                raise invalid(f"Attributes Reason: Unknown attribute [{key}]")
            check_attribute(key, value, fifo=fifo, reason="Attributes Reason: ")
        if fifo:
            given["FifoTopic"] = "true"
            given.setdefault("ContentBasedDeduplication", "false")
        tags = _tags(request.get("Tags"))
        arn = topic_arn(context.region, context.account_id, name)
        existing = self.catalog.topics.get(arn)
        if existing is not None:
            if any(existing.attributes.get(k, "") != v for k, v in given.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        if len(tags) > MAX_TAGS:
            raise _tag_limit()
        await self.catalog.put_topic(Topic(arn, name, given, tags, self.now()))
        return {"TopicArn": arn}

    async def list_topics(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        rows = ({"TopicArn": arn} for arn in self.catalog.topics)
        return listing("Topics", rows, request.get("NextToken"))

    async def get_topic_attributes(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        subscriptions = list(self.catalog.of_topic(topic.arn))
        pending = sum(1 for s in subscriptions if s.pending)
        attributes = {
            "TopicArn": topic.arn,
            "Owner": context.account_id,
            "Policy": default_policy(topic.arn, context.account_id),
            "DisplayName": "",
            "SubscriptionsPending": str(pending),
            "SubscriptionsConfirmed": str(len(subscriptions) - pending),
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": json.dumps(HTTP_DEFAULT_POLICY, separators=(",", ":")),
            **topic.attributes,
        }
        if topic.attributes.get("DeliveryPolicy"):
            attributes["EffectiveDeliveryPolicy"] = topic.attributes["DeliveryPolicy"]
        return {"Attributes": attributes}

    async def set_topic_attributes(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        name = request["AttributeName"]
        value = request.get("AttributeValue") or ""
        if not settable(name):
            raise invalid("AttributeName")
        check_attribute(name, value, fifo=topic.fifo, reason="")
        attributes = dict(topic.attributes)
        attributes[name] = value
        await self.catalog.put_topic(replace(topic, attributes=attributes))
        return {}

    async def delete_topic(self, request: Params, context: RequestContext) -> Params:
        """Idempotent, as SNS's: deleting a topic that does not exist succeeds."""
        await self.catalog.refresh()
        arn = request["TopicArn"]
        parse_topic_arn(arn)
        if arn in self.catalog.topics:
            await self.catalog.delete_topic(arn)
        return {}

    def _tagged(self, arn: str, context: RequestContext) -> Topic:
        try:
            return self.topic_or_error(arn, context, parameter="ResourceArn")
        except ServiceError as error:
            if error.code == "NotFound":
                raise ServiceError("ResourceNotFound", "Resource does not exist") from None
            raise

    async def tag_resource(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self._tagged(request["ResourceArn"], context)
        tags = {**topic.tags, **_tags(request.get("Tags"))}
        if len(tags) > MAX_TAGS:
            raise _tag_limit()
        await self.catalog.put_topic(replace(topic, tags=tags))
        return {}

    async def untag_resource(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self._tagged(request["ResourceArn"], context)
        removed = set(request.get("TagKeys") or [])
        tags = {k: v for k, v in topic.tags.items() if k not in removed}
        await self.catalog.put_topic(replace(topic, tags=tags))
        return {}

    async def list_tags_for_resource(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self._tagged(request["ResourceArn"], context)
        return {"Tags": [{"Key": k, "Value": v} for k, v in _sorted(topic.tags)]}


def _sorted(tags: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(tags.items())


def _tag_limit() -> ServiceError:
    return ServiceError(
        "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"
    )
