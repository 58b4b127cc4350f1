"""API Gateway's own answers: each API kind's status, body and headers, and its request ids."""

from __future__ import annotations

import re

import pytest

from skylet.errors import (
    IntegrationFailed,
    IntegrationTimeout,
    InvalidRequestContent,
    RequestTooLarge,
    RouteNotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from skylet.gateway import apigw
from skylet.wire.http import HttpResponse, RequestIds, header_pairs

REST = RequestIds(True, "9f0c5d2e-0000-4000-8000-000000000001", "JKJaXmPLvHcESHA=")
HTTP = RequestIds(False, "Hx1y2z3AbCdEfGg=")


# -- error answers --------------------------------------------------------------------------

REST_IDS = [("x-amzn-RequestId", REST.request_id), ("x-amz-apigw-id", REST.extended_id)]
HTTP_IDS = [("apigw-requestid", HTTP.request_id)]
JSON = ("content-type", "application/json")


@pytest.mark.parametrize(
    ("answer", "status", "body", "headers"),
    [
        pytest.param(
            apigw.answer(IntegrationFailed(""), REST),
            502,
            b'{"message": "Internal server error"}',
            [JSON, *REST_IDS, ("x-amzn-ErrorType", "InternalServerErrorException")],
            id="a REST function error is a 502 with InternalServerErrorException",
        ),
        pytest.param(
            apigw.answer(IntegrationFailed(""), HTTP),
            500,
            b'{"message":"Internal Server Error"}',
            [JSON, *HTTP_IDS],
            id="an HTTP API function error is a 500 without an error type",
        ),
        pytest.param(
            apigw.answer(IntegrationTimeout(""), REST),
            504,
            b'{"message": "Endpoint request timed out"}',
            [JSON, *REST_IDS],
            id="a REST timeout is a 504",
        ),
        pytest.param(
            apigw.answer(IntegrationTimeout(""), HTTP),
            503,
            b'{"message":"Service Unavailable"}',
            [JSON, *HTTP_IDS],
            id="an HTTP API timeout is a 503",
        ),
        pytest.param(
            apigw.answer(RouteNotFound(""), REST),
            403,
            b'{"message":"Missing Authentication Token"}',
            [JSON, *REST_IDS, ("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
            id="no REST route is a 403 with MissingAuthenticationTokenException",
        ),
        pytest.param(
            apigw.answer(RouteNotFound(""), HTTP),
            404,
            b'{"message":"Not Found"}',
            [JSON, *HTTP_IDS],
            id="no HTTP API route is a 404",
        ),
        pytest.param(
            apigw.answer(RequestTooLarge(""), HTTP),
            413,
            b'{"message":"Request Entity Too Large"}',
            [JSON, *HTTP_IDS],
            id="an HTTP API refuses a large body with 413",
        ),
        pytest.param(
            apigw.answer(RequestTooLarge(""), REST),
            413,
            b'{"message":"Request Too Long"}',
            [JSON, *REST_IDS],
            id="a REST API refuses a large body with 413 in its own words",
        ),
        pytest.param(
            apigw.answer(TooManyRequests(""), HTTP),
            429,
            b'{"message":"Too Many Requests"}',
            [JSON, *HTTP_IDS],
            id="a throttled invocation is a 429",
        ),
        pytest.param(
            apigw.answer(ServiceUnavailable(""), REST),
            503,
            b'{"message":"Service Unavailable"}',
            [JSON, *REST_IDS],
            id="an unavailable platform is a 503",
        ),
        pytest.param(
            apigw.answer(InvalidRequestContent(""), REST),
            502,
            b'{"message": "Internal server error"}',
            [JSON, *REST_IDS, ("x-amzn-ErrorType", "InternalServerErrorException")],
            id="any other refusal is an integration failure",
        ),
    ],
)
def test_error_answers_have_each_api_kinds_status_body_and_headers(
    answer: HttpResponse, status: int, body: bytes, headers: list[tuple[str, str]]
) -> None:
    assert answer.status == status
    assert answer.body == body
    assert header_pairs(answer.block) == [("content-length", str(len(body))), *headers]


def test_request_ids_have_each_api_kinds_form() -> None:
    rest = apigw.new_ids(rest=True)
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", rest.request_id)
    assert len(rest.extended_id) == 16
    assert [name for name, _ in rest.headers()] == ["x-amzn-RequestId", "x-amz-apigw-id"]
    http = apigw.new_ids(rest=False)
    assert len(http.request_id) == 16 and http.extended_id == ""
    assert http.headers() == [("apigw-requestid", http.request_id)]
