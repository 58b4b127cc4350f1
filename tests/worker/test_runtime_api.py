"""The pure parts of the Runtime API's relay: error types and documents as the emulator
keeps them."""

from __future__ import annotations

import pytest

from skylet.worker.runtime_http import error_document, valid_error_type


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("Runtime.ExitError", "Runtime.ExitError"),
        ("Function.MyError", "Function.MyError"),
        ("Unhandled", "Runtime.Unknown"),
        ("", "Runtime.Unknown"),
        ("Function.x", "Function.Unknown"),
        ("Runtime.lower", "Runtime.Unknown"),
        ("prefix Runtime.Found", "prefix Runtime.Found"),  # the emulator searches, unanchored
    ],
    ids=[
        "a runtime error",
        "a function error",
        "another word",
        "none",
        "function, lower case",
        "runtime, lower case",
        "anywhere in the value",
    ],
)
def test_error_types_are_kept_only_in_lambdas_form(header: str, kept: str) -> None:
    assert valid_error_type(header) == kept


def test_a_json_error_document_is_kept_as_the_runtime_sent_it() -> None:
    body = b'{"errorMessage": "m", "errorType": "E", "trace": ["a"]}'
    assert error_document(body, "Runtime.Unknown") == {
        "errorMessage": "m",
        "errorType": "E",
        "trace": ["a"],
    }


@pytest.mark.parametrize("body", [b"", b"plain text", b"[1, 2]"], ids=["empty", "text", "a list"])
def test_anything_else_becomes_a_document_from_the_header(body: bytes) -> None:
    assert error_document(body, "Function.Bad") == {
        "errorMessage": body.decode(),
        "errorType": "Function.Bad",
    }


def test_a_request_head_past_the_limit_is_refused_before_it_is_kept() -> None:
    import httptools

    from skylet.worker.runtime_http import MAX_HEAD_BYTES, Connection

    conn = Connection(sock=None)
    conn.parser = httptools.HttpRequestParser(conn)
    conn.parser.feed_data(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [r.path for r in conn.done] == ["/2018-06-01/runtime/invocation/next"]
    with pytest.raises(httptools.HttpParserError):
        conn.parser.feed_data(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n")
