"""The HTTP envelope: requests and responses through the invoker's opaque payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.worker.http_envelope import (
    EnvelopeError,
    EnvelopeRequest,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
)

BODY = bytes(range(256)) + b"\n\r\n{}"


def request(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "method": "POST",
        "path": "/x/y z",
        "raw_path": "/x%2Fy%20z",
        "query": "a=1&a=2",
        "headers": [("Content-Type", "text/plain"), ("x-dup", "1"), ("X-Dup", "2")],
        "remote_addr": "127.0.0.1",
        "scheme": "https",
        "host": "localhost:9000",
        "body": BODY,
    }
    return encode_request(**{**fields, **overrides})


def test_a_request_round_trips_with_its_binary_body_and_duplicate_headers() -> None:
    decoded = decode_request(request(root_path="/fn"))
    assert decoded == EnvelopeRequest(
        method="POST",
        path="/x/y z",
        raw_path="/x%2Fy%20z",
        query="a=1&a=2",
        headers=(("content-type", "text/plain"), ("x-dup", "1"), ("x-dup", "2")),
        remote_addr="127.0.0.1",
        scheme="https",
        host="localhost:9000",
        body=BODY,
        root_path="/fn",
    )


def test_the_request_head_is_one_line_of_compact_json() -> None:
    head, _, body = request(headers=[("x-evil", "a\nb")]).partition(b"\n")
    meta = json.loads(head)
    assert meta["headers"] == [["x-evil", "a\nb"]]
    assert meta["root_path"] == ""
    assert b" " not in head.replace(b"y z", b"")
    assert body == BODY


def test_a_minimal_request_gets_defaults() -> None:
    decoded = decode_request(b'{"method":"GET","path":"/p"}\n')
    assert (decoded.raw_path, decoded.query, decoded.headers) == ("/p", "", ())
    assert (decoded.scheme, decoded.host, decoded.root_path, decoded.body) == (
        "http",
        "localhost",
        "",
        b"",
    )


def test_a_response_round_trips() -> None:
    payload = encode_response(201, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], BODY)
    assert decode_response(payload) == (201, (("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")), BODY)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"method":"GET","path":"/"}', "no header line"),
        (b"{nope\n", "the header line is not JSON"),
        (b"[1]\n", "not a JSON object"),
        (b'{"path":"/"}\n', "the request has no 'method'"),
        (b'{"method":"GET"}\n', "the request has no 'path'"),
        (b'{"method":1,"path":"/"}\n', "'method' must be a string, not int"),
        (b'{"method":"GET","path":"/","headers":[["a"]]}\n', "headers must be a list"),
        (b'{"method":"GET","path":"/","headers":[["a",1]]}\n', "headers must be a list"),
        (b'{"method":"GET","path":"/","headers":{"a":"b"}}\n', "headers must be a list"),
    ],
    ids=[
        "no_newline",
        "head_not_json",
        "head_not_an_object",
        "no_method",
        "no_path",
        "method_not_a_string",
        "header_without_value",
        "header_value_not_a_string",
        "headers_as_a_mapping",
    ],
)
def test_a_malformed_request_raises_envelope_error(payload: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        decode_request(payload)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b'{"headers":[]}', "status None is not an HTTP status"),
        (b'{"status":"200"}', "status '200' is not an HTTP status"),
        (b'{"status":true}', "status True is not an HTTP status"),
        (b'{"status":99}', "status 99 is not an HTTP status"),
        (b'{"status":600}', "status 600 is not an HTTP status"),
        (b'{"status":200,"headers":[[1,2]]}', "headers must be a list"),
    ],
    ids=["no_status", "string_status", "bool_status", "below_100", "above_599", "bad_headers"],
)
def test_a_malformed_response_raises_envelope_error(head: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        decode_response(head + b"\nbody")
