"""Return values of Cloud Functions style functions → responses, and Response (pure)."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from werkzeug import wrappers
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from skylet.worker.web import Response, exception_response, http_response

HTML = ("Content-Type", "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ("hi", 200, [HTML], b"hi"),
        (bytearray(b"\x00"), 200, [HTML], b"\x00"),
        ({"z": 1, "a": [True, None]}, 200, [("Content-Type", "application/json")], None),
        (("x", HTTPStatus.CREATED), 201, [HTML], b"x"),
        (("x", "404 NOT FOUND"), 404, [HTML], b"x"),
        (("x", "201"), 201, [HTML], b"x"),
        (({"a": 1}, b"202 ACCEPTED"), 202, [("Content-Type", "application/json")], None),
        (("x", {"Content-Type": "text/csv"}), 200, [("Content-Type", "text/csv")], b"x"),
        (("x", 500, [("X-A", "1"), ("X-A", "2")]), 500, [("X-A", "1"), ("X-A", "2"), HTML], b"x"),
        (iter([b"a", "b"]), 200, [HTML], b"ab"),
        (Response(b"r", 204, {"Content-Length": "1"}), 204, [HTML], b"r"),
        (
            (Response("b", 200, {"X-Base": "1"}), 203, {"X-Extra": "2", "X-Base": ["3", "4"]}),
            203,
            [("X-Base", "3"), HTML, ("X-Extra", "2"), ("X-Base", "4")],
            b"b",
        ),
    ],
    ids=[
        "str",
        "bytearray",
        "dict",
        "http_status",
        "status_line",
        "status_digits",
        "status_bytes_on_a_response",
        "headers_replace_content_type",
        "headers_keep_duplicates",
        "iterator",
        "response_drops_content_length",
        "headers_update_a_response",
    ],
)
def test_return_values_become_responses(
    result: Any, status: int, headers: list[tuple[str, str]], body: bytes | None
) -> None:
    got_status, got_headers, got_body = http_response(result)
    assert (got_status, list(got_headers)) == (status, headers)
    if body is not None:
        assert got_body == body


def test_json_is_flasks_compact_sorted_ascii_with_a_newline() -> None:
    body = http_response({"é": datetime.date(2024, 2, 29), "a": 1})[2]
    assert body == b'{"a":1,"\\u00e9":"Thu, 29 Feb 2024 00:00:00 GMT"}\n'


@pytest.mark.parametrize(
    "result",
    [None, 3, ("a",), ("a", 200, {}, 1), object()],
    ids=["none", "int", "one_tuple", "four_tuple", "object"],
)
def test_invalid_return_values_raise_type_error(result: Any) -> None:
    with pytest.raises(TypeError, match="The view function did not return a valid response"):
        http_response(result)


def test_a_status_that_is_no_number_raises() -> None:
    with pytest.raises(ValueError, match="is not an HTTP status"):
        http_response(("x", "CREATED"))


def test_a_response_is_closed_once_its_body_is_read() -> None:
    closed: list[bool] = []
    response = Response("x")
    response.call_on_close(lambda: closed.append(True))
    assert http_response(response)[2] == b"x" and closed == [True]


def test_response_is_werkzeugs_with_flasks_html_default() -> None:
    response = Response("é", status="201", mimetype="application/xml")
    assert isinstance(response, wrappers.Response)
    assert (response.status_code, response.status) == (201, "201 CREATED")
    assert response.content_type == "application/xml; charset=utf-8"
    assert (response.get_data(), response.get_data(as_text=True)) == (b"\xc3\xa9", "é")
    assert Response().content_type == "text/html; charset=utf-8"
    assert wrappers.Response().content_type == "text/plain; charset=utf-8"
    assert Response(headers={"Content-Type": "x/y"}).content_type == "x/y"


def test_cookies_are_werkzeugs() -> None:
    response = Response()
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    response.set_cookie("s", "v1", expires=when, domain="example.com", secure=True)
    response.delete_cookie("old")
    response.set_cookie("u", 'é"')
    cookies = [value for name, value in http_response(response)[1] if name == "Set-Cookie"]
    assert cookies == [
        "s=v1; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; Path=/",
        "old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
        'u="\\303\\251\\""; Path=/',
    ]


def test_http_exceptions_answer_with_werkzeugs_escaped_error_page() -> None:
    status, headers, body = exception_response(BadRequest("<b>no</b>\nline"))  # type: ignore[misc]
    assert (status, list(headers)) == (400, [HTML])
    assert body.decode() == (
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n"
        "<h1>Bad Request</h1>\n<p>&lt;b&gt;no&lt;/b&gt;<br>line</p>\n"
    )
    assert exception_response(UnsupportedMediaType())[0] == 415  # type: ignore[index]
    assert exception_response(NotFound())[0] == 404  # type: ignore[index]


def test_plain_exceptions_have_no_response() -> None:
    assert exception_response(ValueError("x")) is None

    class LooksLikeOne(Exception):
        code = 404

        def get_response(self) -> Any:
            return Response("not werkzeug's")

    assert exception_response(LooksLikeOne()) is None

    class Broken(NotFound):
        def get_response(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("not really")

    assert exception_response(Broken()) is None
