"""FIFO queues with a stock boto3 client: order per group, a group held while a message of it
is in flight, deduplication (given, content-based, per group), sequence numbers, and
ReceiveRequestAttemptId."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-fifo")


@pytest.fixture(scope="module")
def sqs(server: SqsServer) -> Any:
    return server.client()


def fifo(sqs: Any, name: str, **attributes: str) -> str:
    return str(
        sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", **attributes})[
            "QueueUrl"
        ]
    )


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def bodies(sqs: Any, url: str, **options: Any) -> list[str]:
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **options)
    return [m["Body"] for m in received.get("Messages", [])]


def test_messages_of_a_group_come_in_order_and_wait_while_one_is_in_flight(sqs: Any) -> None:
    url = fifo(sqs, "ordered", ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="a")
        sqs.send_message(QueueUrl=url, MessageBody=f"b{i}", MessageGroupId="b")

    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in first] == ["a0", "b0"]
    # Both groups have a message in flight: nothing more until they are settled.
    assert bodies(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert bodies(sqs, url) == ["a1", "a2"]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"], VisibilityTimeout=0
    )
    assert bodies(sqs, url) == ["b0", "b1", "b2"]


def test_a_deduplication_id_seen_within_five_minutes_stores_nothing(sqs: Any) -> None:
    url = fifo(sqs, "deduplicated")
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="d-1"
    )
    again = sqs.send_message(
        QueueUrl=url, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="d-1"
    )
    assert again["MessageId"] == sent["MessageId"]
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # Deleted, but its id is still remembered: a resend within the window stays out.
    sqs.send_message(
        QueueUrl=url, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="d-1"
    )
    assert bodies(sqs, url) == []
    attributes = message["Attributes"]
    assert (attributes["MessageGroupId"], attributes["MessageDeduplicationId"]) == ("g", "d-1")
    assert attributes["SequenceNumber"] == sent["SequenceNumber"]
    assert len(sent["SequenceNumber"]) == 20


def test_content_based_deduplication_uses_the_bodys_digest(sqs: Any) -> None:
    url = fifo(sqs, "by-content", ContentBasedDeduplication="true")
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert [m["Body"] for m in received["Messages"]] == ["same", "other"]
    dedup = received["Messages"][0]["Attributes"]["MessageDeduplicationId"]
    assert dedup == "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"


def test_a_message_group_scope_deduplicates_within_each_group(sqs: Any) -> None:
    url = fifo(
        sqs,
        "per-group",
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
    )
    for group in ("a", "b", "a"):
        sqs.send_message(
            QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same"
        )
    assert sorted(bodies(sqs, url)) == ["a", "b"]


def test_sequence_numbers_grow(sqs: Any) -> None:
    url = fifo(sqs, "sequenced", ContentBasedDeduplication="true")
    numbers = [
        int(
            sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g")["SequenceNumber"]
        )
        for i in range(5)
    ]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "MessageBody": f"batch {i}", "MessageGroupId": "g"} for i in range(3)
        ],
    )
    in_batch = [int(e["SequenceNumber"]) for e in batch["Successful"]]
    assert in_batch == sorted(in_batch) and in_batch[0] > numbers[-1]


def test_a_retried_receive_with_the_same_attempt_id_gets_the_same_messages(sqs: Any) -> None:
    url = fifo(sqs, "attempts", ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId=str(i))

    first = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
    )
    retried = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
    )
    other = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-2"
    )

    assert [m["ReceiptHandle"] for m in retried["Messages"]] == [
        m["ReceiptHandle"] for m in first["Messages"]
    ]
    assert [m["Body"] for m in other["Messages"]] == ["2"]


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        pytest.param(
            {"MessageBody": "x", "MessageDeduplicationId": "d"},
            "MissingParameter",
            "The request must contain the parameter MessageGroupId.",
            id="a group id is required",
        ),
        pytest.param(
            {"MessageBody": "x", "MessageGroupId": "g"},
            "InvalidParameterValue",
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly",
            id="a deduplication id is required without content-based deduplication",
        ),
        pytest.param(
            {
                "MessageBody": "x",
                "MessageGroupId": "g",
                "MessageDeduplicationId": "d",
                "DelaySeconds": 2,
            },
            "InvalidParameterValue",
            "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter "
            "that is not valid for this queue type.",
            id="no delay per message",
        ),
        pytest.param(
            {"MessageBody": "x", "MessageGroupId": "group 123", "MessageDeduplicationId": "d"},
            "InvalidParameterValue",
            "Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can "
            "only include alphanumeric and punctuation characters. 1 to 128 in length.",
            id="group ids without spaces",
        ),
    ],
)
def test_fifo_sends_are_checked_as_sqs_checks_them(
    sqs: Any, message: dict[str, Any], code: str, text: str
) -> None:
    url = fifo(sqs, "checked")
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, **message)
    assert error(raised) == (code, text)


def test_a_standard_queue_refuses_a_deduplication_id(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="plain-refuses-dedup")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error(raised)[0] == "InvalidParameterValue"


def test_a_batch_without_a_group_id_fails_that_entry(sqs: Any) -> None:
    url = fifo(sqs, "batched", ContentBasedDeduplication="true")
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g"},
            {"Id": "no-group", "MessageBody": "y"},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["ok"]
    assert [(f["Id"], f["Code"], f["Message"]) for f in result["Failed"]] == [
        (
            "no-group",
            "InvalidParameterValue",
            "The request must contain the parameter MessageGroupId.",
        )
    ]
