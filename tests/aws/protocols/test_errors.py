"""Errors, as botocore's parsers read them: a service's own (its code, message, the status its
model gives) and every refusal before it (unknown or unimplemented operations, malformed
bodies, wrong types, missing members, hostile nesting), in the protocol the request used,
never an exception escaping and never a 500 for what the client sent."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import cbor2
import pytest
from botocore.parsers import create_parser

from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.types import Request, Response
from skylet.aws.service import Service, handle
from tests.aws.protocols import services
from tests.aws.protocols.sdk import client_parse, client_request, load

QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
SEND = {"QueueUrl": QUEUE, "MessageBody": "hi"}
ITEM = {"pk": {"S": "user#1"}, "n": {"N": "1"}}


def serve(models: ServiceModels, service: Service, request: Request) -> Response:
    return asyncio.run(
        handle(
            service,
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            models=models,
            request_id="rid-7",
        )
    )


@dataclass(frozen=True)
class ErrorCase:
    why: str
    service: Service
    protocol: str
    operation: str
    params: dict[str, Any]
    status: int
    code: str
    message: str = ""
    query_code: str | None = None
    #: Members taken out of the wire form (botocore refuses to send a request without them).
    drop: tuple[str, ...] = ()


SERVICE_ERRORS = [
    ErrorCase(
        "an SQS error in json carries the query code its older clients know",
        services.Queues(),
        "json",
        "SendMessage",
        {"QueueUrl": services.MISSING_QUEUE, "MessageBody": "hi"},
        400,
        "AWS.SimpleQueueService.NonExistentQueue",
        "does not exist",
        "QueueDoesNotExist",
    ),
    ErrorCase(
        "an SQS error in query is written with its query code",
        services.Queues(),
        "query",
        "SendMessage",
        {"QueueUrl": services.MISSING_QUEUE, "MessageBody": "hi"},
        400,
        "AWS.SimpleQueueService.NonExistentQueue",
        "does not exist",
    ),
    ErrorCase(
        "an SNS error takes its status and query code from the model",
        services.Topics(),
        "query",
        "Publish",
        {"TopicArn": "arn:t", "Message": "m"},
        404,
        "NotFound",
        "Topic does not exist",
    ),
    ErrorCase(
        "a DynamoDB error names its code",
        services.Tables(),
        "json",
        "PutItem",
        {"TableName": "t", "Item": ITEM},
        400,
        "ConditionalCheckFailedException",
        "conditional request failed",
    ),
    ErrorCase(
        "a CloudWatch error in CBOR carries its status and query code",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "PutMetricData",
        {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}]},
        400,
        "InvalidParameterValue",
        "∞",
        "InvalidParameterValueException",
    ),
    ErrorCase(
        "a Lambda error takes its status from the model",
        services.Functions(),
        "rest-json",
        "GetFunction",
        {"FunctionName": "nope"},
        404,
        "ResourceNotFoundException",
        "Function not found: nope",
    ),
    ErrorCase(
        "an S3 error is S3's own error document",
        services.Buckets(),
        "rest-xml",
        "GetObject",
        {"Bucket": "b", "Key": "k"},
        404,
        "NoSuchKey",
        "does not exist",
    ),
    ErrorCase(
        "an operation of the model the service lacks answers json's UnknownOperationException",
        services.Queues(),
        "json",
        "PurgeQueue",
        {"QueueUrl": QUEUE},
        400,
        "UnknownOperationException",
        "PurgeQueue",
    ),
    ErrorCase(
        "an operation of the model the service lacks answers query's InvalidAction",
        services.Topics(),
        "query",
        "CreateTopic",
        {"Name": "t"},
        400,
        "InvalidAction",
        "CreateTopic",
    ),
    ErrorCase(
        "an operation of the model the service lacks answers CBOR's UnknownOperationException",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "ListDashboards",
        {},
        404,
        "UnknownOperationException",
        "ListDashboards",
    ),
    ErrorCase(
        "an operation of the model the service lacks answers S3's NotImplemented",
        services.Buckets(),
        "rest-xml",
        "ListBuckets",
        {},
        501,
        "NotImplemented",
        "ListBuckets",
    ),
    ErrorCase(
        "a failure inside the service is the protocol's InternalFailure",
        services.Queues(),
        "json",
        "GetQueueAttributes",
        {"QueueUrl": QUEUE},
        500,
        "InternalFailure",
        "rid-7",
    ),
    ErrorCase(
        "a required member missing answers json's ValidationException naming it",
        services.Queues(),
        "json",
        "SendMessage",
        SEND,
        400,
        "ValidationException",
        "'MessageBody'",
        drop=("MessageBody",),
    ),
    ErrorCase(
        "a required member missing answers query's MissingParameter naming it",
        services.Queues(),
        "query",
        "SendMessage",
        SEND,
        400,
        "MissingParameter",
        "MessageBody",
        drop=("MessageBody",),
    ),
    ErrorCase(
        "a required member missing answers CBOR's ValidationException naming it",
        services.Metrics(),
        "smithy-rpc-v2-cbor",
        "GetMetricData",
        {
            "MetricDataQueries": [{"Id": "d", "Expression": "SUM(m)"}],
            "StartTime": 1,
            "EndTime": 2,
        },
        400,
        "ValidationException",
        "'EndTime'",
        drop=("EndTime",),
    ),
]


def _request(case: ErrorCase, models: ServiceModels) -> Request:
    loaded = load(models, case.service.service_name, case.protocol)
    request = client_request(loaded.model, case.operation, case.params, case.protocol)
    return _drop_members(request, case.drop, case.protocol) if case.drop else request


def _drop_members(request: Request, names: tuple[str, ...], protocol: str) -> Request:
    if protocol == "query":
        pairs = [(k, v) for k, v in parse_qsl(request.body.decode()) if k not in names]
        body = urlencode(pairs).encode()
    elif protocol == "smithy-rpc-v2-cbor":
        body = cbor2.dumps({k: v for k, v in cbor2.loads(request.body).items() if k not in names})
    else:
        body = json.dumps(
            {k: v for k, v in json.loads(request.body).items() if k not in names}
        ).encode()
    return replace(request, body=body)


@pytest.mark.parametrize("case", SERVICE_ERRORS, ids=[c.why for c in SERVICE_ERRORS])
def test_an_error_reads_in_botocore_with_its_code_and_message(
    models: ServiceModels, case: ErrorCase
) -> None:
    loaded = load(models, case.service.service_name, case.protocol)
    response = serve(models, case.service, _request(case, models))
    assert response.status == case.status
    parsed = client_parse(loaded.model, case.operation, response, case.protocol)
    assert parsed["Error"]["Code"] == case.code
    assert case.message in parsed["Error"]["Message"]
    assert parsed["Error"].get("QueryErrorCode") == case.query_code


@pytest.mark.parametrize(
    ("service", "protocol", "operation", "params", "code", "fields"),
    [
        (
            services.Tables(),
            "json",
            "PutItem",
            {"TableName": "t", "Item": ITEM},
            "ConditionalCheckFailedException",
            {"Item": ITEM},
        ),
        (
            services.Buckets(),
            "rest-xml",
            "GetObject",
            {"Bucket": "b", "Key": "k"},
            "NoSuchKey",
            {},
        ),
    ],
    ids=[
        "a DynamoDB error's modeled fields read back as botocore's modeled error",
        "an S3 error without fields reads back empty",
    ],
)
def test_an_errors_modeled_fields_read_back_through_its_error_shape(
    models: ServiceModels,
    service: Service,
    protocol: str,
    operation: str,
    params: dict[str, Any],
    code: str,
    fields: dict[str, Any],
) -> None:
    # As botocore's endpoint does: the error shape of the code parses the same response.
    loaded = load(models, service.service_name, protocol)
    request = client_request(loaded.model, operation, params, protocol)
    response = serve(models, service, request)
    shape = loaded.model.shape_for_error_code(code)
    parsed = create_parser(protocol).parse(
        {"status_code": response.status, "headers": dict(response.headers), "body": response.body},
        shape,
    )
    parsed.pop("message", None)
    parsed.pop("Message", None)
    assert parsed == fields
