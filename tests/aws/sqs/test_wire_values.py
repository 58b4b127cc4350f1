"""SQS's pure rules: queue URLs in every form SDKs send, message sizes, digests and attribute
filters (the digests against values recorded from real SQS)."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.aws.sqs import message_attributes as attrs
from skylet.aws.sqs import names
from skylet.errors import ServiceError


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/000000000000/jobs",
        "https://sqs.eu-west-1.amazonaws.com/000000000000/jobs",
        "https://queue.amazonaws.com/000000000000/jobs",
        "http://localhost:4566/000000000000/jobs/",
    ],
)
def test_a_queue_url_is_read_by_its_path(url: str) -> None:
    assert names.name_from_url(url, "000000000000") == "jobs"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/111111111111/jobs",
        "http://127.0.0.1:9000/jobs",
        "http://127.0.0.1:9000/000000000000/jobs/extra",
        "http://127.0.0.1:9000/000000000000/skylet:async:fn",
    ],
    ids=["another account", "no account", "a longer path", "not an SQS name"],
)
def test_a_url_that_names_no_queue_of_this_account_is_a_missing_queue(url: str) -> None:
    with pytest.raises(ServiceError) as raised:
        names.name_from_url(url, "000000000000")
    assert raised.value.code == "QueueDoesNotExist"


def test_the_platforms_own_queues_are_not_sqs_queues() -> None:
    assert names.is_queue_name("jobs") and names.is_queue_name("orders.fifo")
    assert not names.is_queue_name("skylet:async:thumbnail")
    assert not names.is_queue_name("x" * 81)


@pytest.mark.parametrize(
    ("attributes", "digest"),
    [
        ({"Foo": string("Bar")}, "ae7155c6026991b6d54b11589678bf9c"),
        ({"MyAttribute": string("foobar")}, "adb59cd4678ea5a855436b949cd07ab6"),
        (
            {"Help.Me": string("Me"), "Hello": string("There"), "General": string("Kenobi")},
            "4c360f3fdafd970e05fae2f149d997f5",
        ),
        (
            {"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}},
            "235c5c510d26fb653d073faed50ae77c",
        ),
    ],
    ids=["one string", "another string", "three, sorted by name", "a number"],
)
def test_the_attributes_digest_is_sqss(attributes: dict[str, Any], digest: str) -> None:
    assert attrs.md5_of_attributes(attributes) == digest


def test_no_attributes_have_no_digest() -> None:
    assert attrs.md5_of_attributes({}) is None


def test_a_messages_size_counts_its_attributes_names_types_and_values() -> None:
    assert attrs.size("abc", {"k": string("x")}) == 3 + 1 + 6 + 1
    assert (
        attrs.size("é", {"b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}) == 2 + 1 + 6 + 2
    )


@pytest.mark.parametrize(
    "name",
    ["AWS.reserved", "amazon.reserved", ".leading", "trailing.", "two..dots", "spa ce", ""],
)
def test_attribute_names_sqs_refuses_are_refused(name: str) -> None:
    with pytest.raises(ServiceError):
        attrs.check({name: string("v")})


@pytest.mark.parametrize("value", ["1e127", "NaN", "one", "1" * 39])
def test_numbers_sqs_cannot_hold_are_refused(value: str) -> None:
    with pytest.raises(ServiceError):
        attrs.check({"n": {"DataType": "Number", "StringValue": value}})
