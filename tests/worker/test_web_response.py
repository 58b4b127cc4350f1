"""Return values of Cloud Functions style functions → responses, and Response (pure)."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest

from skylet.worker.web import (
    BadRequest,
    Response,
    UnsupportedMediaType,
    exception_response,
    http_response,
)
from skylet.worker.web.response import http_date, status_code

HTML = ("Content-Type", "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ("hi", 200, [HTML], b"hi"),
        (bytearray(b"\x00"), 200, [HTML], b"\x00"),
        ({"z": 1, "a": [True, None]}, 200, [("Content-Type", "application/json")], None),
        (("x", HTTPStatus.CREATED), 201, [HTML], b"x"),
        (("x", "404 NOT FOUND"), 404, [HTML], b"x"),
        (("x", {"Content-Type": "text/csv"}), 200, [("Content-Type", "text/csv")], b"x"),
        (("x", 500, [("X-A", "1"), ("X-A", "2")]), 500, [HTML, ("X-A", "1"), ("X-A", "2")], b"x"),
        (iter([b"a", "b"]), 200, [HTML], b"ab"),
        (Response(b"r", 204, {"Content-Length": "1"}), 204, [HTML], b"r"),
    ],
    ids=[
        "str",
        "bytearray",
        "dict",
        "http_status",
        "status_line",
        "headers_replace_content_type",
        "headers_keep_duplicates",
        "iterator",
        "response_drops_content_length",
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


def test_response_has_werkzeugs_constructor_and_attributes() -> None:
    response = Response("é", status="201", mimetype="application/xml")
    assert (response.status_code, response.status) == (201, "201 CREATED")
    assert response.content_type == "application/xml; charset=utf-8"
    assert (response.get_data(), response.get_data(as_text=True)) == (b"\xc3\xa9", "é")
    response.data = b"new"
    response.status = 418
    response.mimetype = "image/png"
    assert (response.data, response.status, response.content_type) == (
        b"new",
        "418 I'M A TEAPOT",
        "image/png",
    )
    assert Response(headers={"Content-Type": "x/y"}).content_type == "x/y"
    assert Response(content_type="a/b", mimetype="c/d").content_type == "a/b"


def test_cookies_are_set_and_deleted() -> None:
    response = Response()
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    response.set_cookie("s", "v1", expires=when, domain="example.com", secure=True)
    response.set_cookie("t", "a;b", max_age=datetime.timedelta(minutes=1), path=None)
    response.delete_cookie("old")
    response.set_cookie("u", 'é"')
    cookies = response.headers.getlist("set-cookie")
    assert cookies[0] == (
        "s=v1; Domain=example.com; expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; Secure"
    )
    assert cookies[1] == 't="a;b"; Max-Age=60'
    assert cookies[2] == "old=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    assert cookies[3] == 'u="\\303\\251\\""; Path=/'


def test_http_exceptions_answer_with_an_escaped_error_page() -> None:
    status, headers, body = exception_response(BadRequest("<b>no</b>\nline"))  # type: ignore[misc]
    assert (status, list(headers)) == (400, [HTML])
    assert body.decode() == (
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n"
        "<h1>Bad Request</h1>\n<p>&lt;b&gt;no&lt;/b&gt;<br>\nline</p>\n"
    )
    assert exception_response(UnsupportedMediaType())[0]  # type: ignore[index] == 415


def test_plain_exceptions_have_no_response() -> None:
    assert exception_response(ValueError("x")) is None

    class LooksLikeOne(Exception):
        code = 404

        def get_response(self) -> Any:
            raise RuntimeError("not really")

    assert exception_response(LooksLikeOne()) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(201, 201), ("201", 201), ("201 CREATED", 201), (HTTPStatus.IM_A_TEAPOT, 418)],
)
def test_status_codes_parse(value: Any, expected: int) -> None:
    assert status_code(value) == expected


def test_a_status_that_is_no_number_raises() -> None:
    with pytest.raises(ValueError, match="is not an HTTP status"):
        status_code("CREATED")


def test_naive_datetimes_are_utc_in_http_dates() -> None:
    assert http_date(datetime.datetime(2024, 1, 2, 3, 4, 5)) == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
