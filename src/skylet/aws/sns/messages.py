"""What Publish checks before anything is stored, and the message it builds. Pure.

SNS's rules: a message of 1 byte to 256 KiB (its attributes' names, types and values count
toward the limit), a Subject of at most 100 printable ASCII characters without line breaks,
message attributes of type String, Number, Binary or String.Array (with an optional custom
suffix: ``String.city``), and ``MessageStructure: json``: a JSON object of strings with a
``default`` key, whose other keys (``sqs``, ``lambda``, ``http``, ``https``) give the text a
protocol's subscribers get.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skylet.aws.sns.names import invalid

MAX_MESSAGE_BYTES = 262_144
MAX_SUBJECT_CHARS = 100
MAX_ATTRIBUTE_NAME_CHARS = 256
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SUBJECT = re.compile(r"^[\x20-\x7e]+$")
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One message attribute as the subscriber sees it: ``value`` is text (Binary: base64)."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Message:
    """A published message, ready to fan out. ``texts`` holds MessageStructure's per-protocol
    texts (``default`` when none)."""

    message_id: str
    topic_arn: str
    default: str
    timestamp: str
    subject: str | None = None
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None

    def text_for(self, protocol: str) -> str:
        return self.texts.get(protocol, self.default)

    def filter_attributes(self) -> dict[str, tuple[str, str]]:
        return {name: (a.type, a.value) for name, a in self.attributes.items()}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.message_id,
            "topic": self.topic_arn,
            "default": self.default,
            "ts": self.timestamp,
        }
        if self.subject is not None:
            data["subject"] = self.subject
        if self.attributes:
            data["attrs"] = {n: [a.type, a.value] for n, a in self.attributes.items()}
        for key, value in (
            ("group", self.group_id),
            ("dedup", self.dedup_id),
            ("seq", self.sequence_number),
        ):
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], text: str | None = None) -> Message:
        """A message as stored in a delivery; ``text`` (its protocol's) replaces ``default``."""
        return cls(
            message_id=data["id"],
            topic_arn=data["topic"],
            default=data["default"] if text is None else text,
            timestamp=data["ts"],
            subject=data.get("subject"),
            attributes={n: Attribute(t, v) for n, (t, v) in data.get("attrs", {}).items()},
            group_id=data.get("group"),
            dedup_id=data.get("dedup"),
            sequence_number=data.get("seq"),
        )


def iso_now(epoch_s: float) -> str:
    """``2012-05-02T00:54:06.655Z``: UTC with milliseconds, as SNS writes Timestamp."""
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    if len(subject) > MAX_SUBJECT_CHARS or not _SUBJECT.match(subject):
        raise invalid("Subject")
    return subject


def structured_texts(message: str, structure: str | None) -> tuple[str, dict[str, str]]:
    """The default text and the per-protocol texts of a message."""
    if structure is None:
        return message, {}
    if structure != "json":
        raise invalid("MessageStructure")
    try:
        document = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(document, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in document:
        raise invalid("Message Structure - No default entry in JSON message body")
    if not all(isinstance(v, str) for v in document.values()):
        raise invalid("Message Structure - JSON message body failed to parse")
    texts = {k: v for k, v in document.items() if k != "default"}
    return document["default"], texts


def check_attributes(given: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Attribute]:
    """Publish's MessageAttributes (botocore's parsed shape) as the attributes a subscriber
    sees, or InvalidParameter with SNS's message."""
    out: dict[str, Attribute] = {}
    for name, value in (given or {}).items():
        if (
            not _ATTRIBUTE_NAME.match(name)
            or len(name) > MAX_ATTRIBUTE_NAME_CHARS
            or name.startswith((".", "AWS.", "Amazon."))
            or name.endswith(".")
            or ".." in name
        ):
            raise invalid(f"MessageAttributes: The message attribute name '{name}' is invalid")
        data_type = str(value.get("DataType") or "")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        if base == "Binary":
            raw = value.get("BinaryValue")
            if not raw:
                raise _empty(name, data_type)
            out[name] = Attribute(data_type, base64.b64encode(raw).decode())
            continue
        text = value.get("StringValue")
        if text is None or text == "":
            raise _empty(name, data_type)
        if base == "Number" and not _NUMBER.match(text):
            raise invalid(f"Could not cast message attribute '{name}' value to number.")
        if data_type == "String.Array" and not _is_array(text):
            raise invalid(
                f"The message attribute '{name}' with type 'String.Array' has an invalid value. "
                "The value must be a JSON array of strings, numbers, booleans or null."
            )
        out[name] = Attribute(data_type, text)
    return out


def _empty(name: str, data_type: str) -> Exception:
    return invalid(
        f"The message attribute '{name}' must contain non-empty message attribute value for "
        f"message attribute type '{data_type.split('.', 1)[0]}'."
    )


def _is_array(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) and not any(isinstance(v, dict | list) for v in value)


def size_of(message: str, attributes: Mapping[str, Attribute]) -> int:
    """The bytes SNS counts toward the 256 KiB: the message, and each attribute's name, type
    and value (a Binary value's raw bytes)."""
    total = len(message.encode())
    for name, attribute in attributes.items():
        value = attribute.value
        raw = (
            len(base64.b64decode(value))
            if attribute.type.startswith("Binary")
            else len(value.encode())
        )
        total += len(name.encode()) + len(attribute.type.encode()) + raw
    return total


def check_size(message: str, attributes: Mapping[str, Attribute]) -> None:
    if not message:
        raise invalid("Empty message")
    if size_of(message, attributes) > MAX_MESSAGE_BYTES:
        raise invalid("Message too long")
