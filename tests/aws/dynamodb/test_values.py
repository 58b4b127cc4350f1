"""Typed values: numbers, sets, sizes, as DynamoDB documents them (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.aws.dynamodb.values import (
    MAX_ITEM_BYTES,
    check_item_size,
    item_size,
    key_bytes,
    normalise,
    size,
)
from skylet.errors import ServiceError


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1.50", "1.5"),
        ("0001", "1"),
        ("1E+3", "1000"),
        ("-0.0", "0"),
        ("1E-130", "1E-130"[:0] + "0." + "0" * 129 + "1"),
    ],
    ids=["trailing zeros", "leading zeros", "exponent", "negative zero", "smallest magnitude"],
)
def test_numbers_are_stored_in_canonical_text(given: str, stored: str) -> None:
    assert normalise({"N": given}) == {"N": stored}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1E+126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1E-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        ("abc", "A value provided cannot be converted into a number"),
        ("NaN", "A value provided cannot be converted into a number"),
    ],
)
def test_numbers_out_of_dynamodbs_range_are_refused(given: str, message: str) -> None:
    with pytest.raises(ServiceError) as error:
        normalise({"N": given})
    assert str(error.value) == message and error.value.code == "ValidationException"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"SS": []}, "One or more parameter values were invalid: An string set may not be empty"),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] "
            "contains duplicates.",
        ),
        (
            {"NS": ["1", "1.0"]},
            "One or more parameter values were invalid: Input collection "
            "[1, 1.0] contains duplicates.",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must "
            "contain exactly one of the supported datatypes",
        ),
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
    ],
    ids=["empty set", "duplicate strings", "duplicate numbers", "two types", "no type"],
)
def test_malformed_values_are_refused(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ServiceError) as error:
        normalise(value)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"S": "héllo"}, 6),
        ({"B": b"\x00\x01\x02"}, 3),
        ({"N": "12345"}, 4),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": []}, 3),
        ({"M": {}}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + 3 + 3),
        ({"SS": ["ab", "c"]}, 3),
    ],
    ids=[
        "utf-8 string",
        "binary",
        "number",
        "bool",
        "null",
        "empty list",
        "empty map",
        "list",
        "string set",
    ],
)
def test_sizes_as_documented(value: dict[str, Any], expected: int) -> None:
    assert size(value) == expected


def test_an_item_past_400_kb_is_refused() -> None:
    item: dict[str, Any] = {"id": {"S": "x"}, "blob": {"B": b"\0" * (MAX_ITEM_BYTES - 7)}}
    assert item_size(item) == MAX_ITEM_BYTES
    check_item_size(item)
    item["blob"] = {"B": b"\0" * (MAX_ITEM_BYTES - 6)}
    with pytest.raises(ServiceError, match="Item size has exceeded the maximum allowed size"):
        check_item_size(item)


def test_strings_and_binaries_order_by_unsigned_bytes() -> None:
    strings = ["", "A", "Z", "a", "aa", "b", "é", "😀"]
    assert [key_bytes({"S": s}) for s in strings] == sorted(key_bytes({"S": s}) for s in strings)
    assert key_bytes({"B": b"\x7f"}) < key_bytes({"B": b"\x80"})
