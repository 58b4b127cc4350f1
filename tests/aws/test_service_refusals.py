"""Every refusal of the router and the verifier in the protocol of the request, for services
served through the registry: awsJson 1.1 (Kinesis's model), awsJson 1.0 and CBOR (CloudWatch's),
query (STS). skylet's own HTTP server in this process, stock boto3 and raw requests signed by
botocore: wrong signature, unknown key, wrong region, unsigned, unknown and unimplemented
operations (named), malformed bodies, an unserved service; never a 500, and the keep-alive
connection sound after each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import cbor2
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.aws.sts import SecurityTokens
from skylet.errors import ServiceError
from tests.aws.served import KeepAlive, front_door

KEY, SECRET = "AKIDREFUSALS", "s3cr3t"
GOOD = ("kinesis", "us-east-1", KEY, SECRET)
TARGET = "Kinesis_20131202"


class Streams(Service):
    """A JSON protocol service (Kinesis's model) with two operations."""

    service_name = "kinesis"

    def list_streams(self, request: Params, context: RequestContext) -> Params:
        return {"StreamNames": [context.access_key], "HasMoreStreams": False}

    def describe_stream_summary(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError("ResourceNotFoundException", f"Stream {request['StreamName']} not found")

    def add_tags_to_stream(self, request: Params, context: RequestContext) -> Params:
        return {}


class Metrics(Service):
    """CloudWatch's model: CBOR first, then awsJson 1.0 (boto3's choice here), then query."""

    service_name = "cloudwatch"

    def list_metrics(self, request: Params, context: RequestContext) -> Params:
        return {"Metrics": [{"Namespace": "skylet", "MetricName": context.region}]}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with front_door([Streams(), Metrics(), SecurityTokens()], keys={KEY: SECRET}) as served:
        yield served


def client(url: str, service: str, **overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        **overrides,
    }
    config = settings.pop("config", Config())
    return boto3.client(
        service,
        endpoint_url=url,
        config=config.merge(Config(retries={"max_attempts": 0})),
        **settings,
    )


def refusal(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return (
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Code"],
        error["Error"]["Message"],
    )


def test_the_served_services_answer_their_signed_callers(url: str) -> None:
    assert client(url, "kinesis").list_streams()["StreamNames"] == [KEY]
    assert client(url, "cloudwatch").list_metrics()["Metrics"][0]["MetricName"] == "us-east-1"
    assert (
        client(url, "sts").get_caller_identity()["Arn"] == f"arn:aws:iam::000000000000:user/{KEY}"
    )


@pytest.mark.parametrize("service", ["kinesis", "cloudwatch"])
@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param(
            {"aws_secret_access_key": "wrong"}, "InvalidSignatureException", id="wrong secret"
        ),
        pytest.param(
            {"aws_access_key_id": "NOBODY"}, "UnrecognizedClientException", id="unknown key"
        ),
        pytest.param(
            {"region_name": "eu-central-1"}, "InvalidSignatureException", id="wrong region"
        ),
        pytest.param(
            {"config": Config(signature_version=UNSIGNED)},
            "MissingAuthenticationTokenException",
            id="unsigned",
        ),
    ],
)
def test_a_refused_signature_is_answered_in_the_json_protocols_codes(
    url: str, service: str, overrides: dict[str, Any], code: str
) -> None:
    called = client(url, service, **overrides)
    call = called.list_streams if service == "kinesis" else called.list_metrics
    status, got, message = refusal(call)
    assert (status, got) == (403, code)
    if overrides.get("region_name"):
        assert "'eu-central-1' is wrong; expecting 'us-east-1'" in message


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param(
            {"aws_secret_access_key": "wrong"}, "SignatureDoesNotMatch", id="wrong secret"
        ),
        pytest.param({"aws_access_key_id": "NOBODY"}, "InvalidClientTokenId", id="unknown key"),
        pytest.param({"region_name": "eu-central-1"}, "SignatureDoesNotMatch", id="wrong region"),
        pytest.param(
            {"config": Config(signature_version=UNSIGNED)},
            "MissingAuthenticationToken",
            id="unsigned",
        ),
    ],
)
def test_a_refused_signature_is_answered_in_the_query_protocols_codes(
    url: str, overrides: dict[str, Any], code: str
) -> None:
    assert refusal(client(url, "sts", **overrides).get_caller_identity)[:2] == (403, code)


def test_operations_the_service_lacks_are_named(url: str) -> None:
    status, code, message = refusal(client(url, "kinesis").list_shards, StreamName="s")
    assert (status, code) == (400, "UnknownOperationException")
    assert "ListShards" in message
    status, code, message = refusal(client(url, "cloudwatch").list_dashboards)
    assert (status, code) == (400, "UnknownOperationException")
    assert "ListDashboards" in message


def test_a_service_error_reads_as_the_model_s_error(url: str) -> None:
    with pytest.raises(client(url, "kinesis").exceptions.ResourceNotFoundException):
        client(url, "kinesis").describe_stream_summary(StreamName="gone")


def test_a_service_skylet_does_not_serve_is_named_in_its_own_protocol(url: str) -> None:
    status, code, message = refusal(client(url, "dynamodb").list_tables)
    assert (status, code) == (501, "NotImplemented")
    assert "'dynamodb'" in message
    status, code, message = refusal(client(url, "sns").list_topics)
    assert (status, code) == (501, "NotImplemented")
    assert "'sns'" in message


# -- raw requests on one kept connection: each refusal, then a good request on it ------------

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def target(operation: str) -> dict[str, str]:
    return {**JSON_HEADERS, "X-Amz-Target": f"{TARGET}.{operation}"}


REFUSALS = [
    pytest.param(
        dict(body=b"{}", headers=target("Bogus"), sign=GOOD),
        400,
        "UnknownOperationException",
        "Bogus",
        id="an unknown operation, named",
    ),
    pytest.param(
        dict(body=b'{"Limit": ', headers=target("ListStreams"), sign=GOOD),
        400,
        "SerializationException",
        "",
        id="a body that is not JSON",
    ),
    pytest.param(
        dict(body=b'{"StreamName": "s"}', headers=target("AddTagsToStream"), sign=GOOD),
        400,
        "ValidationException",
        "Tags",
        id="a required member missing, named",
    ),
    pytest.param(
        dict(body=b"{}", headers=target("ListStreams"), sign=("kinesis", "us-east-1", KEY, "bad")),
        403,
        "InvalidSignatureException",
        "",
        id="a wrong signature",
    ),
    pytest.param(
        dict(
            body=b"{}", headers=target("ListStreams"), sign=("kinesis", "ap-south-1", KEY, SECRET)
        ),
        403,
        "InvalidSignatureException",
        "ap-south-1",
        id="a wrong region",
    ),
    pytest.param(
        dict(body=b"{}", headers=target("ListStreams")),
        403,
        "MissingAuthenticationTokenException",
        "",
        id="unsigned",
    ),
    pytest.param(
        dict(
            body=b"{}",
            headers={**JSON_HEADERS, "X-Amz-Target": "DynamoDB_20120810.ListTables"},
            sign=("dynamodb", "us-east-1", KEY, SECRET),
        ),
        501,
        "NotImplemented",
        "dynamodb",
        id="an unserved service",
    ),
    pytest.param(
        dict(body=b"x" * (17 << 20), headers=target("ListStreams"), sign=GOOD),
        413,
        "RequestEntityTooLarge",
        "",
        id="a body past the service's limit",
    ),
]


@pytest.mark.parametrize(("request_args", "status", "code", "named"), REFUSALS)
def test_each_refusal_is_the_json_protocol_s_error_and_the_connection_stays_sound(
    url: str, request_args: dict[str, Any], status: int, code: str, named: str
) -> None:
    kept = KeepAlive(url)
    try:
        answer = kept.send("POST", "/", **request_args)
        assert answer.status == status, answer.body
        assert answer.json()["__type"] == code
        assert named in answer.json()["message"]
        good = kept.send("POST", "/", b"{}", target("ListStreams"), sign=GOOD)
        assert (good.status, good.json()["StreamNames"]) == (200, [KEY])
    finally:
        kept.close()


QUERY = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
STS = ("sts", "us-east-1", KEY, SECRET)


@pytest.mark.parametrize(
    ("body", "sign", "status", "code"),
    [
        pytest.param(
            b"Action=Bogus&Version=2011-06-15", STS, 400, "InvalidAction", id="unknown action"
        ),
        pytest.param(
            b"Action=GetCallerIdentity&%zz", STS, 400, "MalformedQueryString", id="malformed"
        ),
        pytest.param(
            b"Action=GetCallerIdentity&Version=2011-06-15",
            ("sts", "us-east-1", KEY, "bad"),
            403,
            "SignatureDoesNotMatch",
            id="wrong signature",
        ),
        pytest.param(
            b"Action=GetCallerIdentity&Version=2011-06-15",
            ("sts", "sa-east-1", KEY, SECRET),
            403,
            "SignatureDoesNotMatch",
            id="wrong region",
        ),
        pytest.param(
            b"Action=GetCallerIdentity&Version=2011-06-15",
            None,
            403,
            "MissingAuthenticationToken",
            id="unsigned: the form's Action finds STS",
        ),
    ],
)
def test_each_refusal_is_the_query_protocol_s_error_and_the_connection_stays_sound(
    url: str, body: bytes, sign: tuple[str, str, str, str] | None, status: int, code: str
) -> None:
    kept = KeepAlive(url)
    try:
        answer = kept.send("POST", "/", body, QUERY, sign=sign)
        assert answer.status == status, answer.body
        assert answer.body.startswith(b"<ErrorResponse")
        assert f"<Code>{code}</Code>".encode() in answer.body
        if code == "InvalidAction":
            assert b"Bogus" in answer.body
        good = kept.send(
            "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15", QUERY, sign=STS
        )
        assert good.status == 200 and KEY.encode() in good.body
    finally:
        kept.close()


CBOR = {
    "Content-Type": "application/cbor",
    "Accept": "application/cbor",
    "Smithy-Protocol": "rpc-v2-cbor",
}
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/{}"
MONITORING = ("monitoring", "us-east-1", KEY, SECRET)


@pytest.mark.parametrize(
    ("operation", "sign", "status", "code"),
    [
        pytest.param(
            "ListDashboards", MONITORING, 404, "UnknownOperationException", id="unimplemented"
        ),
        pytest.param(
            "ListMetrics",
            ("monitoring", "us-east-1", KEY, "bad"),
            403,
            "InvalidSignatureException",
            id="a wrong signature",
        ),
        pytest.param(
            "ListMetrics",
            ("monitoring", "eu-west-3", KEY, SECRET),
            403,
            "InvalidSignatureException",
            id="a wrong region",
        ),
        pytest.param(
            "ListMetrics", None, 403, "MissingAuthenticationTokenException", id="unsigned"
        ),
    ],
)
def test_each_refusal_in_cbor_is_a_cbor_error_and_the_connection_stays_sound(
    url: str, operation: str, sign: tuple[str, str, str, str] | None, status: int, code: str
) -> None:
    kept = KeepAlive(url)
    body = cbor2.dumps({})
    try:
        answer = kept.send("POST", CBOR_PATH.format(operation), body, CBOR, sign=sign)
        assert answer.status == status, answer.body
        error = cbor2.loads(answer.body)
        assert error["__type"] == code
        if code == "UnknownOperationException":
            assert operation in error["message"]
        good = kept.send("POST", CBOR_PATH.format("ListMetrics"), body, CBOR, sign=MONITORING)
        assert good.status == 200
        assert cbor2.loads(good.body)["Metrics"][0]["Namespace"] == "skylet"
    finally:
        kept.close()
