"""The pure rules both backends share: receipts, partition hashing, argument ranges."""

from __future__ import annotations

import pytest

from skylet.errors import InvalidParameterValue, InvalidReceipt
from skylet.store import rules
from skylet.store.types import LogConfig


def test_receipt_round_trips() -> None:
    lease = rules.new_lease()
    assert rules.parse_receipt(rules.format_receipt(42, lease)) == (42, lease)


@pytest.mark.parametrize(
    "receipt",
    [
        pytest.param("", id="empty"),
        pytest.param("abc-0123456789abcdef", id="row number is not a number"),
        pytest.param("12-short", id="lease token too short"),
        pytest.param("12", id="no lease at all"),
    ],
)
def test_malformed_receipts_are_refused(receipt: str) -> None:
    with pytest.raises(InvalidReceipt):
        rules.parse_receipt(receipt)


def test_a_key_maps_to_the_same_partition_every_time() -> None:
    # Pinned values: a change here would move every key of every existing log.
    assert [rules.partition_for_key(k, 8) for k in ("a", "b", "user-42")] == [0, 4, 5]
    assert rules.partition_for_key("a", 1) == 0


def test_keys_spread_over_partitions() -> None:
    used = {rules.partition_for_key(f"key-{i}", 4) for i in range(100)}
    assert used == {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("partition", "key", "expected"),
    [
        pytest.param(None, None, 0, id="neither partition nor key means partition 0"),
        pytest.param(3, None, 3, id="an explicit partition is used as given"),
    ],
)
def test_choose_partition(partition: int | None, key: str | None, expected: int) -> None:
    assert rules.choose_partition(LogConfig("s", 4), partition, key) == expected


def test_partition_and_key_together_are_refused() -> None:
    with pytest.raises(InvalidParameterValue):
        rules.choose_partition(LogConfig("s", 4), 1, "k")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty name"),
        pytest.param("x" * 257, id="name over 256 characters"),
        pytest.param("tab\there", id="control character in the name"),
    ],
)
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        rules.check_name("queue", name)


def test_nan_is_not_a_duration() -> None:
    with pytest.raises(InvalidParameterValue):
        rules.check_visibility(float("nan"))


def test_attributes_must_be_strings() -> None:
    with pytest.raises(InvalidParameterValue):
        rules.encode_attributes({"n": 1})  # type: ignore[dict-item]
    assert rules.decode_attributes(rules.encode_attributes({"b": "2", "a": "1"})) == {
        "a": "1",
        "b": "2",
    }
