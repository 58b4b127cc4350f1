"""``handle``: a service answers in the protocol the request used, its operations get plain
values and a context, and a service skylet does not serve gets an error its SDK parses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser

from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.types import Request, Response
from skylet.aws.service import Service, detect, handle, unserved
from tests.aws.protocols import services
from tests.aws.protocols.sdk import client_parse, client_request, load

QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"


def serve(models: ServiceModels, service: Service, request: Request) -> Response:
    r = request
    return asyncio.run(
        handle(
            service, r.method, r.path, r.query, r.headers, r.body, models=models, request_id="rid"
        )
    )


def with_host(request: Request, host: str) -> Request:
    return Request(
        request.method,
        request.path,
        request.query,
        (*request.headers, ("Host", host)),
        request.body,
    )


@pytest.mark.parametrize(
    "protocol",
    ["json", "query"],
    ids=["a json request is answered in json", "a query request is answered in query"],
)
def test_sqs_answers_in_the_protocol_the_request_used(models: ServiceModels, protocol: str) -> None:
    loaded = load(models, "sqs", protocol)
    request = with_host(
        client_request(loaded.model, "ReceiveMessage", {"QueueUrl": QUEUE}, protocol),
        "localhost:4000",
    )
    response = serve(models, services.Queues(), request)
    assert response.status == 200
    content_type = dict(response.headers)["content-type"]
    assert content_type == ("application/x-amz-json-1.0" if protocol == "json" else "text/xml")
    parsed = client_parse(loaded.model, "ReceiveMessage", response, protocol)
    # The (async) operation saw which protocol and host the request came with.
    assert parsed["Messages"][0]["Body"] == f"{protocol} localhost:4000"


def test_an_operation_gets_plain_values_and_the_request_id(models: ServiceModels) -> None:
    loaded = load(models, "sqs", "json")
    request = client_request(
        loaded.model, "SendMessage", {"QueueUrl": QUEUE, "MessageBody": "hello"}, "json"
    )
    parsed = client_parse(
        loaded.model, "SendMessage", serve(models, services.Queues(), request), "json"
    )
    assert parsed == {"MessageId": "rid", "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592"}


def test_an_operation_that_returns_nothing_answers_an_empty_output(models: ServiceModels) -> None:
    loaded = load(models, "sqs", "json")
    request = client_request(
        loaded.model, "DeleteMessage", {"QueueUrl": QUEUE, "ReceiptHandle": "r"}, "json"
    )
    response = serve(models, services.Queues(), request)
    assert (response.status, response.body) == (200, b"{}")


def test_a_service_may_name_its_own_code_for_a_refusal(models: ServiceModels) -> None:
    class StrictTopics(services.Topics):
        refusal_codes = {"query": {"missing": ("InvalidParameter", 400)}}

    loaded = load(models, "sns", "query")
    request = Request(
        "POST",
        "/",
        "",
        (("Content-Type", "application/x-www-form-urlencoded"),),
        b"Action=Publish&TopicArn=t",
    )
    parsed = client_parse(loaded.model, "Publish", serve(models, StrictTopics(), request), "query")
    assert parsed["Error"]["Code"] == "InvalidParameter"
    assert "Message" in parsed["Error"]["Message"]


UNSERVED = [
    (
        "kinesis",
        Request(
            "POST",
            "/",
            "",
            (
                ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ),
            b"{}",
        ),
        "json",
    ),
    (
        "elasticache",
        Request(
            "POST",
            "/",
            "",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"Action=DescribeCacheClusters",
        ),
        "query",
    ),
    ("route53", Request("GET", "/2013-04-01/hostedzone", "", (), b""), "rest-xml"),
    (
        "frobnicator",
        Request(
            "POST",
            "/",
            "",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"Action=Frob",
        ),
        "query",
    ),
    ("frobnicator", Request("POST", "/", "", (("X-Amz-Target", "Frob.Do"),), b"{}"), "json"),
    (
        "frobnicator",
        Request("POST", "/things", "", (("Content-Type", "application/json"),), b"{}"),
        "rest-json",
    ),
]


@pytest.mark.parametrize(
    ("name", "request_", "protocol"),
    UNSERVED,
    ids=[f"{n}, which skylet does not serve, is told in {p}" for n, _, p in UNSERVED],
)
def test_a_service_skylet_does_not_serve_answers_an_error_naming_it(
    models: ServiceModels, name: str, request_: Request, protocol: str
) -> None:
    response = unserved(name, request_, models=models, request_id="rid")
    assert response.status == 501
    headers: dict[str, Any] = {k.lower(): v for k, v in response.headers}
    parsed = create_parser(protocol).parse(
        {"status_code": response.status, "headers": headers, "body": response.body}, None
    )
    assert parsed["Error"]["Code"] == "NotImplemented"
    assert repr(name) in parsed["Error"]["Message"]


def test_a_service_whose_model_botocore_lacks_is_unserved(models: ServiceModels) -> None:
    class Nowhere(Service):
        service_name = "no-such-service"

    response = serve(models, Nowhere(), Request("POST", "/", "", (("X-Amz-Target", "X.Y"),), b"{}"))
    assert response.status == 501
    assert b"no-such-service" in response.body


DETECT = [
    (
        "the CBOR header wins",
        ("smithy-rpc-v2-cbor", "json", "query"),
        {"smithy-protocol": "rpc-v2-cbor"},
        "",
        "smithy-rpc-v2-cbor",
    ),
    (
        "X-Amz-Target means json",
        ("smithy-rpc-v2-cbor", "json", "query"),
        {"x-amz-target": "A.B"},
        "",
        "json",
    ),
    (
        "a form means query",
        ("smithy-rpc-v2-cbor", "json", "query"),
        {"content-type": "application/x-www-form-urlencoded"},
        "",
        "query",
    ),
    (
        "an Action in the query string means query",
        ("json", "query"),
        {},
        "Action=ListQueues",
        "query",
    ),
    (
        "a protocol the service does not speak is not chosen",
        ("json",),
        {"smithy-protocol": "rpc-v2-cbor"},
        "",
        "json",
    ),
    (
        "a rest service is its rest protocol",
        ("rest-xml",),
        {"content-type": "application/xml"},
        "",
        "rest-xml",
    ),
]


@pytest.mark.parametrize(
    ("why", "spoken", "headers", "query", "expected"), DETECT, ids=[d[0] for d in DETECT]
)
def test_the_protocol_is_detected_from_the_request(
    why: str, spoken: tuple[str, ...], headers: dict[str, str], query: str, expected: str
) -> None:
    assert detect(spoken, Request("POST", "/", query, tuple(headers.items()), b"")) == expected


def test_models_are_read_once_and_list_their_protocols(models: ServiceModels) -> None:
    cloudwatch = models.load("cloudwatch")
    assert cloudwatch is not None and models.load("cloudwatch") is cloudwatch
    assert cloudwatch.protocols == ("smithy-rpc-v2-cbor", "json", "query")
    sqs = models.load("sqs", extra_protocols=("query",))
    assert sqs is not None and sqs.protocols == ("json", "query")
    assert models.load("no-such-service") is None


def test_an_overlay_changes_only_the_model_it_is_given_to(models: ServiceModels) -> None:
    plain, patched = models.load("sqs"), load(models, "sqs", "query")
    assert plain is not None and isinstance(patched.model, ServiceModel)
    member = "MessageAttributes"
    assert (
        plain.model.operation_model("SendMessage")
        .input_shape.members[member]
        .serialization.get("name")
        is None
    )
    assert (
        patched.model.operation_model("SendMessage")
        .input_shape.members[member]
        .serialization["name"]
        == "MessageAttribute"
    )


@pytest.mark.parametrize(
    "name",
    ["../sqs", "sqs/../../etc", "", "SQS ", "x" * 500],
    ids=[
        "a parent path",
        "a path that climbs out",
        "an empty name",
        "a name with a space",
        "a very long name",
    ],
)
def test_a_hostile_service_name_reaches_no_model_and_is_not_cached(
    models: ServiceModels, name: str
) -> None:
    assert models.load(name) is None
    response = unserved(
        name,
        Request("POST", "/", "", (("X-Amz-Target", "A.B"),), b"{}"),
        models=models,
        request_id="r",
    )
    assert response.status == 501
    assert all(key[0] != name for key in models._cache)


class _AttributeCounter(Service):
    """SQS with its query names for query requests only, as skylet's SQS declares them."""

    service_name = "sqs"
    extra_protocols = ("query",)
    protocol_overlays = {"query": services.SQS_QUERY}

    def send_message(self, request: dict[str, Any], context: Any) -> dict[str, Any]:
        names = ",".join(sorted(request.get("MessageAttributes", {})))
        return {"MessageId": names or "none", "MD5OfMessageBody": "0" * 32}


@pytest.mark.parametrize(
    "protocol",
    ["json", "query"],
    ids=[
        "a json request is read by the json names",
        "a query request is read by the query overlay's names",
    ],
)
def test_a_protocols_own_overlay_applies_to_its_requests_only(
    models: ServiceModels, protocol: str
) -> None:
    loaded = load(models, "sqs", protocol)
    attributes = {
        "b": {"DataType": "String", "StringValue": "2"},
        "a": {"DataType": "Number", "StringValue": "1"},
    }
    request = client_request(
        loaded.model,
        "SendMessage",
        {"QueueUrl": QUEUE, "MessageBody": "x", "MessageAttributes": attributes},
        protocol,
    )
    response = serve(models, _AttributeCounter(), request)
    assert client_parse(loaded.model, "SendMessage", response, protocol)["MessageId"] == "a,b"
