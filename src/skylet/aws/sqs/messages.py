"""An SQS message as the store keeps it, and as ReceiveMessage (and Lambda's poller) shows
it. Pure.

The store holds the body as UTF-8 bytes and one string attribute, ``META``: a JSON object of
what SQS adds (message attributes with their types, the trace header, the FIFO sequence
number and deduplication id as the sender gave it, the sender). A message on the queue
without it was put there by another part of skylet (a Lambda dead-letter message); its store
attributes read as String message attributes (``FOREIGN_TYPES`` names the exceptions), but
for ``TRACE_ATTRIBUTE``, its ``AWSTraceHeader``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skylet.aws.sqs.message_attributes import (
    FOREIGN_TYPES,
    Attribute,
    md5_of_attributes,
    md5_of_body,
    selected,
)
from skylet.store.types import TRACE_ATTRIBUTE, Message

#: The store attribute that carries SQS's part of a message (``AWS.`` names are reserved in
#: SQS, so no message attribute can collide with it).
META = "AWS.skylet.sqs"

#: The system attributes ReceiveMessage's ``All`` stands for (those a message has).
SYSTEM_NAMES = (
    "ApproximateFirstReceiveTimestamp",
    "ApproximateReceiveCount",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
    "MessageDeduplicationId",
    "MessageGroupId",
    "SenderId",
    "SentTimestamp",
    "SequenceNumber",
)


@dataclass(frozen=True, slots=True)
class Stored:
    """SQS's part of a message, as sent."""

    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    trace_header: str | None = None
    sequence_number: str | None = None
    dedup_id: str | None = None
    sender: str | None = None

    def encode(self) -> dict[str, str]:
        """The store attributes that carry it."""
        document: dict[str, Any] = {}
        if self.attributes:
            document["a"] = {name: _encode(value) for name, value in self.attributes.items()}
        for key, value in (
            ("t", self.trace_header),
            ("n", self.sequence_number),
            ("d", self.dedup_id),
            ("s", self.sender),
        ):
            if value is not None:
                document[key] = value
        return {META: json.dumps(document, separators=(",", ":"))}


def stored(message: Message) -> Stored:
    """SQS's part of a received message, or what stands for it in a foreign one."""
    raw = message.attributes.get(META)
    if raw is None:
        foreign = {
            name: {"DataType": FOREIGN_TYPES.get(name, "String"), "StringValue": value}
            for name, value in message.attributes.items()
            if value and name != TRACE_ATTRIBUTE
        }
        trace = message.attributes.get(TRACE_ATTRIBUTE)
        return Stored(attributes=foreign, trace_header=trace, dedup_id=message.dedup_id)
    document = json.loads(raw)
    return Stored(
        attributes={name: _decode(value) for name, value in document.get("a", {}).items()},
        trace_header=document.get("t"),
        sequence_number=document.get("n"),
        dedup_id=document.get("d"),
        sender=document.get("s"),
    )


def _encode(value: Attribute) -> list[str]:
    if "BinaryValue" in value:
        return [str(value["DataType"]), "b", base64.b64encode(value["BinaryValue"]).decode()]
    return [str(value["DataType"]), "s", str(value["StringValue"])]


def _decode(value: list[str]) -> Attribute:
    data_type, kind, text = value
    if kind == "b":
        return {"DataType": data_type, "BinaryValue": base64.b64decode(text)}
    return {"DataType": data_type, "StringValue": text}


def body_text(message: Message) -> str:
    return message.body.decode("utf-8", "replace")


def system_attributes(
    message: Message,
    meta: Stored,
    *,
    sender: str,
    arn: Callable[[str], str],
) -> dict[str, str]:
    """Every system attribute the message has, by SQS's names (times in milliseconds)."""
    values = {
        "ApproximateFirstReceiveTimestamp": str(int(message.first_received_at * 1000)),
        "ApproximateReceiveCount": str(message.attempts),
        "SenderId": meta.sender or sender,
        "SentTimestamp": str(int(message.sent_at * 1000)),
    }
    if meta.trace_header is not None:
        values["AWSTraceHeader"] = meta.trace_header
    if message.origin is not None:
        values["DeadLetterQueueSourceArn"] = arn(message.origin)
    if message.group_id is not None:
        values["MessageGroupId"] = message.group_id
    if meta.sequence_number is not None:
        values["SequenceNumber"] = meta.sequence_number
    if meta.dedup_id is not None:
        values["MessageDeduplicationId"] = meta.dedup_id
    return values


def received(
    message: Message,
    *,
    system_names: Iterable[str],
    attribute_names: Iterable[str],
    sender: str,
    arn: Callable[[str], str],
) -> dict[str, Any]:
    """The model's ``Message`` for a received message: the system attributes and message
    attributes asked for, and the digests of what it carries."""
    meta = stored(message)
    body = body_text(message)
    shown: dict[str, Any] = {
        "MessageId": message.id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": md5_of_body(body),
        "Body": body,
    }
    wanted = set(system_names)
    if wanted:
        everything = system_attributes(message, meta, sender=sender, arn=arn)
        chosen = {k: v for k, v in everything.items() if "All" in wanted or k in wanted}
        if chosen:
            shown["Attributes"] = chosen
    attributes = selected(meta.attributes, attribute_names)
    if attributes:
        shown["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
        shown["MessageAttributes"] = attributes
    return shown
