"""A routed HTTP request as it crosses to the instance, and the response as it comes back.

The gateway sends a request's values as it received them (:class:`Request`) and its trigger (the
route, the API and its request ids: :class:`Trigger`), as one named, versioned JSON object beside
the body (:func:`encode`); the instance builds what the function receives from them
(skylet.worker.http_trigger) and answers with the response framed as HTTP/1.1 writes it
(:class:`HttpResponse`), which the gateway sends as it is. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

#: The version of :func:`encode`'s object; an instance refuses another.
VERSION = 1


class Request(NamedTuple):
    """One request as the gateway received it: an ASGI scope's values, headers decoded as
    Latin-1. (Named tuples here: one of each is made per request, four times faster than a
    frozen dataclass.)"""

    method: str
    raw_path: str  # as sent, percent-encoded (the route's stage prefix already taken off)
    path: str  # percent-decoded
    query: str  # raw, without "?"
    headers: list[tuple[str, str]]  # names as sent, in order, duplicates kept
    client_ip: str | None
    server: tuple[str, int] | None  # the address the client connected to
    received_at: float  # epoch seconds
    http_version: str  # "1.1"
    scheme: str  # "http"


class Trigger(NamedTuple):
    """What, besides the request, an API Gateway event is built from: the route, the API and
    the request's ids. Plain values only: the instance builds the event itself (the platform's
    process is the one every request waits for; the instances' cores have room)."""

    kind: str  # "rest" (payload 1.0), "http_api" (2.0), or "function" (Cloud Functions style)
    route_key: str  # "GET /users/{id}" or "$default"
    resource: str  # the route's path template, "/users/{id}"
    raw_path_parameters: dict[str, str]  # as sent, percent-encoded
    strip_prefix: str  # function routes: the path prefix the function does not see
    account_id: str
    region: str
    api_id: str
    stage: str
    #: REST only: the API's binaryMediaTypes as configured, or None for skylet's defaults.
    binary_media_types: Sequence[str] | None
    request_id: str  # API Gateway's (REST: a UUID; HTTP API: 16 characters)
    extended_id: str = ""  # REST only


_REQUEST = Request._fields
_TRIGGER = Trigger._fields


def encode(request: Request, trigger: Trigger) -> dict[str, Any]:
    """The object that crosses the pipe beside the body (JSON-able)."""
    return {
        "v": VERSION,
        "request": dict(zip(_REQUEST, request, strict=True)),
        "trigger": dict(zip(_TRIGGER, trigger, strict=True)),
    }


def decode(data: Any) -> tuple[Request, Trigger]:
    """The request and trigger :func:`encode` sent; ValueError for anything else (another
    version, a missing or unknown field)."""
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValueError(f"not an HTTP trigger of version {VERSION}")
    try:
        request = Request(**data["request"])
        trigger = Trigger(**data["trigger"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an HTTP trigger: {error}") from None
    return request, trigger


class RequestIds(NamedTuple):
    """The ids API Gateway gives one request, and sends back in the response's headers."""

    rest: bool  # a REST API (payload 1.0) rather than an HTTP API
    request_id: str  # REST: a UUID; HTTP API: 16 characters; "": no API (a function route)
    extended_id: str = ""  # REST only: ``extendedRequestId``, sent back as ``x-amz-apigw-id``

    def headers(self) -> list[tuple[str, str]]:
        """The response headers naming them; none for a function route (no API, no ids)."""
        if not self.request_id:
            return []
        if self.rest:
            return [("x-amzn-RequestId", self.request_id), ("x-amz-apigw-id", self.extended_id)]
        return [("apigw-requestid", self.request_id)]


class HttpResponse(NamedTuple):
    """An HTTP response ready to send: the one shape of a response between the instance, the
    invoker and the HTTP server. ``block`` is its header lines as HTTP/1.1 writes them
    (``name: value\\r\\n`` each), Content-Length first unless the status has no body."""

    status: int
    block: str
    body: bytes


#: Statuses whose responses have no body, and no Content-Length either.
NO_BODY = frozenset({204, 304})
#: The headers that frame a body: the platform's own to set.
_FRAMING = frozenset(("content-length", "transfer-encoding"))


def header_block(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> tuple[str, bytes]:
    """A response's header lines as HTTP/1.1 writes them (``name: value\\r\\n`` each) and the
    body to send: Content-Length first; a function's own Content-Length or Transfer-Encoding
    is dropped (the body is sent whole, with its length: either could only disagree, and a
    client reading both would take the body as chunked); a 204 or 304 has neither body nor
    Content-Length (a body there would be read as the start of the connection's next
    response). Checks nothing: the instance does (skylet.worker.http_trigger)."""
    if status in NO_BODY:
        parts, body = [], b""
    else:
        parts = [f"content-length: {len(body)}\r\n"]
    parts.extend(f"{n}: {v}\r\n" for n, v in headers if n.lower() not in _FRAMING)
    return "".join(parts), body


def response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> HttpResponse:
    """A response framed from its headers (:func:`header_block`)."""
    block, body = header_block(status, headers, body)
    return HttpResponse(status, block, body)


def header_pairs(block: str) -> list[tuple[str, str]]:
    """A header block's (name, value) pairs. A name is a token, so the first ``": "`` of a
    line ends it."""
    pairs = []
    for line in block.split("\r\n")[:-1]:
        name, _, value = line.partition(": ")
        pairs.append((name, value))
    return pairs
