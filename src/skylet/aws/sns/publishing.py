"""Publish and PublishBatch: check the message, choose the subscribers whose filter policies
pass it, and store one delivery job per subscriber (``delivery.py``) before answering.

FIFO topics: a message needs ``MessageGroupId``, and ``MessageDeduplicationId`` unless the
topic has ``ContentBasedDeduplication`` (then the SHA-256 of the message is its id). A
duplicate within 5 minutes is answered with the first message's id and delivered once: the
first send of a deduplication id to the store's FIFO queue ``skylet:sns:publishes.fifo``
names the message (the store answers a duplicate with the first message's id), and each
subscriber's job is deduplicated on that id.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sns import filter_policy
from skylet.aws.sns.base import SnsBase
from skylet.aws.sns.catalog import Subscription, Topic
from skylet.aws.sns.delivery import DELIVERIES, FIFO_DELIVERIES
from skylet.aws.sns.messages import (
    MAX_MESSAGE_BYTES,
    Message,
    check_attributes,
    check_size,
    check_subject,
    iso_now,
    size_of,
    structured_texts,
)
from skylet.aws.sns.names import invalid
from skylet.aws.sns.retries import parse_delivery_policy
from skylet.aws.sns.subscriptions import dead_letter_queue
from skylet.errors import ServiceError
from skylet.ids import UuidPool
from skylet.observe.trace_context import CURRENT
from skylet.store.types import SendEntry

PUBLISHES = "skylet:sns:publishes.fifo"
MAX_BATCH = 10
_BATCH_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class PublishOps(SnsBase):
    _ids: UuidPool
    _policies: dict[str, filter_policy.FilterPolicy]

    async def publish(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic_arn = request.get("TopicArn")
        target_arn = request.get("TargetArn")
        if request.get("PhoneNumber"):
            raise invalid("skylet does not send SMS: PhoneNumber")
        if topic_arn and target_arn:
            raise invalid("TopicArn Reason: Only one of TopicArn and TargetArn may be given")
        if not topic_arn and not target_arn:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        topic = self.topic_or_error(
            topic_arn or target_arn, context, parameter="TopicArn" if topic_arn else "TargetArn"
        )
        message = self.message_of(topic, request)
        return await self.fan_out(topic, message)

    async def publish_batch(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        topic = self.topic_or_error(request["TopicArn"], context)
        entries = request.get("PublishBatchRequestEntries") or []
        if not entries:
            raise ServiceError(
                "EmptyBatchRequest", "The batch request doesn't contain any entries."
            )
        if len(entries) > MAX_BATCH:
            raise ServiceError(
                "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible "
                f"(more than {MAX_BATCH}).",
            )
        ids = [entry.get("Id", "") for entry in entries]
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            )
        for entry_id in ids:
            if not 1 <= len(entry_id) <= 80 or not set(entry_id) <= _BATCH_ID:
                raise ServiceError(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long.",
                )
        total = sum(
            size_of(e.get("Message", ""), check_attributes(e.get("MessageAttributes")))
            for e in entries
        )
        if total > MAX_MESSAGE_BYTES:
            raise ServiceError(
                "BatchRequestTooLong",
                f"The length of all the messages put together is more than the limit "
                f"({MAX_MESSAGE_BYTES} bytes).",
            )
        successful: list[Params] = []
        failed: list[Params] = []
        for entry in entries:
            try:
                answer = await self.fan_out(topic, self.message_of(topic, entry))
            except ServiceError as error:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": error.code,
                        "Message": error.message,
                        "SenderFault": error.status < 500,
                    }
                )
                continue
            successful.append({"Id": entry["Id"], **answer})
        return {"Successful": successful, "Failed": failed}

    def message_of(self, topic: Topic, request: Mapping[str, Any]) -> Message:
        """The message a Publish (or a batch entry) asks for, checked as SNS checks it."""
        text = request.get("Message")
        if text is None:
            raise invalid("Message Reason: no value for required parameter")
        subject = check_subject(request.get("Subject"))
        attributes = check_attributes(request.get("MessageAttributes"))
        check_size(text, attributes)
        default, texts = structured_texts(text, request.get("MessageStructure"))
        group = request.get("MessageGroupId")
        dedup = request.get("MessageDeduplicationId")
        if topic.fifo:
            if not group:
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            if not dedup:
                if topic.attributes.get("ContentBasedDeduplication") != "true":
                    raise invalid(
                        "The topic should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly"
                    )
                dedup = hashlib.sha256(text.encode()).hexdigest()
        elif dedup:
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        (message_id,) = self._ids.take(1)
        return Message(
            message_id=message_id,
            topic_arn=topic.arn,
            default=default,
            timestamp=iso_now(self.now()),
            subject=subject,
            attributes=attributes,
            texts=texts,
            group_id=group if topic.fifo else None,
            dedup_id=dedup,
            sequence_number=f"{time.time_ns():026d}" if topic.fifo else None,
        )

    def _filter(self, subscription: Subscription) -> filter_policy.FilterPolicy | None:
        """The subscription's compiled filter policy, cached by its text and scope."""
        text = subscription.attributes.get("FilterPolicy")
        if not text:
            return None
        scope = subscription.attributes.get("FilterPolicyScope", "MessageAttributes")
        key = f"{scope}\n{text}"
        policy = self._policies.get(key)
        if policy is None:
            if len(self._policies) > 10_000:
                self._policies.clear()
            policy = self._policies[key] = filter_policy.parse(text, scope)
        return policy

    def _jobs(self, topic: Topic, message: Message) -> list[tuple[Subscription, bytes]]:
        jobs = []
        stored = message.to_json()
        version = topic.attributes.get("SignatureVersion", "1")
        topic_policy = topic.attributes.get("DeliveryPolicy")
        caller = CURRENT.get()  # the publisher's trace, which each delivery continues
        for s in self.catalog.of_topic(topic.arn):
            if s.pending:
                continue
            text = message.text_for(s.protocol)
            policy = self._filter(s)
            if policy is not None and not policy.matches(message.filter_attributes(), text):
                continue
            job: dict[str, Any] = {
                "kind": "notification",
                "protocol": s.protocol,
                "endpoint": s.endpoint,
                "sub": s.arn,
                "raw": s.raw,
                "sigv": version,
                "dlq": dead_letter_queue(s),
                "msg": {**stored, "default": text},
            }
            if caller is not None:
                job["trace"] = caller.traceparent
            if s.protocol in ("http", "https"):
                chosen = s.attributes.get("DeliveryPolicy") or topic_policy
                if chosen:
                    retry = parse_delivery_policy(chosen, topic=chosen is topic_policy)
                    job["policy"] = {
                        "num_retries": retry.num_retries,
                        "min_delay_s": retry.min_delay_s,
                        "max_delay_s": retry.max_delay_s,
                        "no_delay_retries": retry.no_delay_retries,
                        "min_delay_retries": retry.min_delay_retries,
                        "max_delay_retries": retry.max_delay_retries,
                        "backoff": retry.backoff,
                    }
            jobs.append((s, json.dumps(job, separators=(",", ":")).encode()))
        return jobs

    async def fan_out(self, topic: Topic, message: Message) -> Params:
        """Store the message's delivery jobs (one transaction); answer once they are durable."""
        store = self.deliveries.store
        if not topic.fifo:
            jobs = self._jobs(topic, message)
            if jobs:
                await store.send_batch(DELIVERIES, [SendEntry(body) for _, body in jobs])
            return {"MessageId": message.message_id}
        group, dedup = message.group_id, message.dedup_id
        assert group is not None and dedup is not None
        first = await store.send(
            PUBLISHES,
            b"",
            group_id=topic.arn,
            dedup_id=_digest(topic.arn, dedup),
        )
        message = replace(message, message_id=first)  # a duplicate's is the first message's
        jobs = self._jobs(topic, message)
        if jobs:
            await store.send_batch(
                FIFO_DELIVERIES,
                [
                    SendEntry(
                        body,
                        group_id=_digest(s.arn, group),
                        dedup_id=_digest(s.arn, first),
                    )
                    for s, body in jobs
                ],
            )
        answer: Params = {"MessageId": message.message_id}
        if message.sequence_number is not None:
            answer["SequenceNumber"] = message.sequence_number
        return answer
