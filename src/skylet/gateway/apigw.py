"""API Gateway's own answers (errors, throttling, a missing route) and the request ids it
gives each request. The event a function receives, and how its result is mapped, are built in
the instance (skylet.worker.apigw). Pure, apart from drawing random ids.
"""

from __future__ import annotations

import base64
import json
import random

from skylet.ids import new_request_id
from skylet.wire.http import HttpResponse, RequestIds, response


def new_ids(*, rest: bool) -> RequestIds:
    """A new request's ids: a REST API's UUID and extended id, or an HTTP API's short id."""
    if rest:
        return RequestIds(True, new_request_id(), _short_id())
    return RequestIds(False, _short_id())


def _short_id() -> str:
    """16 characters, like ``JKJaXmPLvHcESHA=``: an HTTP API request id, or a REST API's
    extended request id. Unique, not secret: a pseudo-random source is enough and costs no
    system call. Made 256 at a time (one per request is taken)."""
    ready = _SHORT_IDS
    if not ready:
        raw = random.randbytes(11 * 256)
        ready += [base64.b64encode(raw[i : i + 11]).decode() for i in range(0, len(raw), 11)]
    return ready.pop()


_SHORT_IDS: list[str] = []


# -- error answers --------------------------------------------------------------------------


def _api_error(
    ids: RequestIds, status: int, message: str, *, error_type: str = "", spaced: bool = False
) -> HttpResponse:
    """API Gateway's own answer. A REST API's integration failures (502, 504) have a space after
    the colon, ``{"message": "Internal server error"}``; its other answers and every HTTP API
    answer are compact."""
    headers = [("content-type", "application/json"), *ids.headers()]
    if error_type and ids.rest:
        headers.append(("x-amzn-ErrorType", error_type))
    body = json.dumps({"message": message}, separators=(", ", ": ") if spaced else (",", ":"))
    return response(status, headers, body.encode())


def internal_error(ids: RequestIds) -> HttpResponse:
    """A function error or a malformed result: REST 502, HTTP API 500."""
    if ids.rest:
        return _api_error(
            ids,
            502,
            "Internal server error",
            error_type="InternalServerErrorException",
            spaced=True,
        )
    return _api_error(ids, 500, "Internal Server Error")


def timeout_error(ids: RequestIds) -> HttpResponse:
    """The function timed out: REST 504, HTTP API 503."""
    if ids.rest:
        return _api_error(ids, 504, "Endpoint request timed out", spaced=True)
    return _api_error(ids, 503, "Service Unavailable")


def not_found(ids: RequestIds) -> HttpResponse:
    """No route: a REST API answers 403 Missing Authentication Token, an HTTP API 404."""
    if ids.rest:
        return _api_error(
            ids,
            403,
            "Missing Authentication Token",
            error_type="MissingAuthenticationTokenException",
        )
    return _api_error(ids, 404, "Not Found")


def too_large(ids: RequestIds) -> HttpResponse:
    return _api_error(ids, 413, "Request Too Long" if ids.rest else "Request Entity Too Large")


def throttled(ids: RequestIds) -> HttpResponse:
    return _api_error(ids, 429, "Too Many Requests")


def unavailable(ids: RequestIds) -> HttpResponse:
    return _api_error(ids, 503, "Service Unavailable")
