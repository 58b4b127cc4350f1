"""A request that reached a function from an HTTP route, inside the instance: what the function
receives, and how its answer becomes the HTTP response.

The platform sends the request and its trigger (skylet.wire.http) rather than a finished
event. Building API Gateway's event and mapping the function's result back happen here,
in the instance, because every request waits on the platform's one process while the instances'
cores have room (docs/http.md, "Where the work happens"). Pure, apart from what it calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from skylet.wire.http import HttpResponse, RequestIds, header_block
from skylet.worker import apigw
from skylet.worker.apigw import MalformedResponse, Wire
from skylet.worker.http_envelope import Answer, EnvelopeRequest

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def lambda_event(wire: Wire) -> dict[str, Any]:
    """API Gateway's event for a Lambda-style function: payload format 1.0 behind a REST API
    route, 2.0 behind an HTTP API route."""
    if wire.trigger.kind == "rest":
        return apigw.v1_event(wire.request, wire.trigger)
    return apigw.v2_event(wire.request, wire.trigger)


def lambda_answer(wire: Wire, result: Any, to_json: Callable[[Any], str]) -> HttpResponse:
    """The response API Gateway makes of a handler's ``result``, which Lambda serialises with
    ``to_json`` (its TypeError or ValueError propagates: the result is not serialisable), with
    the API's request id headers. Raises MalformedResponse where API Gateway answers 502 (REST)
    or 500 (HTTP API)."""
    trigger = wire.trigger
    parsed = apigw.as_parsed(result, to_json)
    try:
        if trigger.kind == "rest":
            answer = apigw.v1_result(parsed, binary=apigw.returns_binary(wire.request, trigger))
        else:
            answer = apigw.v2_result(parsed, lambda: to_json(result).encode())
    except UnicodeEncodeError as error:  # a body with a lone surrogate
        raise MalformedResponse(f"the body is not text: {error}") from None
    ids = RequestIds(trigger.kind == "rest", trigger.request_id, trigger.extended_id)
    return framed(answer, ids.headers())


def framed(answer: Answer, extra: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    """An answer as the platform sends it: Content-Length first (the platform's framing; one
    the function set could only disagree), the function's headers, then ``extra``. A 204 or 304
    has neither body nor Content-Length, as HTTP requires (a body there would be read as the
    start of the connection's next response). Raises MalformedResponse for what HTTP/1.1 cannot
    carry: a status that is not a final one (1xx, or outside 100 to 599), a header that is not a
    token name, has a control character in its value, or is not Latin-1."""
    status, headers, body = answer
    if not 200 <= status <= 599:
        raise MalformedResponse(f"{status} is not a final HTTP status")
    every = (*headers, *extra)
    for name, value in every:
        if not _TOKEN.fullmatch(name) or _CONTROL.search(value):
            raise MalformedResponse(f"header {name!r}: {value!r} cannot be sent")
    text, body = header_block(status, every, body)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise MalformedResponse("a header is not Latin-1") from None
    return HttpResponse(status, text, body)


def envelope_request(wire: Wire) -> EnvelopeRequest:
    """The request a Cloud Functions or Knative style function sees: the route's prefix taken
    off the path, header names lower-case."""
    request, prefix = wire.request, wire.trigger.strip_prefix
    return EnvelopeRequest(
        method=request.method,
        path=request.path[len(prefix) :] or "/",
        raw_path=request.raw_path[len(prefix) :] or "/",
        query=request.query_string,
        headers=tuple((name.lower(), value) for name, value in request.headers),
        remote_addr=request.source_ip,
        scheme=request.scheme,
        host=request.host,
        body=request.body,
    )
