"""Scalars on the wire: the three timestamp formats, a member's own format, the text forms."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from botocore.model import Shape

from skylet.aws.protocols import values
from skylet.aws.protocols.types import Refused

WHEN = datetime(2026, 12, 7, 17, 35, 23, 250000, tzinfo=UTC)


def shape(kind: str, **traits: str) -> Shape:
    return Shape("S", {"type": kind, **traits})


READ = [
    ("ISO 8601 with Z", shape("timestamp"), "2026-12-07T17:35:23.250Z", values.ISO8601, WHEN),
    (
        "ISO 8601 with an offset",
        shape("timestamp"),
        "2026-12-07T18:35:23.250+01:00",
        values.ISO8601,
        WHEN,
    ),
    ("epoch seconds in text", shape("timestamp"), "1796664923.25", values.UNIX, WHEN),
    (
        "RFC 822 in a header",
        shape("timestamp"),
        "Mon, 07 Dec 2026 17:35:23 GMT",
        values.RFC822,
        WHEN.replace(microsecond=0),
    ),
    (
        "a member's own format wins",
        shape("timestamp", timestampFormat="unixTimestamp"),
        "1796664923.25",
        values.ISO8601,
        WHEN,
    ),
    ("an integer", shape("integer"), "-42", values.ISO8601, -42),
    ("a boolean in any case", shape("boolean"), "TRUE", values.ISO8601, True),
    ("a blob in base64", shape("blob"), "AP8=", values.ISO8601, b"\x00\xff"),
]


@pytest.mark.parametrize(
    ("why", "s", "text", "default", "expected"), READ, ids=[r[0] for r in READ]
)
def test_a_scalar_reads_from_its_text(
    why: str, s: Shape, text: str, default: str, expected: object
) -> None:
    assert values.scalar_from_text(s, text, "M", default) == expected


def test_nan_reads_as_nan() -> None:
    assert math.isnan(values.scalar_from_text(shape("double"), "NaN", "M", values.ISO8601))


REFUSED = [
    ("a timestamp that is not one", shape("timestamp"), "yesterday"),
    ("an integer with a fraction", shape("integer"), "1.5"),
    ("a boolean that is neither", shape("boolean"), "yes"),
    ("base64 with stray characters", shape("blob"), "***"),
    ("an epoch past every calendar", shape("timestamp", timestampFormat="unixTimestamp"), "1e300"),
]


@pytest.mark.parametrize(("why", "s", "text"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_scalar_is_refused_naming_the_member(why: str, s: Shape, text: str) -> None:
    with pytest.raises(Refused) as refused:
        values.scalar_from_text(s, text, "Outer.Member", values.ISO8601)
    assert refused.value.kind == "invalid" and "'Outer.Member'" in refused.value.message


WRITE = [
    (
        "ISO 8601 to the millisecond",
        shape("timestamp"),
        WHEN,
        values.ISO8601,
        "2026-12-07T17:35:23.250Z",
    ),
    (
        "RFC 822 for a header",
        shape("timestamp"),
        WHEN,
        values.RFC822,
        "Mon, 07 Dec 2026 17:35:23 GMT",
    ),
    (
        "epoch seconds given are a timestamp too",
        shape("timestamp"),
        1796664923,
        values.ISO8601,
        "2026-12-07T17:35:23Z",
    ),
    (
        "a member's own format wins",
        shape("timestamp", timestampFormat="unixTimestamp"),
        WHEN,
        values.ISO8601,
        "1796664923.25",
    ),
    ("booleans in lower case", shape("boolean"), True, values.ISO8601, "true"),
    ("infinity by name", shape("double"), math.inf, values.ISO8601, "Infinity"),
    ("a blob in base64", shape("blob"), b"\x00\xff", values.ISO8601, "AP8="),
]


@pytest.mark.parametrize(
    ("why", "s", "value", "default", "expected"), WRITE, ids=[w[0] for w in WRITE]
)
def test_a_scalar_writes_as_its_text(
    why: str, s: Shape, value: object, default: str, expected: str
) -> None:
    assert values.text_of(s, value, default) == expected


RANGES = [
    ("an integer past 32 bits", shape("integer"), "2147483648"),
    ("a long past 64 bits", shape("long"), "9223372036854775808"),
    ("a number with a thousand digits", shape("long"), "9" * 1000),
]


@pytest.mark.parametrize(("why", "s", "text"), RANGES, ids=[r[0] for r in RANGES])
def test_an_integer_out_of_its_types_range_is_refused(why: str, s: Shape, text: str) -> None:
    with pytest.raises(Refused) as refused:
        values.scalar_from_text(s, text, "M", values.ISO8601)
    assert "bits" in refused.value.message or "integer" in refused.value.message


def test_the_largest_long_is_taken() -> None:
    assert values.scalar_from_text(shape("long"), str(2**63 - 1), "M", values.ISO8601) == 2**63 - 1
