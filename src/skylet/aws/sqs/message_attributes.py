"""Message bodies and message attributes: SQS's checks, sizes, filters and MD5 digests. Pure.

``MD5OfMessageAttributes`` is SQS's digest over the attributes a response carries, sorted by
name, each as: the name's length (4 bytes, big-endian) and UTF-8 bytes, the data type's length
and bytes, one transport byte (1 for String and Number, 2 for Binary), the value's length and
bytes. SDKs that check it (Java, Go, .NET) recompute exactly this; the system attributes of a
send (``AWSTraceHeader``) get the same digest as ``MD5OfMessageSystemAttributes``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from skylet.aws.sqs.errors import INVALID_CHARACTERS, invalid_parameter, message_contents

MAX_ATTRIBUTES = 10
MAX_NAME_LENGTH = 256
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_TYPE = re.compile(r"(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?")
# SQS's allowed characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TRANSPORT = {"String": 1, "Number": 1, "Binary": 2}
#: Attributes of messages other parts of skylet put on a store queue (Lambda's dead-letter
#: messages) that are not strings.
FOREIGN_TYPES = {"ErrorCode": "Number"}

Attribute = Mapping[str, Any]
"""One attribute as the model has it: ``DataType`` and ``StringValue`` or ``BinaryValue``."""


def check_text(text: str) -> str:
    """A body or string value of characters SQS allows; InvalidMessageContents otherwise."""
    if _INVALID.search(text):
        raise message_contents(INVALID_CHARACTERS)
    return text


def check(attributes: Mapping[str, Attribute], *, kind: str = "user") -> dict[str, Attribute]:
    """MessageAttributes (``kind`` user) or MessageSystemAttributes (``system``) of a send,
    with SQS's errors; only the members that matter are kept."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise invalid_parameter(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    checked: dict[str, Attribute] = {}
    for name, value in attributes.items():
        _check_name(name, kind)
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not (found := _TYPE.fullmatch(data_type)):
            raise invalid_parameter(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        base = found.group(1)
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise invalid_parameter(
                f"Message ({kind}) attribute '{name}': list values are not supported."
            )
        if base == "Binary":
            binary = value.get("BinaryValue")
            if not isinstance(binary, bytes) or not binary:
                raise _empty(kind, name, "Binary")
            checked[name] = {"DataType": data_type, "BinaryValue": binary}
            continue
        text = value.get("StringValue")
        if not isinstance(text, str) or not text:
            raise _empty(kind, name, base)
        check_text(text)
        if base == "Number":
            _check_number(kind, name, text)
        checked[name] = {"DataType": data_type, "StringValue": text}
    return checked


def _check_name(name: str, kind: str) -> None:
    bad = (
        not _NAME.fullmatch(name)
        or ".." in name
        or name.startswith(".")
        or name.endswith(".")
        or (kind == "user" and name.lower().startswith(("aws.", "amazon.")))
    )
    if bad:
        raise invalid_parameter(
            f"Message ({kind}) attribute name '{name}' is invalid: use 1 to {MAX_NAME_LENGTH} "
            "letters, digits, hyphens, underscores and periods (not first, last or twice in a "
            "row), not starting with AWS. or Amazon."
        )


def _empty(kind: str, name: str, data_type: str) -> Exception:
    return invalid_parameter(
        f"Message ({kind}) attribute '{name}' must contain a non-empty value of type '{data_type}'."
    )


def _check_number(kind: str, name: str, text: str) -> None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    # SQS: up to 38 digits of precision, between 10^-128 and 10^+126.
    if (
        number is None
        or not number.is_finite()
        or len(number.as_tuple().digits) > 38
        or (number != 0 and not Decimal("1e-128") <= abs(number) <= Decimal("1e126"))
    ):
        raise invalid_parameter(
            f"Can't cast the value of message ({kind}) attribute '{name}' to a number."
        )


def size(body: str, attributes: Mapping[str, Attribute]) -> int:
    """A message's size as SQS counts it against MaximumMessageSize: the body's UTF-8 bytes,
    and each attribute's name, type and value."""
    total = len(body.encode())
    for name, value in attributes.items():
        total += len(name.encode()) + len(str(value["DataType"]).encode())
        total += len(_value_bytes(value))
    return total


def _value_bytes(value: Attribute) -> bytes:
    binary = value.get("BinaryValue")
    if isinstance(binary, bytes):
        return binary
    return str(value.get("StringValue", "")).encode()


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Mapping[str, Attribute]) -> str | None:
    """SQS's digest of ``attributes`` (see the module's docstring); ``None`` when empty."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        data_type = str(value["DataType"])
        for part in (name.encode(), data_type.encode()):
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
        digest.update(bytes([_TRANSPORT[data_type.split(".", 1)[0]]]))
        payload = _value_bytes(value)
        digest.update(len(payload).to_bytes(4, "big"))
        digest.update(payload)
    return digest.hexdigest()


def selected(attributes: Mapping[str, Attribute], names: Iterable[str]) -> dict[str, Attribute]:
    """The attributes a ReceiveMessage's MessageAttributeNames asks for: ``All``, ``.*`` (or
    ``*``) for every one, ``prefix.*`` for those starting with ``prefix``, else by name."""
    wanted = list(names)
    if not wanted or not attributes:
        return {}
    if any(name in ("All", ".*", "*") for name in wanted):
        return dict(attributes)
    exact = {name for name in wanted if not name.endswith(".*")}
    prefixes = tuple(name[:-2] for name in wanted if name.endswith(".*"))
    return {
        name: value
        for name, value in attributes.items()
        if name in exact or (prefixes and name.startswith(prefixes))
    }
