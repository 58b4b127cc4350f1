"""Responses written by skylet's codecs, read by botocore's own parsers: boto3 gets back the
values the service returned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from skylet.aws.protocols import CODECS
from skylet.aws.protocols.models import ServiceModels
from tests.aws.protocols.sdk import client_parse, load

WHEN = datetime(2026, 12, 7, 17, 35, 23, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 18, 0, 0, 123000, tzinfo=UTC)
QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"

SENT = {
    "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592",
    "MD5OfMessageAttributes": "3ae8f24a165a8cedc005670c81a27295",
    "MessageId": "219f8380-5770-4cc2-8c3e-5c715e145f5e",
    "SequenceNumber": "18849496460467696128",
}
RECEIVED = {
    "Messages": [
        {
            "MessageId": "m1",
            "ReceiptHandle": "r1",
            "MD5OfBody": "x",
            "Body": "hello <&> ✓",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1765128923000"},
            "MessageAttributes": {
                "kind": {"DataType": "String", "StringValue": "order"},
                "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            },
        },
        {"MessageId": "m2", "ReceiptHandle": "r2", "Body": ""},
    ]
}
QUEUE_ATTRIBUTES = {"Attributes": {"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:q"}}
METRICS = {
    "MetricDataResults": [
        {
            "Id": "d",
            "Label": "Invocations",
            "Timestamps": [WHEN, LATER],
            "Values": [3.0, 0.5],
            "StatusCode": "Complete",
        }
    ],
    "NextToken": "t",
}
CONFIGURATION = {
    "FunctionName": "hello",
    "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:hello",
    "Runtime": "python3.12",
    "MemorySize": 128,
    "Timeout": 3,
    "CodeSize": 1024,
    "LastModified": "2026-12-07T17:35:23.000+0000",
    "Environment": {"Variables": {"A": "1"}},
    "Layers": [{"Arn": "arn:aws:lambda:us-east-1:000000000000:layer:l:1", "CodeSize": 10}],
}

#: (service, protocol, operation, what the service returns, what boto3 reads when it differs)
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("sqs", "json", "SendMessage", SENT, None),
    ("sqs", "json", "ReceiveMessage", RECEIVED, None),
    ("sqs", "json", "GetQueueAttributes", QUEUE_ATTRIBUTES, None),
    ("sqs", "query", "SendMessage", SENT, None),
    ("sqs", "query", "ReceiveMessage", RECEIVED, None),
    ("sqs", "query", "GetQueueAttributes", QUEUE_ATTRIBUTES, None),
    ("sqs", "json", "ListQueues", {"QueueUrls": [QUEUE], "NextToken": "n"}, None),
    ("sns", "query", "Publish", {"MessageId": "id-1", "SequenceNumber": "1"}, None),
    ("sns", "query", "Subscribe", {"SubscriptionArn": "arn:aws:sns:us-east-1:0:t:s"}, None),
    (
        "sns",
        "query",
        "GetTopicAttributes",
        {"Attributes": {"TopicArn": "arn:aws:sns:us-east-1:0:t", "Policy": '{"a": 1}'}},
        None,
    ),
    (
        "dynamodb",
        "json",
        "PutItem",
        {"Attributes": {"pk": {"S": "user#1"}, "b": {"B": b"\x01"}, "n": {"N": "1.5"}}},
        None,
    ),
    (
        "dynamodb",
        "json",
        "Query",
        {
            "Items": [
                {"pk": {"S": "user#1"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}},
                {"pk": {"S": "user#2"}, "m": {"M": {"x": {"NS": ["1", "2"]}}}},
            ],
            "Count": 2,
            "ScannedCount": 2,
            "LastEvaluatedKey": {"pk": {"S": "user#2"}},
            "ConsumedCapacity": {"TableName": "users", "CapacityUnits": 0.5},
        },
        None,
    ),
    (
        "dynamodb",
        "json",
        "DescribeTable",
        {"Table": {"TableName": "users", "CreationDateTime": LATER, "ItemCount": 7}},
        None,
    ),
    ("cloudwatch", "smithy-rpc-v2-cbor", "GetMetricData", METRICS, None),
    ("cloudwatch", "query", "GetMetricData", METRICS, None),
    ("cloudwatch", "json", "GetMetricData", METRICS, None),
    ("cloudwatch", "smithy-rpc-v2-cbor", "PutMetricData", {}, None),
    (
        "lambda",
        "rest-json",
        "GetFunction",
        {
            "Configuration": CONFIGURATION,
            "Code": {"RepositoryType": "S3", "Location": "https://example/code.zip"},
            "Tags": {"team": "core"},
        },
        None,
    ),
    (
        "lambda",
        "rest-json",
        "ListFunctions",
        {"Functions": [CONFIGURATION, {"FunctionName": "other"}], "NextMarker": "m"},
        None,
    ),
    (
        "lambda",
        "rest-json",
        "Invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "U1RBUlQ=",
            "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorMessage": "boom"}',
        },
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "U1RBUlQ=",
            "ExecutedVersion": "$LATEST",
            "Payload": '{"errorMessage": "boom"}',
        },
    ),
    (
        "s3",
        "rest-xml",
        "ListObjectsV2",
        {
            "IsTruncated": False,
            "Contents": [
                {"Key": "a & b.txt", "LastModified": WHEN, "ETag": '"e1"', "Size": 3},
                {"Key": "c/d", "LastModified": LATER, "ETag": '"e2"', "Size": 0},
            ],
            "Name": "photos",
            "Prefix": "",
            "MaxKeys": 1000,
            "CommonPrefixes": [{"Prefix": "2026/"}],
            "KeyCount": 2,
        },
        None,
    ),
    (
        "s3",
        "rest-xml",
        "GetObject",
        {
            "Body": b"hello",
            "ContentLength": 5,
            "ContentType": "text/plain",
            "ETag": '"5d41"',
            "LastModified": WHEN,
            "Metadata": {"owner": "ana"},
            "AcceptRanges": "bytes",
        },
        {
            "Body": "hello",
            "ContentLength": 5,
            "ContentType": "text/plain",
            "ETag": '"5d41"',
            "LastModified": WHEN,
            "Metadata": {"owner": "ana"},
            "AcceptRanges": "bytes",
        },
    ),
    (
        "s3",
        "rest-xml",
        "GetBucketTagging",
        {"TagSet": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "<v2>"}]},
        None,
    ),
    ("s3", "rest-xml", "PutObject", {"ETag": '"e"', "VersionId": "3"}, None),
    ("lambda", "rest-json", "Invoke", {"StatusCode": 202}, {"StatusCode": 202, "Payload": ""}),
]


def _sentence(case: tuple[str, str, str, dict[str, Any], dict[str, Any] | None]) -> str:
    service, protocol, operation, _, _ = case
    return f"{service} {operation} written in {protocol} reads back in botocore as returned"


@pytest.mark.parametrize("case", CASES, ids=[_sentence(c) for c in CASES])
def test_a_response_reads_back_in_botocore_as_the_service_returned_it(
    models: ServiceModels, case: tuple[str, str, str, dict[str, Any], dict[str, Any] | None]
) -> None:
    service, protocol, operation, result, expected = case
    loaded = load(models, service, protocol)
    response = CODECS[protocol].serialize(loaded.model.operation_model(operation), result, "rid-1")
    assert response.status == result.get("StatusCode", 200)
    assert ("x-amzn-requestid", "rid-1") in response.headers or (
        "x-amz-request-id",
        "rid-1",
    ) in response.headers
    assert client_parse(loaded.model, operation, response, protocol) == (expected or result)
