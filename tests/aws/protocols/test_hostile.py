"""Hostile and broken requests: each is answered with the protocol's 4xx error, which
botocore parses; no exception escapes, nothing is a 500."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import cbor2
import pytest

from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.types import Request
from skylet.aws.service import Service, handle
from tests.aws.protocols import services
from tests.aws.protocols.sdk import client_parse, load

QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
SQS_JSON = (
    ("X-Amz-Target", "AmazonSQS.SendMessage"),
    ("Content-Type", "application/x-amz-json-1.0"),
)
DDB = (
    ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
    ("Content-Type", "application/x-amz-json-1.0"),
)
FORM = (("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),)
CBOR = (("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor"))
CBOR_PUT = "/service/GraniteServiceVersion20100801/operation/PutMetricData"
XML = (("Content-Type", "application/xml"),)


def _nested_item(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"S": "bottom"}
    for _ in range(levels):
        value = {"M": {"x": value}}
    return {"pk": value}


def _deep_xml(levels: int) -> bytes:
    return (
        b"<CreateBucketConfiguration>"
        + b"<a>" * levels
        + b"</a>" * levels
        + b"</CreateBucketConfiguration>"
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<CreateBucketConfiguration><LocationConstraint>&lol2;</LocationConstraint></CreateBucketConfiguration>"""


@dataclass(frozen=True)
class Hostile:
    why: str
    service: Service
    protocol: str
    #: the operation whose output shape botocore parses the error with
    operation: str
    request: Request
    status: int
    code: str
    message: str = ""


def post(path: str, headers: tuple[tuple[str, str], ...], body: bytes, query: str = "") -> Request:
    return Request("POST", path, query, headers, body)


CASES = [
    Hostile(
        "a JSON body cut short is a SerializationException",
        services.Queues(),
        "json",
        "SendMessage",
        post("/", SQS_JSON, b'{"QueueUrl": "q", '),
        400,
        "SerializationException",
        "not valid JSON",
    ),
    Hostile(
        "a JSON body that is not an object is a SerializationException",
        services.Queues(),
        "json",
        "SendMessage",
        post("/", SQS_JSON, b"[1, 2]"),
        400,
        "SerializationException",
    ),
    Hostile(
        "a string where json wants an integer is refused naming the member",
        services.Queues(),
        "json",
        "SendMessage",
        post(
            "/",
            SQS_JSON,
            json.dumps({"QueueUrl": QUEUE, "MessageBody": "m", "DelaySeconds": "five"}).encode(),
        ),
        400,
        "SerializationException",
        "DelaySeconds",
    ),
    Hostile(
        "a boolean where json wants an integer is refused",
        services.Queues(),
        "json",
        "SendMessage",
        post(
            "/",
            SQS_JSON,
            json.dumps({"QueueUrl": QUEUE, "MessageBody": "m", "DelaySeconds": True}).encode(),
        ),
        400,
        "SerializationException",
        "DelaySeconds",
    ),
    Hostile(
        "a blob that is not base64 is refused naming its path",
        services.Tables(),
        "json",
        "PutItem",
        post("/", DDB, json.dumps({"TableName": "t", "Item": {"b": {"B": "***"}}}).encode()),
        400,
        "SerializationException",
        "Item.b.B",
    ),
    Hostile(
        "attribute values nested past the bound are refused",
        services.Tables(),
        "json",
        "PutItem",
        post("/", DDB, json.dumps({"TableName": "t", "Item": _nested_item(200)}).encode()),
        400,
        "SerializationException",
        "deeper",
    ),
    Hostile(
        "JSON nested a hundred thousand deep is refused",
        services.Tables(),
        "json",
        "PutItem",
        post("/", DDB, b"[" * 100_000 + b"]" * 100_000),
        400,
        "SerializationException",
    ),
    Hostile(
        "an unknown json operation is UnknownOperationException naming it",
        services.Queues(),
        "json",
        "SendMessage",
        post("/", (("X-Amz-Target", "AmazonSQS.Frobnicate"),), b"{}"),
        400,
        "UnknownOperationException",
        "Frobnicate",
    ),
    Hostile(
        "another service's target prefix is an unknown operation",
        services.Queues(),
        "json",
        "SendMessage",
        post("/", (("X-Amz-Target", "DynamoDB_20120810.SendMessage"),), b"{}"),
        400,
        "UnknownOperationException",
        "DynamoDB_20120810.SendMessage",
    ),
    Hostile(
        "an unknown query action is InvalidAction naming it",
        services.Topics(),
        "query",
        "Publish",
        post("/", FORM, b"Action=Frobnicate&Version=2010-03-31"),
        400,
        "InvalidAction",
        "Frobnicate",
    ),
    Hostile(
        "a form without an action is InvalidAction",
        services.Topics(),
        "query",
        "Publish",
        post("/", FORM, b"TopicArn=t"),
        400,
        "InvalidAction",
    ),
    Hostile(
        "a form that is not UTF-8 is MalformedQueryString",
        services.Topics(),
        "query",
        "Publish",
        post("/", FORM, b"Action=Publish&Message=\xff\xfe"),
        400,
        "MalformedQueryString",
    ),
    Hostile(
        "a query integer that is not a number is InvalidParameterValue naming it",
        services.Queues(),
        "query",
        "SendMessage",
        post(
            "/", FORM, f"Action=SendMessage&QueueUrl={QUEUE}&MessageBody=m&DelaySeconds=x".encode()
        ),
        400,
        "InvalidParameterValue",
        "DelaySeconds",
    ),
    Hostile(
        "a list index that is not a positive number is refused",
        services.Queues(),
        "query",
        "SendMessage",
        post(
            "/",
            FORM,
            f"Action=SendMessage&QueueUrl={QUEUE}&MessageBody=m&MessageAttribute.0.Name=a".encode(),
        ),
        400,
        "InvalidParameterValue",
        "indexed from 1",
    ),
    Hostile(
        "a huge list index allocates nothing and is refused",
        services.Queues(),
        "query",
        "SendMessage",
        post(
            "/",
            FORM,
            f"Action=SendMessage&QueueUrl={QUEUE}&MessageBody=m&MessageAttribute.99999999999999.Name=a".encode(),
        ),
        400,
        "InvalidParameterValue",
    ),
    Hostile(
        "a parameter name nested past the bound is MalformedQueryString",
        services.Queues(),
        "query",
        "SendMessage",
        post("/", FORM, b"Action=SendMessage&" + b"a." * 500 + b"b=1"),
        400,
        "MalformedQueryString",
        "deeper",
    ),
    Hostile(
        "a map entry without its value is MissingParameter naming it",
        services.Queues(),
        "query",
        "SendMessage",
        post(
            "/",
            FORM,
            f"Action=SendMessage&QueueUrl={QUEUE}&MessageBody=m&MessageAttribute.1.Name=a".encode(),
        ),
        400,
        "MissingParameter",
        "MessageAttribute.1.Value",
    ),
    Hostile(
        "bytes that are not CBOR are a SerializationException",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "PutMetricData",
        post(CBOR_PUT, CBOR, b"\xff\xfe\xfd"),
        400,
        "SerializationException",
        "not valid CBOR",
    ),
    Hostile(
        "CBOR nested past the bound is a SerializationException",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "PutMetricData",
        post(CBOR_PUT, CBOR, b"\x81" * 10_000 + b"\x00"),
        400,
        "SerializationException",
    ),
    Hostile(
        "a CBOR text string where a number belongs is refused naming the member",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "PutMetricData",
        post(
            CBOR_PUT,
            CBOR,
            cbor2.dumps({"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": "1"}]}),
        ),
        400,
        "SerializationException",
        "MetricData.1.Value",
    ),
    Hostile(
        "a CBOR path for another service is UnknownOperationException",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "PutMetricData",
        post("/service/Other/operation/PutMetricData", CBOR, cbor2.dumps({})),
        404,
        "UnknownOperationException",
    ),
    Hostile(
        "a rest-json query parameter of the wrong type is refused naming it",
        services.Functions(),
        "rest-json",
        "ListFunctions",
        Request("GET", "/2015-03-31/functions", "MaxItems=many", (), b""),
        400,
        "SerializationException",
        "MaxItems",
    ),
    Hostile(
        "a rest-json path no operation has is UnknownOperationException",
        services.Functions(),
        "rest-json",
        "ListFunctions",
        Request("GET", "/2015-03-31/nothing-here", "", (), b""),
        404,
        "UnknownOperationException",
        "/2015-03-31/nothing-here",
    ),
    Hostile(
        "XML cut short is MalformedXML",
        services.Buckets(),
        "rest-xml",
        "CreateBucket",
        Request("PUT", "/photos", "", XML, b"<CreateBucketConfiguration><Loc"),
        400,
        "MalformedXML",
    ),
    Hostile(
        "XML declaring entities (billion laughs) is MalformedXML",
        services.Buckets(),
        "rest-xml",
        "CreateBucket",
        Request("PUT", "/photos", "", XML, BILLION_LAUGHS),
        400,
        "MalformedXML",
        "document type",
    ),
    Hostile(
        "XML nested past the bound is MalformedXML",
        services.Buckets(),
        "rest-xml",
        "CreateBucket",
        Request("PUT", "/photos", "", XML, _deep_xml(1000)),
        400,
        "MalformedXML",
        "deeper",
    ),
    Hostile(
        "a method no S3 operation takes is MethodNotAllowed",
        services.Buckets(),
        "rest-xml",
        "CreateBucket",
        Request("PATCH", "/photos", "", XML, b""),
        405,
        "MethodNotAllowed",
    ),
    Hostile(
        "a rest-xml header of the wrong type is InvalidArgument naming it",
        services.Buckets(),
        "rest-xml",
        "PutObject",
        Request("PUT", "/photos/k", "", (("Content-Length", "lots"),), b"x"),
        400,
        "InvalidArgument",
        "Content-Length",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.why for c in CASES])
def test_a_hostile_request_is_answered_with_the_protocols_error(
    models: ServiceModels, case: Hostile
) -> None:
    r = case.request
    response = asyncio.run(
        handle(
            case.service,
            r.method,
            r.path,
            r.query,
            r.headers,
            r.body,
            models=models,
            request_id="rid-9",
        )
    )
    assert response.status == case.status
    loaded = load(models, case.service.service_name, case.protocol)
    parsed = client_parse(loaded.model, case.operation, response, case.protocol)
    assert parsed["Error"]["Code"] == case.code
    assert case.message in parsed["Error"]["Message"]
