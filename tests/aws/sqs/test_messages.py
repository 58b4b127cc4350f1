"""SQS messages with a stock boto3 client: attributes of every type and SQS's digests of them,
receiving (long polling, visibility, attribute filters), deleting, batches and their errors,
and the limits (1 MiB, SQS's characters)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-messages")
MiB = 1_048_576


@pytest.fixture(scope="module")
def sqs(server: SqsServer) -> Any:
    return server.client()


@pytest.fixture
def queue(sqs: Any, request: pytest.FixtureRequest) -> str:
    name = request.node.name.replace("[", "-").replace("]", "")[-80:].replace(" ", "-")
    return str(
        sqs.create_queue(QueueName="".join(c for c in name if c.isalnum() or c in "-_"))["QueueUrl"]
    )


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


# Digests recorded from real SQS for these inputs (AWS's responses, as LocalStack's validated
# tests keep them): skylet must answer the same.
RECORDED_DIGESTS = [
    pytest.param(
        {"Help.Me": string("Me"), "Hello": string("There"), "General": string("Kenobi")},
        "4c360f3fdafd970e05fae2f149d997f5",
        id="three strings",
    ),
    pytest.param({"Foo": string("Bar")}, "ae7155c6026991b6d54b11589678bf9c", id="one string"),
    pytest.param(
        {"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}},
        "235c5c510d26fb653d073faed50ae77c",
        id="a number",
    ),
    pytest.param(
        {
            "attr1": {
                "DataType": "Binary",
                "BinaryValue": b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c"
                b"-2d2482211f6489da-01",
            }
        },
        "8cbe4db156db8a94db8b801b7addb984",
        id="a binary value",
    ),
]


@pytest.mark.parametrize(("attributes", "digest"), RECORDED_DIGESTS)
def test_message_attributes_of_every_type_come_back_with_sqss_digests(
    sqs: Any, queue: str, attributes: dict[str, Any], digest: str
) -> None:
    sent = sqs.send_message(QueueUrl=queue, MessageBody="msg", MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == "6e2baaf3b97dbeef01c0043275f9a0e7"
    assert sent["MD5OfMessageAttributes"] == digest

    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]

    assert message["MessageId"] == sent["MessageId"]
    assert (message["Body"], message["MD5OfBody"]) == ("msg", sent["MD5OfMessageBody"])
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == digest


def test_custom_data_types_keep_their_suffix(sqs: Any, queue: str) -> None:
    attributes = {
        "price": {"DataType": "Number.float", "StringValue": "1.5"},
        "image": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG"},
        "who": {"DataType": "String.name", "StringValue": "ünïcødé ✓"},
    }
    sqs.send_message(QueueUrl=queue, MessageBody="typed", MessageAttributes=attributes)
    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageAttributes"] == attributes


@pytest.mark.parametrize(
    ("names", "shown", "digest"),
    [
        pytest.param([], None, None, id="none asked for"),
        pytest.param(
            ["All"], ["General", "Hello", "Help.Me"], "4c360f3fdafd970e05fae2f149d997f5", id="All"
        ),
        pytest.param(
            [".*"],
            ["General", "Hello", "Help.Me"],
            "4c360f3fdafd970e05fae2f149d997f5",
            id="the .* wildcard",
        ),
        pytest.param(
            ["Hello", "General"],
            ["General", "Hello"],
            "fca026605781cb4126a1e9044df24232",
            id="by name",
        ),
        pytest.param(
            ["Foo", "Hello"],
            ["Hello"],
            "a311262e065454b75da111d535b8dacd",
            id="names that are not there",
        ),
        pytest.param(
            ["Hel.*"], ["Hello", "Help.Me"], "83fee93c1bcd8b9a5a923ffacdc636c7", id="a prefix"
        ),
    ],
)
def test_message_attribute_names_choose_what_comes_back_and_the_digest_covers_that(
    sqs: Any, queue: str, names: list[str], shown: list[str] | None, digest: str | None
) -> None:
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="msg",
        MessageAttributes={
            "Help.Me": string("Me"),
            "Hello": string("There"),
            "General": string("Kenobi"),
        },
    )
    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=names)["Messages"]
    assert sorted(message.get("MessageAttributes", {})) == (shown or [])
    assert message.get("MD5OfMessageAttributes") == digest


def test_system_attributes_are_those_asked_for_by_either_name(sqs: Any, queue: str) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="traced",
        MessageSystemAttributes={"AWSTraceHeader": string(trace)},
    )
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    before = int(time.time() * 1000) + 1

    (every,) = sqs.receive_message(
        QueueUrl=queue, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    (some,) = sqs.receive_message(
        QueueUrl=queue, AttributeNames=["SenderId", "ApproximateReceiveCount", "SequenceNumber"]
    )["Messages"]

    assert set(every["Attributes"]) == {
        "ApproximateFirstReceiveTimestamp",
        "ApproximateReceiveCount",
        "AWSTraceHeader",
        "SenderId",
        "SentTimestamp",
    }
    assert every["Attributes"]["AWSTraceHeader"] == trace
    assert int(every["Attributes"]["SentTimestamp"]) <= before
    assert some["Attributes"] == {"SenderId": "000000000000", "ApproximateReceiveCount": "2"}


def test_receive_takes_at_most_ten_and_a_long_poll_returns_once_a_message_arrives(
    sqs: Any, queue: str
) -> None:
    with pytest.raises(ClientError) as raised:
        sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=11)
    assert error(raised) == (
        "InvalidParameterValue",
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.",
    )
    with pytest.raises(ClientError) as raised:
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=21)
    assert "WaitTimeSeconds" in error(raised)[1]

    received: list[dict[str, Any]] = []
    waiting = threading.Thread(
        target=lambda: received.append(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20))
    )
    started = time.monotonic()
    waiting.start()
    sqs.send_message(QueueUrl=queue, MessageBody="awaited")
    waiting.join(30)
    # Well before the 20 s wait was up: the send woke the poll.
    assert time.monotonic() - started < 15
    assert [m["Body"] for m in received[0]["Messages"]] == ["awaited"]


def test_a_queues_receive_wait_time_is_the_default_long_poll(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="waits-by-default", Attributes={"ReceiveMessageWaitTimeSeconds": "20"}
    )["QueueUrl"]
    received: list[dict[str, Any]] = []
    waiting = threading.Thread(target=lambda: received.append(sqs.receive_message(QueueUrl=url)))
    waiting.start()
    sqs.send_message(QueueUrl=url, MessageBody="late")
    waiting.join(30)
    assert [m["Body"] for m in received[0]["Messages"]] == ["late"]


def test_a_received_message_stays_hidden_for_its_visibility_timeout(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="hidden")
    (first,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=600)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    assert again["MessageId"] == first["MessageId"]
    assert again["ReceiptHandle"] != first["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    with pytest.raises(ClientError) as raised:  # a receipt of an earlier delivery
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=10
        )
    assert error(raised)[1].endswith(
        "Reason: Message does not exist or is not available for visibility timeout change."
    )
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])  # stale: no effect
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=again["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert (
        counts["ApproximateNumberOfMessages"]
        == counts["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )


def test_a_receipt_skylet_never_made_is_refused(sqs: Any, queue: str) -> None:
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as raised:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="garbage")
    assert error(raised) == (
        "ReceiptHandleIsInvalid",
        'The input receipt handle "garbage" is not a valid receipt handle.',
    )


def test_a_message_of_one_mib_is_taken_and_one_byte_more_refused(sqs: Any, queue: str) -> None:
    attribute = {"k": string("x")}  # counts 1 + 6 + 1 bytes
    body = "a" * (MiB - 8)
    sqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=attribute)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody=body + "a", MessageAttributes=attribute)
    assert error(raised) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    )
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert len(message["Body"]) == MiB - 8


def test_a_smaller_maximum_message_size_is_enforced(sqs: Any, queue: str) -> None:
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=queue, MessageBody="a" * 1024)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody="a" * 1025)
    assert error(raised)[1].endswith("Message must be shorter than 1024 bytes.")


@pytest.mark.parametrize(
    "body",
    [f"Invalid-{chr(0)}", f"bell {chr(8)}", f"unit separator {chr(31)}", f"end {chr(0xFFFF)}"],
    ids=["NUL", "a backspace", "a control character", "a noncharacter"],
)
def test_characters_sqs_does_not_allow_are_refused(sqs: Any, queue: str, body: str) -> None:
    with pytest.raises(sqs.exceptions.InvalidMessageContents) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert error(raised)[1].startswith("Invalid characters found.")


def test_an_empty_body_or_attribute_is_refused_as_sqs_does(sqs: Any, queue: str) -> None:
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody="")
    assert error(raised) == (
        "MissingParameter",
        "The request must contain the parameter MessageBody.",
    )
    with pytest.raises(ClientError) as raised:
        sqs.send_message(
            QueueUrl=queue, MessageBody="x", MessageAttributes={"ErrorDetails": string("")}
        )
    assert error(raised) == (
        "InvalidParameterValue",
        "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'.",
    )
    with pytest.raises(ClientError) as raised:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="x",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "one"}},
        )
    assert error(raised)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="x",
            MessageAttributes={f"a{i}": string("v") for i in range(11)},
        )
    assert "exceeds the allowed maximum [10]" in error(raised)[1]


def test_a_delayed_message_is_counted_delayed(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=900)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    counts = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    assert counts["Attributes"] == {"ApproximateNumberOfMessagesDelayed": "1"}
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody="too late", DelaySeconds=901)
    assert "DelaySeconds" in error(raised)[1]


def test_a_batch_is_sent_whole_and_each_bad_entry_fails_alone(sqs: Any, queue: str) -> None:
    entries = [
        {"Id": "plain", "MessageBody": "one"},
        {"Id": "attributed", "MessageBody": "two", "MessageAttributes": {"Foo": string("Bar")}},
        {"Id": "bad-characters", "MessageBody": "\x01"},
        {"Id": "empty-attribute", "MessageBody": "x", "MessageAttributes": {"e": string("")}},
    ]
    result = sqs.send_message_batch(QueueUrl=queue, Entries=entries)

    assert [e["Id"] for e in result["Successful"]] == ["plain", "attributed"]
    assert result["Successful"][1]["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bad-characters", "InvalidMessageContents", True),
        ("empty-attribute", "InvalidParameterValue", True),
    ]
    bodies = sorted(
        m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    )
    assert bodies == ["one", "two"]


@pytest.mark.parametrize(
    ("entries", "code", "message"),
    [
        pytest.param(
            [],
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request.",
            id="no entries",
        ),
        pytest.param(
            [{"Id": str(i), "MessageBody": "x"} for i in range(20)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 20.",
            id="more than ten",
        ),
        pytest.param(
            [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Id same repeated.",
            id="an id twice",
        ),
        pytest.param(
            [{"Id": "invalid:id", "MessageBody": "x"}],
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
            "It can be at most 80 letters long.",
            id="an id SQS does not take",
        ),
        pytest.param(
            [
                {
                    "Id": "1",
                    "MessageBody": "a" * (MiB - 8),
                    "MessageAttributes": {"k": string("x")},
                },
                {"Id": "2", "MessageBody": "a"},
            ],
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.",
            id="over 1 MiB in all",
        ),
    ],
)
def test_a_batch_sqs_refuses_whole_is_refused_with_its_error(
    sqs: Any, queue: str, entries: list[dict[str, Any]], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert error(raised) == (code, message)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_delete_and_change_visibility_batches_answer_each_entry(sqs: Any, queue: str) -> None:
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
    )
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    handles = [m["ReceiptHandle"] for m in received]

    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "ReceiptHandle": handles[0], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ],
    )
    deleted = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "x", "ReceiptHandle": handles[1]},
            {"Id": "y", "ReceiptHandle": handles[2]},
            {"Id": "z", "ReceiptHandle": "garbage"},
        ],
    )

    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert [(f["Id"], f["Code"]) for f in changed["Failed"]] == [("b", "ReceiptHandleIsInvalid")]
    assert [e["Id"] for e in deleted["Successful"]] == ["x", "y"]
    assert [(f["Id"], f["Code"]) for f in deleted["Failed"]] == [("z", "ReceiptHandleIsInvalid")]
    (left,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert left["MessageId"] == received[0]["MessageId"]
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.delete_message_batch(QueueUrl=queue, Entries=[])
