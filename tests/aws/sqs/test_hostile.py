"""What a client should not send gets SQS's 4xx, never a 500: malformed values past boto3's
own checks, and raw requests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-hostile")


@pytest.fixture(scope="module")
def loose(server: SqsServer) -> Any:
    """A client that does not check parameters before sending them."""
    sqs = server.client(parameter_validation=False)
    sqs.create_queue(QueueName="target")
    return sqs


QUEUE = "http://127.0.0.1/000000000000/target"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("send_message", {"QueueUrl": "http://[::1", "MessageBody": "x"}),
        ("send_message", {"QueueUrl": "", "MessageBody": "x"}),
        ("send_message", {"QueueUrl": QUEUE, "MessageBody": "x", "DelaySeconds": -1}),
        ("send_message", {"QueueUrl": QUEUE, "MessageBody": "x", "MessageAttributes": {"a": {}}}),
        (
            "send_message",
            {
                "QueueUrl": QUEUE,
                "MessageBody": "x",
                "MessageAttributes": {"a": {"DataType": "Binary", "StringValue": "s"}},
            },
        ),
        (
            "send_message",
            {
                "QueueUrl": QUEUE,
                "MessageBody": "x",
                "MessageSystemAttributes": {"Other": {"DataType": "String", "StringValue": "s"}},
            },
        ),
        ("send_message_batch", {"QueueUrl": QUEUE, "Entries": [{"Id": "1"}]}),
        ("receive_message", {"QueueUrl": QUEUE, "VisibilityTimeout": -5}),
        ("receive_message", {"QueueUrl": QUEUE, "MaxNumberOfMessages": 0}),
        ("delete_message", {"QueueUrl": QUEUE, "ReceiptHandle": ""}),
        (
            "change_message_visibility",
            {"QueueUrl": QUEUE, "ReceiptHandle": "1-0123456789abcdef", "VisibilityTimeout": 50000},
        ),
        ("create_queue", {"QueueName": "", "Attributes": {}}),
        ("create_queue", {"QueueName": "bad name"}),
        ("create_queue", {"QueueName": "r", "Attributes": {"RedrivePolicy": "{not json"}}),
        (
            "create_queue",
            {
                "QueueName": "r",
                "Attributes": {
                    "RedrivePolicy": '{"deadLetterTargetArn": "dummy", "maxReceiveCount": 1}'
                },
            },
        ),
        (
            "create_queue",
            {
                "QueueName": "r",
                "Attributes": {"RedriveAllowPolicy": '{"redrivePermission": "byQueue"}'},
            },
        ),
        ("set_queue_attributes", {"QueueUrl": QUEUE, "Attributes": {"Policy": "[]"}}),
        ("get_queue_attributes", {"QueueUrl": QUEUE, "AttributeNames": ["Nonsense"]}),
        ("list_queues", {"MaxResults": 0}),
        ("list_queues", {"MaxResults": 10, "NextToken": "%%%"}),
        ("tag_queue", {"QueueUrl": QUEUE, "Tags": {"": "empty key"}}),
        ("start_message_move_task", {"SourceArn": "not an arn"}),
        (
            "list_message_move_tasks",
            {"SourceArn": "arn:aws:sqs:us-east-1:000000000000:target", "MaxResults": 11},
        ),
    ],
)
def test_bad_values_are_refused_with_a_4xx(
    loose: Any, operation: str, params: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        getattr(loose, operation)(**params)
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500, raised.value.response


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (
            {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"},
            b"{",
        ),
        (
            {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"},
            b"[]",
        ),
        (
            {"X-Amz-Target": "AmazonSQS.Frobnicate", "Content-Type": "application/x-amz-json-1.0"},
            b"{}",
        ),
        (
            {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"},
            b'{"QueueUrl": 5}',
        ),
        (
            {
                "X-Amz-Target": "AmazonSQS.ReceiveMessage",
                "Content-Type": "application/x-amz-json-1.0",
            },
            b'{"QueueUrl": "q", "MaxNumberOfMessages": "ten"}',
        ),
    ],
    ids=[
        "truncated JSON",
        "not an object",
        "an unknown operation",
        "a number for a URL",
        "a string for a number",
    ],
)
def test_raw_requests_sqs_cannot_read_get_its_json_errors(
    server: SqsServer, headers: dict[str, str], body: bytes
) -> None:
    response = httpx.post(server.url + "/", headers=headers, content=body)
    assert 400 <= response.status_code < 500
    assert "__type" in response.json()
