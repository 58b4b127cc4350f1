"""API Gateway's proxy events and response mapping in the instance, field by field."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote

import pytest

from skylet.gateway.routing import Route, RouteTable
from skylet.wire.http import RequestIds, Trigger
from skylet.worker import apigw
from skylet.worker.apigw import Api, HttpRequest

API = Api("000000000000", "us-east-1", "abcde12345", "dev")
REST = RequestIds(True, "9f0c5d2e-0000-4000-8000-000000000001", "JKJaXmPLvHcESHA=")
HTTP = RequestIds(False, "Hx1y2z3AbCdEfGg=")
RECEIVED_AT = 1_700_000_000.25  # 0x6553f100 seconds


def request(
    raw_path: str = "/users/42",
    *,
    headers: tuple[tuple[str, str], ...] = (("Host", "localhost:3000"),),
    body: bytes = b"",
    method: str = "GET",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        raw_path=raw_path,
        path=unquote(raw_path),
        query_string="",
        headers=headers,
        body=body,
        source_ip="203.0.113.9",
        host="localhost:3000",
        received_at=RECEIVED_AT,
        port=3000,
    )


def trigger(route: Route, req: HttpRequest, ids: RequestIds, stage: str) -> Trigger:
    match = RouteTable([route]).match(req.method, req.raw_path)
    assert match is not None
    return Trigger(
        route.kind,
        route.route_key,
        route.path,
        match.raw_path_parameters,
        "",
        API.account_id,
        API.region,
        API.api_id,
        stage,
        None,
        ids.request_id,
        ids.extended_id,
    )


def rest_event(req: HttpRequest, template: str = "/users/{id}") -> dict[str, Any]:
    route = Route("GET", template, "fn", "rest")
    return apigw.v1_event(req, trigger(route, req, REST, API.stage))


def http_event(req: HttpRequest, template: str = "/users/{id}") -> dict[str, Any]:
    route = Route("ANY", template, "fn", "http_api")
    return apigw.v2_event(req, trigger(route, req, HTTP, "$default"))


# -- responses ------------------------------------------------------------------------------

V1 = "1.0"
V2 = "2.0"


@pytest.mark.parametrize(
    ("version", "result", "status", "headers", "body"),
    [
        pytest.param(
            V1,
            b'{"statusCode": 200, "body": "ok"}',
            200,
            [("content-type", "application/json")],
            b"ok",
            id="a REST result without a content type gets application/json",
        ),
        pytest.param(
            V1,
            b'{"statusCode": 200, "headers": {"Content-Type": null}, "body": "ok"}',
            200,
            [],
            b"ok",
            id="a REST result with a null Content-Type gets none",
        ),
        pytest.param(
            V1,
            b'{"statusCode": 201, "headers": {"Content-Type": "text/csv"}, "body": "a,b"}',
            201,
            [("Content-Type", "text/csv")],
            b"a,b",
            id="a REST result keeps its own content type",
        ),
        pytest.param(
            V1,
            b'{"statusCode": 200, "multiValueHeaders": {"content-type": ["text/html"]}}',
            200,
            [("content-type", "text/html")],
            b"",
            id="a content type in multiValueHeaders counts",
        ),
        pytest.param(
            V1,
            b'{"statusCode": "204", "headers": {"X-A": 1, "X-B": true, "X-C": null}}',
            204,
            [("X-A", "1"), ("X-B", "true"), ("content-type", "application/json")],
            b"",
            id="REST header values are stringified and a null one is left out",
        ),
        pytest.param(
            V2,
            b'{"statusCode": 200, "body": "ok"}',
            200,
            [("content-type", "text/plain; charset=utf-8")],
            b"ok",
            id="a 2.0 result with statusCode but no content type gets text/plain",
        ),
        pytest.param(
            V2,
            b'{"statusCode": 200, "headers": {"content-type": "image/png"}, "body": "iVBO",'
            b' "isBase64Encoded": true}',
            200,
            [("content-type", "image/png")],
            base64.b64decode("iVBO"),
            id="a 2.0 result keeps its content type and decodes base64",
        ),
        pytest.param(
            V2,
            b'{"statusCode": 200, "cookies": ["a=1"], "body": {"k": 1}}',
            200,
            [("content-type", "text/plain; charset=utf-8"), ("set-cookie", "a=1")],
            b'{"k": 1}',
            id="a 2.0 result sets cookies and serialises a non-string body",
        ),
        pytest.param(
            V2,
            b'{"hello": "world"}',
            200,
            [("content-type", "application/json")],
            b'{"hello": "world"}',
            id="a 2.0 result without statusCode is a JSON body",
        ),
    ],
)
def test_results_map_to_responses(
    version: str, result: bytes, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    response = apigw.v1_response(result) if version == V1 else apigw.v2_response(result)
    assert response == (status, headers, body)


@pytest.mark.parametrize(
    ("version", "result"),
    [
        pytest.param(V1, b'{"body": "ok"}', id="a REST result without statusCode"),
        pytest.param(
            V1, b'{"statusCode": 200, "cookies": ["a=1"]}', id="a REST result with cookies"
        ),
        pytest.param(
            V1, b'{"statusCode": 200, "hello": "world"}', id="a REST result with an unknown key"
        ),
        pytest.param(V1, b'{"statusCode": 200, "body": {"k": 1}}', id="a REST non-string body"),
        pytest.param(V1, b'"just a string"', id="a REST result that is not an object"),
        pytest.param(V1, b"not json", id="a REST result that is not JSON"),
        pytest.param(V2, b'{"statusCode": "teapot"}', id="a 2.0 statusCode that is not a status"),
        pytest.param(V2, b"not json", id="a 2.0 result that is not JSON"),
        pytest.param(
            V2,
            b'{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}',
            id="a 2.0 body that is not base64",
        ),
    ],
)
def test_results_api_gateway_cannot_send_are_malformed(version: str, result: bytes) -> None:
    mapping = apigw.v1_response if version == V1 else apigw.v2_response
    with pytest.raises(apigw.MalformedResponse):
        mapping(result)


# -- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_path", "template", "path", "context_path", "parameters"),
    [
        pytest.param(
            "/users/42", "/users/{id}", "/users/42", "/dev/users/42", {"id": "42"}, id="plain"
        ),
        pytest.param(
            "/users/a%20b%2Fc",
            "/users/{id}",
            "/users/a%20b%2Fc",
            "/dev/users/a%20b%2Fc",
            {"id": "a%20b%2Fc"},
            id="a percent-encoded parameter stays encoded",
        ),
        pytest.param(
            "/files/x/y%20z.txt",
            "/files/{proxy+}",
            "/files/x/y%20z.txt",
            "/dev/files/x/y%20z.txt",
            {"proxy": "x/y%20z.txt"},
            id="a greedy parameter stays encoded",
        ),
    ],
)
def test_rest_events_keep_the_path_as_sent(
    raw_path: str, template: str, path: str, context_path: str, parameters: dict[str, str]
) -> None:
    event = rest_event(request(raw_path), template)
    assert event["path"] == path
    assert event["requestContext"]["path"] == context_path
    assert event["pathParameters"] == parameters


@pytest.mark.parametrize(
    ("raw_path", "template", "path", "parameters"),
    [
        pytest.param("/users/42", "/users/{id}", "/users/42", {"id": "42"}, id="plain"),
        pytest.param(
            "/users/a%20b%2Fc",
            "/users/{id}",
            "/users/a b/c",
            {"id": "a b/c"},
            id="a percent-encoded parameter is decoded",
        ),
        pytest.param(
            "/files/x/y%20z.txt",
            "/files/{proxy+}",
            "/files/x/y z.txt",
            {"proxy": "x/y z.txt"},
            id="a greedy parameter is decoded",
        ),
    ],
)
def test_http_api_events_carry_the_decoded_path(
    raw_path: str, template: str, path: str, parameters: dict[str, str]
) -> None:
    event = http_event(request(raw_path), template)
    assert event["rawPath"] == path
    assert event["requestContext"]["http"]["path"] == path
    assert event["pathParameters"] == parameters


TRACE = re.compile(r"Root=1-6553f100-[0-9a-f]{24}")


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(
            (("Host", "localhost:3000"), ("Content-Length", "2"), ("Connection", "keep-alive")),
            {
                "Host": "localhost:3000",
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Port": "3000",
                "X-Forwarded-Proto": "http",
                "X-Amzn-Trace-Id": TRACE,
            },
            id="content-length and connection are dropped and forwarding headers added",
        ),
        pytest.param(
            (("content-length", "2"), ("connection", "close"), ("Accept", "*/*")),
            {
                "Accept": "*/*",
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Port": "3000",
                "X-Forwarded-Proto": "http",
                "X-Amzn-Trace-Id": TRACE,
            },
            id="dropping ignores the names' case",
        ),
        pytest.param(
            (
                ("x-forwarded-for", "198.51.100.1"),
                ("X-Forwarded-Proto", "https"),
                ("X-Amzn-Trace-Id", "Root=1-00000001-000000000000000000000001"),
            ),
            {
                "X-Amzn-Trace-Id": "Root=1-00000001-000000000000000000000001",
                "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                "X-Forwarded-Port": "3000",
                "X-Forwarded-Proto": "http",
            },
            id="the client's X-Forwarded-For is extended and its trace id kept",
        ),
    ],
)
def test_rest_event_headers_are_what_api_gateway_passes(
    sent: tuple[tuple[str, str], ...], expected: dict[str, Any]
) -> None:
    event = rest_event(request(headers=sent))
    headers = event["headers"]
    assert set(headers) == set(expected)
    for name, value in expected.items():
        if isinstance(value, re.Pattern):
            assert value.fullmatch(headers[name]), headers[name]
        else:
            assert headers[name] == value
        assert event["multiValueHeaders"][name] == [headers[name]]


def test_rest_event_request_context_field_by_field() -> None:
    context = rest_event(request())["requestContext"]
    assert context["deploymentId"] == API.deployment_id
    assert re.fullmatch(r"[0-9a-f]{6}", context["deploymentId"])
    assert context["domainName"] == "localhost:3000"
    assert context["domainPrefix"] == API.api_id
    assert context["extendedRequestId"] == REST.extended_id
    assert context["requestId"] == REST.request_id
    assert context["requestTimeEpoch"] == 1_700_000_000_250
    assert set(context["identity"]) == {
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "sourceIp",
        "user",
        "userAgent",
        "userArn",
    }
    assert context["identity"]["sourceIp"] == "203.0.113.9"


def test_the_deployment_id_is_stable_per_api() -> None:
    same = Api("1", "eu-west-1", API.api_id, "prod")
    other = Api(API.account_id, API.region, "zzzzz99999", API.stage)
    assert same.deployment_id == API.deployment_id
    assert other.deployment_id != API.deployment_id


def test_http_api_events_keep_content_length_and_add_no_forwarding_headers() -> None:
    sent = (("Host", "localhost:3000"), ("Content-Length", "2"), ("Content-Type", "text/plain"))
    event = http_event(request(headers=sent, body=b"hi", method="POST"))
    assert event["headers"] == {
        "host": "localhost:3000",
        "content-length": "2",
        "content-type": "text/plain",
    }


@pytest.mark.parametrize(
    ("content_type", "as_text"),
    [
        pytest.param("text/plain", True, id="text/plain is text"),
        pytest.param("text/html; charset=utf-8", True, id="text/html with a charset is text"),
        pytest.param("application/json", True, id="application/json is text"),
        pytest.param("Application/JSON; charset=utf-8", True, id="media types ignore case"),
        pytest.param("application/xml", True, id="application/xml is text"),
        pytest.param("application/javascript", True, id="application/javascript is text"),
        pytest.param("application/vnd.api+json", False, id="a +json type is base64"),
        pytest.param("image/svg+xml", False, id="a +xml type is base64"),
        pytest.param("application/x-www-form-urlencoded", False, id="a form post is base64"),
        pytest.param("multipart/form-data; boundary=x", False, id="multipart is base64"),
        pytest.param(None, False, id="a body without a content type is base64"),
    ],
)
def test_http_api_bodies_are_text_only_for_text_types(
    content_type: str | None, as_text: bool
) -> None:
    headers = (("Content-Type", content_type),) if content_type is not None else ()
    event = http_event(request(headers=headers, body=b"a=1", method="POST"))
    assert event["isBase64Encoded"] is not as_text
    assert event["body"] == ("a=1" if as_text else base64.b64encode(b"a=1").decode())
