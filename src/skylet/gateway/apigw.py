"""API Gateway's own answers, the one place the error tree meets API Gateway's wire format
(throttling, a missing route, a function that failed or timed out), and the request ids it gives
each request. The event a function receives, and how its result is mapped, are built in
the instance (skylet.worker.apigw). Pure, apart from drawing random ids.
"""

from __future__ import annotations

import base64
import json
import random
from typing import NamedTuple

from skylet.errors import (
    ApiError,
    IntegrationTimeout,
    RequestTooLarge,
    RouteNotFound,
    ServiceUnavailable,
    TooManyRequests,
)
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


def _api_error(ids: RequestIds, form: _Form) -> HttpResponse:
    """API Gateway's own answer. A REST API's integration failures (502, 504) have a space after
    the colon, ``{"message": "Internal server error"}``; its other answers and every HTTP API
    answer are compact."""
    headers = [("content-type", "application/json"), *ids.headers()]
    if form.error_type and ids.rest:
        headers.append(("x-amzn-ErrorType", form.error_type))
    separators = (", ", ": ") if form.spaced else (",", ":")
    body = json.dumps({"message": form.message}, separators=separators)
    return response(form.status, headers, body.encode())


class _Form(NamedTuple):
    """One answer of one API kind: status, message, ``x-amzn-ErrorType`` (REST only), and
    whether the JSON has a space after the colon (a REST API's integration failures)."""

    status: int
    message: str
    error_type: str = ""
    spaced: bool = False


#: API Gateway's answer to each refusal of the error tree: (REST API, HTTP API). The first class
#: a refusal is an instance of answers; any other refusal is an integration failure.
_FORMS: tuple[tuple[type[ApiError], _Form, _Form], ...] = (
    (
        IntegrationTimeout,
        _Form(504, "Endpoint request timed out", spaced=True),
        _Form(503, "Service Unavailable"),
    ),
    (
        RouteNotFound,
        _Form(403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
        _Form(404, "Not Found"),
    ),
    (RequestTooLarge, _Form(413, "Request Too Long"), _Form(413, "Request Entity Too Large")),
    (TooManyRequests, _Form(429, "Too Many Requests"), _Form(429, "Too Many Requests")),
    (ServiceUnavailable, _Form(503, "Service Unavailable"), _Form(503, "Service Unavailable")),
)
_FAILED = (
    _Form(502, "Internal server error", "InternalServerErrorException", spaced=True),
    _Form(500, "Internal Server Error"),
)


def answer(error: ApiError, ids: RequestIds) -> HttpResponse:
    """API Gateway's own answer to a refused request (``IntegrationFailed`` for a function
    error or a result it cannot send, ``IntegrationTimeout``, ``RouteNotFound``, throttling,
    a body too large), in the form of the API kind ``ids`` names."""
    form = _FAILED[0] if ids.rest else _FAILED[1]
    for kind, rest, http_api in _FORMS:
        if isinstance(error, kind):
            form = rest if ids.rest else http_api
            break
    return _api_error(ids, form)
