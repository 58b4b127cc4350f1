"""Scalars on the wire: timestamps in their three formats, base64 blobs, and the text forms
(query strings, XML text, headers, URI labels) of every scalar type. Pure.

Input is checked and refused with the member named (``Refused("invalid", …)``); output takes
the plain values services return (a datetime, or epoch seconds, for a timestamp; bytes or
str for a blob).
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.model import Shape

from skylet.aws.protocols.types import Refused

ISO8601 = "iso8601"
UNIX = "unixtimestamp"
RFC822 = "rfc822"
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: The range of each integer type (Smithy's: byte 8 bits, short 16, integer 32, long 64).
_BITS = {"byte": 8, "short": 16, "integer": 32, "long": 64}


def check_range(shape: Shape, value: int, where: str) -> int:
    bits = _BITS.get(shape.type_name, 64)
    if -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        return value
    raise invalid(where, value, f"Member must fit in {bits} bits")


def timestamp_format(shape: Shape, default: str) -> str:
    """The member's ``timestampFormat`` if it has one, else the location's default."""
    return str(shape.serialization.get("timestampFormat", default)).lower()


def invalid(where: str, value: object, expected: str) -> Refused:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return Refused(
        "invalid", f"Value {shown} at '{where}' failed to satisfy constraint: {expected}"
    )


def missing(where: str) -> Refused:
    return Refused("missing", where)


# --- timestamps -----------------------------------------------------------------------------


def parse_timestamp(value: object, fmt: str, where: str) -> datetime:
    """A wire timestamp (text in ``fmt``, or epoch seconds as a number) as an aware UTC
    datetime."""
    try:
        if isinstance(value, datetime):  # CBOR's tag 1, decoded
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            if fmt == UNIX:
                return datetime.fromtimestamp(float(value), UTC)
            if fmt == RFC822:
                parsed = parsedate_to_datetime(value)
            else:
                parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError, TypeError):
        pass
    raise invalid(where, value, f"Member must be a timestamp ({fmt})")


def as_datetime(value: object) -> datetime:
    """A service's timestamp value (a datetime, naive meaning UTC, or epoch seconds)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise TypeError(f"a timestamp must be a datetime or epoch seconds, not {value!r}")


def epoch(value: object) -> int | float:
    """Epoch seconds, an int when whole, else to the millisecond (as AWS writes them)."""
    moment = as_datetime(value)
    seconds = moment.timestamp()
    return int(seconds) if moment.microsecond == 0 else round(seconds, 3)


def format_timestamp(value: object, fmt: str) -> str:
    """A timestamp as text: ISO 8601 to the millisecond, epoch seconds, or RFC 822 (GMT)."""
    moment = as_datetime(value).astimezone(UTC)
    if fmt == UNIX:
        return str(epoch(moment))
    if fmt == RFC822:
        return format_datetime(moment.replace(microsecond=0), usegmt=True)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


# --- blobs ----------------------------------------------------------------------------------


def decode_base64(value: object, where: str) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise invalid(where, value, "Member must be base64-encoded binary data")


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"a blob must be bytes or str, not {type(value).__name__}")


def encode_base64(value: object) -> str:
    return base64.b64encode(as_bytes(value)).decode()


# --- the text forms of scalars --------------------------------------------------------------


def scalar_from_text(shape: Shape, text: str, where: str, timestamp_default: str) -> Any:
    """A scalar member from its text form (a query parameter, XML text, a header, a label)."""
    kind = shape.type_name
    if kind in ("string", "character"):
        return text
    if kind in ("integer", "long", "short", "byte"):
        if len(text) > 24:  # no integer type has more digits; int() of huge text is slow
            raise invalid(where, text, "Member must be an integer")
        try:
            number = int(text)
        except ValueError:
            raise invalid(where, text, "Member must be an integer") from None
        return check_range(shape, number, where)
    if kind in ("float", "double"):
        if text in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text]
        try:
            return float(text)
        except ValueError:
            raise invalid(where, text, "Member must be a number") from None
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise invalid(where, text, "Member must be true or false")
    if kind == "timestamp":
        return parse_timestamp(text, timestamp_format(shape, timestamp_default), where)
    if kind == "blob":
        return decode_base64(text, where)
    raise invalid(where, text, f"Member must be a {kind}")


def text_of(shape: Shape, value: object, timestamp_default: str) -> str:
    """A scalar output value as text: ``true``/``false``, ``NaN``/``Infinity``, base64 for a
    blob, the timestamp in its format."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("float", "double"):
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number) if not number.is_integer() else str(value)
    if kind == "timestamp":
        return format_timestamp(value, timestamp_format(shape, timestamp_default))
    if kind == "blob":
        return encode_base64(value)
    return str(value)


def check_number(shape: Shape, value: object, where: str) -> int | float:
    """A JSON or CBOR number for an integer or float member (a float member takes the special
    strings too; a boolean is never a number)."""
    integral = shape.type_name in ("integer", "long", "short", "byte")
    if isinstance(value, bool):
        raise invalid(where, value, "Member must be a number")
    if integral:
        if isinstance(value, int):
            return check_range(shape, value, where)
        raise invalid(where, value, "Member must be an integer")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[value]
    raise invalid(where, value, "Member must be a number")
