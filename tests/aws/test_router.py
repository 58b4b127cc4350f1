"""Which service a request names (the router's decision, pure): the SigV4 scope, then
X-Amz-Target or the CBOR path, then a form's Action; and the registry's choice among its
services."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.aws.auth import Authenticator
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.router import TARGETED, Services, form_request, named_service
from skylet.aws.service import Service
from skylet.aws.sts import SecurityTokens


def scope(
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    query: bytes = b"",
    method: str = "POST",
) -> dict[str, Any]:
    return {"headers": list(headers), "query_string": query, "method": method, "path": "/"}


def sigv4(service: bytes) -> tuple[bytes, bytes]:
    return (
        b"authorization",
        b"AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/" + service + b"/aws4_request, "
        b"SignedHeaders=host;x-amz-date, Signature=00",
    )


@pytest.mark.parametrize(
    ("request_scope", "named"),
    [
        pytest.param(scope([sigv4(b"sts")]), "sts", id="the scope of an Authorization header"),
        pytest.param(
            scope([(b"x-amz-target", b"DynamoDB_20120810.ListTables"), sigv4(b"sqs")]),
            "sqs",
            id="the scope wins over X-Amz-Target",
        ),
        pytest.param(
            scope(query=b"X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Flambda%2Faws4_request"),
            "lambda",
            id="the scope of a presigned URL",
        ),
        pytest.param(scope(query=b"AWSAccessKeyId=a&Signature=b&Expires=1"), "s3", id="SigV2"),
        pytest.param(
            scope([(b"x-amz-target", b"AmazonSQS.SendMessage")]),
            TARGETED,
            id="an unsigned X-Amz-Target names a service for the registry",
        ),
        pytest.param(
            scope([(b"smithy-protocol", b"rpc-v2-cbor")]), TARGETED, id="an unsigned CBOR call"
        ),
        pytest.param(
            scope([(b"authorization", b"Bearer eyJhbGciOi")]),
            None,
            id="another scheme's Authorization is a function route's",
        ),
        pytest.param(
            scope([(b"authorization", b"AWS4-HMAC-SHA256 Credential=broken")]),
            TARGETED,
            id="a malformed credential goes to a door that says why",
        ),
        pytest.param(scope([(b"content-type", b"text/plain")]), None, id="a plain request"),
    ],
)
def test_a_request_names_its_service_before_its_path(
    request_scope: dict[str, Any], named: str | None
) -> None:
    assert named_service(request_scope) == named


@pytest.mark.parametrize(
    ("request_scope", "expected"),
    [
        pytest.param(
            scope([(b"content-type", b"application/x-www-form-urlencoded; charset=utf-8")]),
            True,
            id="a form POST",
        ),
        pytest.param(scope(query=b"Action=GetCallerIdentity", method="GET"), True, id="a GET"),
        pytest.param(scope([(b"content-type", b"application/json")]), False, id="JSON"),
        pytest.param(scope(method="PUT"), False, id="a PUT"),
    ],
)
def test_what_may_be_a_query_protocol_call(request_scope: dict[str, Any], expected: bool) -> None:
    assert form_request(request_scope) is expected


class Streams(Service):
    """DynamoDB Streams signs as ``dynamodb``: the target prefix tells the two apart."""

    service_name = "dynamodbstreams"


class Tables(Service):
    service_name = "dynamodb"


@pytest.fixture(scope="module")
def registry() -> Services:
    services = Services(
        Authenticator({"test": "test"}, "us-east-1", required=False), ServiceModels()
    )
    for service in (SecurityTokens(), Tables(), Streams()):
        services.register(service)
    return services


@pytest.mark.parametrize(
    ("signing", "target", "action", "chosen"),
    [
        pytest.param("sts", None, None, "sts", id="by the scope's service"),
        pytest.param(
            "dynamodb", "DynamoDBStreams_20120810", None, "dynamodbstreams", id="scope and target"
        ),
        pytest.param("dynamodb", "DynamoDB_20120810", None, "dynamodb", id="the other of the two"),
        pytest.param(None, "DynamoDB_20120810", None, "dynamodb", id="by the target alone"),
        pytest.param(None, None, "GetCallerIdentity", "sts", id="by a form's Action"),
        pytest.param("kinesis", None, None, None, id="a service nobody registered"),
        pytest.param(
            None, None, "ListTables", None, id="an Action of a service not speaking query"
        ),
    ],
)
def test_the_registry_picks_the_service_a_request_names(
    registry: Services,
    signing: str | None,
    target: str | None,
    action: str | None,
    chosen: str | None,
) -> None:
    entry = registry.pick(signing, target, action)
    assert (entry.service.service_name if entry else None) == chosen


def test_registering_a_service_again_replaces_it(registry: Services) -> None:
    again = SecurityTokens()
    registry.register(again)
    entry = registry.pick("sts", None)
    assert entry is not None and entry.service is again
    assert [e.service.service_name for e in registry.entries].count("sts") == 1


def test_a_service_botocore_has_no_model_of_is_refused_when_registered() -> None:
    class Nothing(Service):
        service_name = "no-such-service"

    services = Services(Authenticator({}, "us-east-1", required=False), ServiceModels())
    services.register(Nothing())
    with pytest.raises(ValueError, match="no-such-service"):
        services.load()
