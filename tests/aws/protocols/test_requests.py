"""Requests made by botocore's own client serializers, read by skylet's codecs: the operation
is the one called, and the members are the parameters given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from skylet.aws.protocols import CODECS
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.service import detect
from tests.aws.protocols.sdk import client_request, load

QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
WHEN = datetime(2026, 12, 7, 17, 35, 23, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 18, 0, 0, 123000, tzinfo=UTC)

SEND = {
    "QueueUrl": QUEUE,
    "MessageBody": "hello ✓ & <world>",
    "DelaySeconds": 5,
    "MessageAttributes": {
        "kind": {"DataType": "String", "StringValue": "order"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffraw"},
        "count": {"DataType": "Number", "StringValue": "3"},
    },
    "MessageSystemAttributes": {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988"}
    },
}
RECEIVE = {
    "QueueUrl": QUEUE,
    "AttributeNames": ["All"],
    "MessageAttributeNames": ["kind", "count"],
    "MaxNumberOfMessages": 10,
    "WaitTimeSeconds": 20,
    "VisibilityTimeout": 0,
}
ATTRIBUTES = {"QueueUrl": QUEUE, "AttributeNames": ["VisibilityTimeout", "QueueArn"]}
ITEM = {
    "pk": {"S": "user#1"},
    "n": {"N": "12.5"},
    "b": {"B": b"\x01\x02"},
    "ok": {"BOOL": False},
    "none": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "nested": {"M": {"list": {"L": [{"N": "1"}, {"M": {"deep": {"S": "x"}}}]}}},
}
PUT_METRICS = {
    "Namespace": "AWS/Lambda",
    "MetricData": [
        {
            "MetricName": "Duration",
            "Dimensions": [{"Name": "FunctionName", "Value": "hello"}],
            "Timestamp": WHEN,
            "Values": [1.5, 2.25],
            "Counts": [1.0, 3.0],
            "Unit": "Milliseconds",
            "StorageResolution": 1,
        }
    ],
}
GET_METRICS = {
    "MetricDataQueries": [
        {
            "Id": "d",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations"},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
    ],
    "StartTime": WHEN,
    "EndTime": LATER,
    "MaxDatapoints": 100,
}

#: (service, protocol, operation, parameters)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("sqs", "json", "SendMessage", SEND),
    ("sqs", "json", "ReceiveMessage", RECEIVE),
    ("sqs", "json", "GetQueueAttributes", ATTRIBUTES),
    ("sqs", "query", "SendMessage", SEND),
    ("sqs", "query", "ReceiveMessage", RECEIVE),
    ("sqs", "query", "GetQueueAttributes", ATTRIBUTES),
    ("sqs", "query", "GetQueueAttributes", {"QueueUrl": QUEUE, "AttributeNames": []}),
    ("sqs", "json", "GetQueueAttributes", {"QueueUrl": QUEUE, "AttributeNames": []}),
    (
        "sns",
        "query",
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:orders",
            "Message": "hi",
            "Subject": "s",
            "MessageAttributes": {
                "kind": {"DataType": "String", "StringValue": "order"},
                "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        },
    ),
    (
        "sns",
        "query",
        "Subscribe",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:orders",
            "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:orders",
            "Attributes": {"RawMessageDelivery": "true", "FilterPolicy": '{"kind":["order"]}'},
            "ReturnSubscriptionArn": True,
        },
    ),
    (
        "dynamodb",
        "json",
        "PutItem",
        {
            "TableName": "users",
            "Item": ITEM,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValues": "ALL_OLD",
        },
    ),
    (
        "dynamodb",
        "json",
        "Query",
        {
            "TableName": "users",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "user#1"}},
            "Limit": 25,
            "ScanIndexForward": False,
            "ExclusiveStartKey": {"pk": {"S": "user#0"}},
        },
    ),
    ("cloudwatch", "smithy-rpc-v2-cbor", "PutMetricData", PUT_METRICS),
    ("cloudwatch", "smithy-rpc-v2-cbor", "GetMetricData", GET_METRICS),
    ("cloudwatch", "query", "PutMetricData", PUT_METRICS),
    ("cloudwatch", "json", "GetMetricData", GET_METRICS),
    ("lambda", "rest-json", "GetFunction", {"FunctionName": "hello", "Qualifier": "$LATEST"}),
    ("lambda", "rest-json", "ListFunctions", {"MaxItems": 50, "Marker": "abc/def"}),
    (
        "lambda",
        "rest-json",
        "Invoke",
        {
            "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:hello",
            "InvocationType": "Event",
            "LogType": "Tail",
            "Payload": b'{"a": 1}',
            "Qualifier": "live",
        },
    ),
    (
        "lambda",
        "rest-json",
        "UpdateFunctionConfiguration",
        {
            "FunctionName": "hello",
            "Timeout": 30,
            "Environment": {"Variables": {"A": "1", "B": "two"}},
            "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:l:1"],
        },
    ),
    (
        "s3",
        "rest-xml",
        "PutObject",
        {
            "Bucket": "photos",
            "Key": "2026/12/cat & dog?.jpg",
            "Body": b"\xff\xd8 jpeg",
            "ContentLength": 7,
            "ContentType": "image/jpeg",
            "Metadata": {"owner": "ana", "album": "pets"},
            "Expires": WHEN,
        },
    ),
    (
        "s3",
        "rest-xml",
        "GetObject",
        {"Bucket": "photos", "Key": "a/b/c.txt", "Range": "bytes=0-9", "VersionId": "v1"},
    ),
    (
        "s3",
        "rest-xml",
        "ListObjectsV2",
        {"Bucket": "photos", "Prefix": "2026/", "Delimiter": "/", "MaxKeys": 100},
    ),
    (
        "s3",
        "rest-xml",
        "CreateBucket",
        {
            "Bucket": "photos",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
        },
    ),
    (
        "s3",
        "rest-xml",
        "PutObjectTagging",
        {
            "Bucket": "photos",
            "Key": "cat.jpg",
            "Tagging": {"TagSet": [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]},
        },
    ),
    (
        "s3",
        "rest-xml",
        "DeleteObjects",
        {
            "Bucket": "photos",
            "Delete": {"Objects": [{"Key": "a"}, {"Key": "b/c", "VersionId": "2"}], "Quiet": True},
        },
    ),
]


def _sentence(case: tuple[str, str, str, dict[str, Any]]) -> str:
    service, protocol, operation, params = case
    empty = " (an empty list)" if [] in params.values() else ""
    return f"{service} {operation}{empty} sent in {protocol} reads as the parameters given"


@pytest.mark.parametrize("case", CASES, ids=[_sentence(c) for c in CASES])
def test_a_request_botocore_serializes_reads_as_its_parameters(
    models: ServiceModels, case: tuple[str, str, str, dict[str, Any]]
) -> None:
    service, protocol, operation, params = case
    loaded = load(models, service, protocol)
    request = client_request(loaded.model, operation, params, protocol)
    assert detect(loaded.protocols, request) == protocol
    codec = CODECS[protocol]
    assert codec.select(loaded, request) == operation
    parsed = codec.parse(loaded.model.operation_model(operation), request)
    assert parsed == params


def test_a_jsonvalue_header_reads_as_the_json_value(models: ServiceModels) -> None:
    # No model of the tests' services has a jsonvalue header; an overlay gives Lambda's
    # ClientContext the trait, and botocore then sends it as base64 JSON.
    overlay = {"shapes": {"InvocationRequest": {"members": {"ClientContext": {"jsonvalue": True}}}}}
    loaded = models.load("lambda", overlay=overlay)
    assert loaded is not None
    context = {"custom": {"user": "ana"}, "env": ["a", 1, None]}
    params = {"FunctionName": "hello", "ClientContext": context}
    request = client_request(loaded.model, "Invoke", params, "rest-json")
    assert CODECS["rest-json"].parse(loaded.model.operation_model("Invoke"), request) == params


def test_the_form_is_read_once_for_selecting_and_parsing(models: ServiceModels) -> None:
    loaded = load(models, "sns", "query")
    params = {"TopicArn": "arn:t", "Message": "m"}
    request = client_request(loaded.model, "Publish", params, "query")
    codec = CODECS["query"]
    codec.select(loaded, request)
    first = request.memo["form"]
    assert codec.parse(loaded.model.operation_model("Publish"), request) == params
    assert request.memo["form"] is first
