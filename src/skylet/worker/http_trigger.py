"""A request that reached a function from an HTTP route, inside the instance: what the function
receives, and how its answer becomes the HTTP response.

The platform sends the request and its trigger (``skylet.gateway.apigw.wire``) rather than a
finished event. Building API Gateway's event and mapping the function's result back happen here,
in the instance, because every request waits on the platform's one process while the instances'
cores have room (docs/http.md, "Where the work happens"). Pure, apart from what it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skylet.gateway import apigw
from skylet.gateway.apigw import MalformedResponse, Wire
from skylet.worker.http_envelope import EnvelopeRequest

#: (status, headers, body): the HTTP response a function's answer became.
Answer = tuple[int, list[tuple[str, str]], bytes]


def lambda_event(wire: Wire) -> dict[str, Any]:
    """API Gateway's event for a Lambda-style function: payload format 1.0 behind a REST API
    route, 2.0 behind an HTTP API route."""
    if wire.trigger.kind == "rest":
        return apigw.v1_event(wire.request, wire.trigger)
    return apigw.v2_event(wire.request, wire.trigger)


def lambda_answer(wire: Wire, result: Any, to_json: Callable[[Any], str]) -> Answer:
    """The response API Gateway makes of a handler's ``result``, which Lambda serialises with
    ``to_json`` (its TypeError or ValueError propagates: the result is not serialisable).
    Raises MalformedResponse where API Gateway answers 502 (REST) or 500 (HTTP API)."""
    parsed = apigw.as_parsed(result, to_json)
    try:
        if wire.trigger.kind == "rest":
            response = apigw.v1_result(parsed)
        else:
            response = apigw.v2_result(parsed, lambda: to_json(result).encode())
    except UnicodeEncodeError as error:  # a body with a lone surrogate
        raise MalformedResponse(f"the body is not text: {error}") from None
    return response.status, framed(response.headers), response.body


def framed(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Response headers as the platform sends them: Content-Length is the platform's (it frames
    the body), and every name and value must be Latin-1, as HTTP/1.1 carries them."""
    kept = []
    for name, value in headers:
        try:
            name.encode("latin-1")
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise MalformedResponse(f"header {name!r} is not Latin-1") from None
        if name.lower() != "content-length":
            kept.append((name, value))
    return kept


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
