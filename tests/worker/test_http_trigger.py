"""A request from an HTTP route inside the instance: the wire, the event, the response (pure)."""

from __future__ import annotations

import base64
import decimal
import json
from typing import Any

import pytest

from skylet import fastjson
from skylet.wire import http as wire_http
from skylet.worker import apigw, http_trigger
from skylet.worker.instance import to_json as _to_json


def trigger(
    kind: str = "http_api", prefix: str = "", binary_media_types: list[str] | None = None
) -> wire_http.Trigger:
    rest = kind == "rest"
    return wire_http.Trigger(
        *(kind, "GET /a/{id}", "/a/{id}", {"id": "x%20y"}, prefix),
        *("0" * 12, "eu-west-1", "abcde12345", "dev" if rest else "$default", binary_media_types),
        *("Hx1y2z3AbCdEfGg=", "JKJaXmPLvHcESHA=" if rest else ""),
    )


def sent(
    headers: list[tuple[str, str]],
    server: tuple[str, int] | None,
    kind: str = "http_api",
    binary_media_types: list[str] | None = None,
    body: bytes = b"body",
) -> apigw.Wire:
    """A request as the gateway sends it, through JSON as it crosses the pipe."""
    request = wire_http.Request(
        "GET", "/a/x%20y", "/a/x y", "q=1", headers, "203.0.113.9", server, 1.5, "1.1", "http"
    )  # fmt: skip
    items = wire_http.encode(request, trigger(kind, binary_media_types=binary_media_types))
    return apigw.from_wire(fastjson.loads(fastjson.dumps(items)), body)


def test_the_wire_carries_the_request_and_the_instance_derives_host_and_port() -> None:
    wire = sent([("host", "example.test"), ("x-a", "1")], ("127.0.0.1", 9000))
    request = wire.request
    assert (request.method, request.raw_path, request.path) == ("GET", "/a/x%20y", "/a/x y")
    assert request.headers == (("host", "example.test"), ("x-a", "1"))
    assert (request.host, request.port, request.protocol) == ("example.test", 9000, "HTTP/1.1")
    assert (request.source_ip, request.body, request.received_at) == ("203.0.113.9", b"body", 1.5)
    assert wire.trigger.raw_path_parameters == {"id": "x%20y"}
    assert sent([], ("10.0.0.1", 81)).request.host == "10.0.0.1:81"
    assert sent([], None).request.port == 80


def good() -> dict[str, Any]:
    request = wire_http.Request("GET", "/", "/", "", [], None, None, 0.0, "1.1", "http")
    return wire_http.encode(request, trigger())


@pytest.mark.parametrize(
    "data",
    [
        ["GET"],
        {**good(), "v": 2},
        {**good(), "request": {"method": "GET"}},
        {**good(), "request": {**good()["request"], "extra": 1}},
    ],
    ids=["a positional list", "another version", "missing fields", "an unknown field"],
)
def test_anything_but_the_named_versioned_trigger_is_refused(data: Any) -> None:
    with pytest.raises(ValueError, match="not an HTTP trigger"):
        apigw.from_wire(data, b"")


def test_the_event_is_the_payload_format_the_route_kind_names() -> None:
    v2 = http_trigger.lambda_event(sent([("host", "h")], None))
    assert v2["version"] == "2.0" and v2["pathParameters"] == {"id": "x y"}
    assert v2["requestContext"]["requestId"] == "Hx1y2z3AbCdEfGg="
    v1 = http_trigger.lambda_event(sent([("host", "h")], None, kind="rest"))
    assert v1["pathParameters"] == {"id": "x%20y"} and v1["requestContext"]["stage"] == "dev"
    assert v1["requestContext"]["extendedRequestId"] == "JKJaXmPLvHcESHA="


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "headers": {"a": "b"}, "body": "x"},
        {"statusCode": decimal.Decimal(201), "body": "x"},
        {"statusCode": 200, "cookies": ("a=1", "b=2"), "body": "x"},
        {"statusCode": 200, "headers": {"n": 5, "t": True}, "body": {"nested": {"deep": [1]}}},
        {1: "non-string key"},
        {"statusCode": 200, "multiValueHeaders": {"m": ["1", 2]}, "body": None},
        ["a", "list"],
        "a string",
    ],
    ids=[
        "plain",
        "decimal_status",
        "tuple_cookies",
        "typed_headers_and_json_body",
        "non_string_key",
        "multi_value",
        "list",
        "string",
    ],
)
def test_a_result_maps_as_its_json_would(result: Any) -> None:
    assert apigw.as_parsed(result, _to_json) == json.loads(_to_json(result))
    wire = sent([], None)
    expected_status, expected_headers, expected_body = apigw.v2_response(_to_json(result).encode())
    status, block, body = http_trigger.lambda_answer(wire, result, _to_json)
    assert (status, body) == (expected_status, expected_body)
    headers = wire_http.header_pairs(block)
    assert headers[0] == ("content-length", str(len(body)))
    assert headers[1:] == [*expected_headers, ("apigw-requestid", "Hx1y2z3AbCdEfGg=")]


def test_an_unserialisable_result_raises_what_lambda_raises() -> None:
    with pytest.raises(TypeError):
        http_trigger.lambda_answer(sent([], None), {"statusCode": 200, "x": object()}, _to_json)


@pytest.mark.parametrize(
    "headers",
    [[("x-bad", "a\nb")], [("bad name", "v")], [("x-ok", "é€")]],
    ids=["newline_in_value", "space_in_name", "not_latin_1"],
)
def test_headers_http_cannot_carry_make_the_result_malformed(
    headers: list[tuple[str, str]],
) -> None:
    with pytest.raises(apigw.MalformedResponse):
        http_trigger.framed((200, headers, b""))


def test_framing_puts_the_true_length_first_and_drops_the_functions() -> None:
    headers = [("Content-Length", "99"), ("X-A", "é"), ("Transfer-Encoding", "chunked")]
    block = http_trigger.framed((200, headers, b"abc"))[1]
    assert block == "content-length: 3\r\nX-A: é\r\n"


@pytest.mark.parametrize("status", [204, 304])
def test_a_204_or_304_has_no_body_and_no_length(status: int) -> None:
    framed = http_trigger.framed((status, [("Content-Length", "1"), ("ETag", '"v1"')], b"x"))
    assert framed == (status, 'ETag: "v1"\r\n', b"")


@pytest.mark.parametrize("status", [100, 101, 199, 600, 99, -1])
def test_a_status_that_cannot_end_a_response_makes_the_result_malformed(status: int) -> None:
    with pytest.raises(apigw.MalformedResponse, match="not a final HTTP status"):
        http_trigger.framed((status, [], b""))


def test_a_function_route_strips_its_prefix_and_lowers_header_names() -> None:
    request = wire_http.Request(
        "GET", "/cf/a", "/cf/a", "", [("X-Up", "1")], None, None, 0.0, "1.1", "http"
    )  # fmt: skip
    route = ("function", "ANY /cf/{proxy+}", "/cf/{proxy+}", {}, "/cf")
    items = wire_http.encode(request, wire_http.Trigger(*route, "", "", "", "", None, "", ""))
    envelope = http_trigger.envelope_request(apigw.from_wire(items, b""))
    assert (envelope.path, envelope.raw_path, envelope.headers) == ("/a", "/a", (("x-up", "1"),))
    assert (envelope.remote_addr, envelope.host) == ("127.0.0.1", "localhost")


PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("configured", "content_type", "encoded"),
    [
        (None, "image/png", True),
        (None, "application/octet-stream", True),
        (None, "application/vnd.custom", False),
        (["application/vnd.custom"], "application/vnd.custom; v=1", True),
        (["image/*"], "image/png", True),
        (["image/*"], "application/octet-stream", False),
        (["*/*"], "text/plain", True),
        ([], "image/png", False),
    ],
    ids=[
        "skylet_defaults_an_image",
        "skylet_defaults_octet_stream",
        "skylet_defaults_another_type",
        "a_configured_type_parameters_ignored",
        "a_configured_wildcard_subtype",
        "a_type_the_configuration_leaves_out",
        "everything_binary",
        "nothing_binary",
    ],
)
def test_a_rest_api_base64_encodes_the_bodies_its_binary_media_types_name(
    configured: list[str] | None, content_type: str, encoded: bool
) -> None:
    body = b"plain text"
    wire = sent([("content-type", content_type)], None, "rest", configured, body)
    event = http_trigger.lambda_event(wire)
    assert event["isBase64Encoded"] is encoded
    assert event["body"] == (base64.b64encode(body).decode() if encoded else body.decode())


@pytest.mark.parametrize(
    ("configured", "accept", "binary"),
    [
        (None, None, True),
        (["image/png"], "image/png", True),
        (["image/png"], "text/html, image/png", False),
        (["image/png"], "*/*", False),
        (["image/png"], None, False),
        (["*/*"], "text/html", True),
        (["*/*"], None, True),
    ],
    ids=[
        "skylet_defaults_always_decode",
        "the_accepted_type_is_binary",
        "only_the_first_accepted_type_counts",
        "accept_anything_is_not_a_binary_type",
        "no_accept",
        "everything_binary",
        "everything_binary_without_accept",
    ],
)
def test_a_rest_api_decodes_a_base64_result_when_the_first_accepted_type_is_binary(
    configured: list[str] | None, accept: str | None, binary: bool
) -> None:
    headers = [("accept", accept)] if accept is not None else []
    wire = sent(headers, None, "rest", configured)
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(PNG).decode(),
        "isBase64Encoded": True,
    }
    status, _, body = http_trigger.lambda_answer(wire, result, _to_json)
    assert status == 200
    assert body == (PNG if binary else base64.b64encode(PNG))
