"""Queue attributes: what CreateQueue and SetQueueAttributes accept, checked and normalised
as SQS does, and what GetQueueAttributes answers. Pure.

The store keeps the attributes it acts on in its own fields (VisibilityTimeout,
MessageRetentionPeriod, DelaySeconds, and RedrivePolicy as the dead-letter queue and its
receive count) and the others, which only this service reads, as strings in
``QueueConfig.attributes``, beside the queue's tags (``tag:KEY``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from skylet.aws.sqs.errors import (
    invalid_attribute_name,
    invalid_attribute_value,
    invalid_parameter,
    unknown_attribute,
)
from skylet.store.types import QueueConfig, QueueStats

DEFAULT_MAXIMUM_MESSAGE_SIZE = 1_048_576  # 1 MiB, SQS's limit since 2025
TAG_PREFIX = "tag:"

#: Integer attributes: (lowest, highest).
_RANGES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1_024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
_CHOICES = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
_FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
#: Attributes kept as text in ``QueueConfig.attributes`` (with their defaults, if shown always).
_KEPT_DEFAULTS = {
    "MaximumMessageSize": str(DEFAULT_MAXIMUM_MESSAGE_SIZE),
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
_FIFO_DEFAULTS = {
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
_KEPT = frozenset(
    {
        *_KEPT_DEFAULTS,
        *_FIFO_DEFAULTS,
        "Policy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
    }
)
_IN_CONFIG = frozenset({"DelaySeconds", "MessageRetentionPeriod", "VisibilityTimeout"})
SETTABLE = frozenset({*_KEPT, *_IN_CONFIG, "RedrivePolicy", "FifoQueue"})
COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
#: Every name GetQueueAttributes knows (``All`` aside).
KNOWN = frozenset({*SETTABLE, *COMPUTED})
MAX_RECEIVE_COUNT = 1_000
MAX_REDRIVE_SOURCES = 10


def check(given: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """The attributes of a CreateQueue or SetQueueAttributes, normalised (``"030"`` is
    ``"30"``, booleans in lower case), with SQS's errors for a name it does not take on this
    queue type and for a value out of its range."""
    checked: dict[str, str] = {}
    for name, raw in given.items():
        if name not in SETTABLE:
            raise unknown_attribute(name)
        if not fifo and name in ("FifoQueue", "ContentBasedDeduplication"):
            raise unknown_attribute(name)
        if not fifo and name in _FIFO_ONLY:
            raise invalid_attribute_name(
                f"You can specify the {name} only when FifoQueue is set to true."
            )
        checked[name] = _value(name, raw)
    if fifo and checked.get("FifoQueue", "true") != "true":
        if creating:
            raise invalid_attribute_value("FifoQueue")
        raise invalid_attribute_value("FifoQueue", "Modifying queue type is not supported.")
    if checked.get("KmsMasterKeyId") and checked.get("SqsManagedSseEnabled") == "true":
        raise invalid_attribute_name(
            "You can use one type of server-side encryption (SSE) at one time. You can either "
            "enable KMS SSE or SQS SSE."
        )
    return checked


def _value(name: str, raw: str) -> str:
    text = raw.strip() if isinstance(raw, str) else str(raw)
    if name in _RANGES:
        low, high = _RANGES[name]
        if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
            raise invalid_attribute_value(name)
        return str(int(text))
    if name in _BOOLEANS:
        if text.lower() not in ("true", "false"):
            raise invalid_attribute_value(name)
        return text.lower()
    if name in _CHOICES:
        if text not in _CHOICES[name]:
            raise invalid_attribute_value(name)
        return text
    if name in ("Policy", "RedriveAllowPolicy") and text:
        document = _json_map(name, text)
        if name == "RedriveAllowPolicy":
            _check_allow_policy(text, document)
        return json.dumps(document, separators=(",", ":"))
    return text


def _json_map(name: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise invalid_parameter(
            f"Value {text} for parameter {name} is invalid. Reason: failed to parse JSON."
        )
    return document


def _check_allow_policy(text: str, document: Mapping[str, Any]) -> None:
    permission = document.get("redrivePermission")
    sources = document.get("sourceQueueArns")
    problem = None
    if permission not in ("allowAll", "denyAll", "byQueue"):
        problem = (
            "Invalid value for redrivePermission, valid values are allowAll, denyAll, byQueue."
        )
    elif permission == "byQueue" and (
        not isinstance(sources, list) or not 1 <= len(sources) <= MAX_REDRIVE_SOURCES
    ):
        problem = f"Specify 1 to {MAX_REDRIVE_SOURCES} source queue ARNs for byQueue."
    elif permission != "byQueue" and sources is not None:
        problem = "sourceQueueArns may only be given with redrivePermission byQueue."
    if problem is not None:
        raise invalid_parameter(
            f"Value {text} for parameter RedriveAllowPolicy is invalid. Reason: {problem}"
        )


def redrive_target(text: str) -> tuple[str, int] | None:
    """A RedrivePolicy's (deadLetterTargetArn, maxReceiveCount); ``None`` for ``""``, which
    removes the policy. SQS's InvalidParameterValue for what is not one."""
    if not text:
        return None
    document = _json_map("RedrivePolicy", text)
    arn, count = document.get("deadLetterTargetArn"), document.get("maxReceiveCount")
    reason = None
    if not isinstance(arn, str) or not arn:
        reason = "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
    elif count is None:
        reason = "Redrive policy does not contain mandatory attribute: maxReceiveCount."
    elif (
        isinstance(count, bool)
        or not str(count).isdigit()
        or not 1 <= int(count) <= MAX_RECEIVE_COUNT
    ):
        reason = (
            f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to "
            f"{MAX_RECEIVE_COUNT} both inclusive."
        )
    if reason is not None:
        raise invalid_parameter(
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"
        )
    assert isinstance(arn, str) and count is not None
    return arn, int(count)


def allows_redrive(dlq: QueueConfig, source_arn: str) -> bool:
    """Whether the dead-letter queue's RedriveAllowPolicy lets ``source_arn`` use it."""
    policy = dlq.attributes.get("RedriveAllowPolicy")
    if not policy:
        return True
    document = json.loads(policy)
    permission = document.get("redrivePermission")
    if permission == "denyAll":
        return False
    return permission != "byQueue" or source_arn in document.get("sourceQueueArns", [])


def apply(
    config: QueueConfig,
    checked: Mapping[str, str],
    dead_letter: Callable[[str], tuple[str, int] | None],
) -> QueueConfig:
    """``config`` with ``checked`` attributes set; ``dead_letter(policy)`` turns a
    RedrivePolicy into the (queue name, receive count) it names, checked against its queue."""
    kept = dict(config.attributes)
    fields: dict[str, Any] = {}
    for name, value in checked.items():
        if name == "VisibilityTimeout":
            fields["visibility_timeout_s"] = float(value)
        elif name == "MessageRetentionPeriod":
            fields["retention_s"] = float(value)
        elif name == "DelaySeconds":
            fields["delay_s"] = float(value)
        elif name == "RedrivePolicy":
            target = dead_letter(value)
            fields["dead_letter_queue"], fields["max_receive_count"] = target or (None, None)
        elif name in _KEPT:
            if value == "" and name in ("Policy", "KmsMasterKeyId", "RedriveAllowPolicy"):
                kept.pop(name, None)
            else:
                kept[name] = value
    if checked.get("KmsMasterKeyId"):
        kept["SqsManagedSseEnabled"] = "false"
    return _replace(config, fields, kept)


def _replace(config: QueueConfig, fields: Mapping[str, Any], kept: dict[str, str]) -> QueueConfig:
    return dataclasses.replace(config, **fields, attributes=kept)


def settable(config: QueueConfig, arn: Callable[[str], str]) -> dict[str, str]:
    """Every settable attribute's current value, as GetQueueAttributes shows it (those
    without a value left out): what CreateQueue's attributes are compared with."""
    shown: dict[str, str] = {
        "DelaySeconds": _seconds(config.delay_s),
        "MessageRetentionPeriod": _seconds(config.retention_s),
        "VisibilityTimeout": _seconds(config.visibility_timeout_s),
        **_KEPT_DEFAULTS,
    }
    if config.fifo:
        shown.update(_FIFO_DEFAULTS, FifoQueue="true")
    for name in _KEPT:
        if name in config.attributes:
            shown[name] = config.attributes[name]
    if not shown.get("KmsMasterKeyId"):
        shown.pop("KmsDataKeyReusePeriodSeconds", None)
    if config.dead_letter_queue is not None and config.max_receive_count is not None:
        shown["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": arn(config.dead_letter_queue),
                "maxReceiveCount": config.max_receive_count,
            },
            separators=(",", ":"),
        )
    return shown


def changed_attribute(current: Mapping[str, str], checked: Mapping[str, str]) -> str | None:
    """The first given attribute whose value differs from the queue's (CreateQueue on an
    existing queue compares only what it is given, as SQS does)."""
    for name, value in checked.items():
        if name == "RedrivePolicy":
            if _same_redrive(current.get(name, ""), value):
                continue
            return name
        if current.get(name, "") != value:
            return name
    return None


def _same_redrive(current: str, given: str) -> bool:
    mine, theirs = redrive_target(current), redrive_target(given)
    return mine == theirs


def shown(
    config: QueueConfig,
    stats: QueueStats,
    names: Iterable[str],
    *,
    arn: Callable[[str], str],
) -> dict[str, str]:
    """GetQueueAttributes: the names asked for (``All`` for every one), in SQS's order."""
    wanted = set(names)
    everything = "All" in wanted
    values = settable(config, arn)
    values.update(
        ApproximateNumberOfMessages=str(stats.visible),
        ApproximateNumberOfMessagesDelayed=str(stats.delayed),
        ApproximateNumberOfMessagesNotVisible=str(stats.in_flight),
        CreatedTimestamp=str(int(config.created_at)),
        LastModifiedTimestamp=str(int(config.modified_at)),
        QueueArn=arn(config.name),
    )
    return {name: values[name] for name in sorted(values) if everything or name in wanted}


def check_names(names: Iterable[str]) -> list[str]:
    """GetQueueAttributes' AttributeNames: InvalidAttributeName for a name SQS does not
    know."""
    listed = list(names)
    for name in listed:
        if name != "All" and name not in KNOWN:
            raise invalid_attribute_name(f"Unknown Attribute {name}.")
    return listed


def tags(config: QueueConfig) -> dict[str, str]:
    return {
        key[len(TAG_PREFIX) :]: value
        for key, value in config.attributes.items()
        if key.startswith(TAG_PREFIX)
    }


def with_tags(
    config: QueueConfig, add: Mapping[str, str], remove: Iterable[str] = ()
) -> QueueConfig:
    kept = dict(config.attributes)
    for key in remove:
        kept.pop(TAG_PREFIX + key, None)
    kept.update({TAG_PREFIX + key: value for key, value in add.items()})
    return _replace(config, {}, kept)


def _seconds(value: float) -> str:
    return str(int(value))
