"""The event Lambda's SQS poller gives a function, and what the function's answer means.
Pure.

A record, in Lambda's order and spelling::

    {"messageId", "receiptHandle", "body",
     "attributes": {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                    "ApproximateFirstReceiveTimestamp", …the FIFO ones, AWSTraceHeader…},
     "messageAttributes": {"name": {"stringValue" | "binaryValue" (base64),
                                    "stringListValues": [], "binaryListValues": [],
                                    "dataType"}},
     "md5OfMessageAttributes": null | "…", "md5OfBody",
     "eventSource": "aws:sqs", "eventSourceARN", "awsRegion"}

With ``ReportBatchItemFailures``, a function answers ``{"batchItemFailures": [{"itemIdentifier":
messageId}, …]}``: those are kept for another try and the rest deleted; an empty or null list,
or an empty or null answer, is a success. Anything else fails the whole batch, as Lambda does:
an answer that is not a JSON object, a failure without an identifier, one that names no
message of the batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from skylet.aws.sqs import messages
from skylet.aws.sqs.message_attributes import Attribute, md5_of_attributes, md5_of_body
from skylet.store.types import Message

#: The first system attributes of a record, in Lambda's order; the others follow.
_FIRST = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
)


def record(
    message: Message, *, queue_arn: str, region: str, sender: str, arn: Callable[[str], str]
) -> dict[str, Any]:
    meta = messages.stored(message)
    body = messages.body_text(message)
    system = messages.system_attributes(message, meta, sender=sender, arn=arn)
    attributes = {name: system[name] for name in _FIRST}
    attributes.update((k, v) for k, v in sorted(system.items()) if k not in attributes)
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {name: _attribute(value) for name, value in meta.attributes.items()},
        "md5OfMessageAttributes": md5_of_attributes(meta.attributes),
        "md5OfBody": md5_of_body(body),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _attribute(value: Attribute) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    if "BinaryValue" in value:
        shown["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    else:
        shown["stringValue"] = value["StringValue"]
    shown.update(stringListValues=[], binaryListValues=[], dataType=value["DataType"])
    return shown


def filter_view(entry: dict[str, Any]) -> dict[str, Any]:
    """A record as filter patterns see it: its ``body`` parsed when it is JSON."""
    body = entry["body"]
    try:
        parsed = json.loads(body)
    except ValueError:
        return entry
    return {**entry, "body": parsed}


def failed_items(payload: bytes, message_ids: Sequence[str]) -> set[str] | None:
    """The messages a ReportBatchItemFailures answer keeps for another try (empty: all
    succeeded); ``None`` when the answer fails the whole batch."""
    if not payload.strip():
        return set()
    try:
        answer = json.loads(payload)
    except ValueError:
        return None
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    known = set(message_ids)
    kept: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        kept.add(identifier)
    return kept
