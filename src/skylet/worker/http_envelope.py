"""The HTTP envelope: how a request reaches a Cloud Functions or Knative style function, and
how its response comes back, through the invoker's opaque payloads. Pure, stdlib only. A
request from an HTTP route crosses as ``apigw.wire`` values instead and the instance makes the
envelope request from those (``worker/http_trigger.envelope_request``); a payload sent through
the Invoke API to such a function is an envelope itself, and so is its answer.

Both directions are one line of compact JSON, a newline, then the raw body bytes, so a binary
body crosses without base64:
- request: ``{"method","path","raw_path","query","headers":[[name,value],…],"remote_addr",
  "scheme","host","root_path"}``; ``path`` is percent-decoded, ``raw_path`` as received,
  ``query`` the raw query string, header names lower-case with duplicates kept in order;
- response: ``{"status","headers":[[name,value],…]}``.

A payload that does not follow this raises :class:`EnvelopeError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from skylet import fastjson

#: (status, headers, body): an HTTP response before it is framed (as an envelope, or by the
#: gateway).
Answer = tuple[int, list[tuple[str, str]], bytes]


class EnvelopeError(ValueError):
    """A payload that is not an HTTP envelope."""


class EnvelopeRequest(NamedTuple):
    method: str
    path: str
    raw_path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    remote_addr: str
    scheme: str
    host: str
    body: bytes
    root_path: str = ""


def encode_request(
    *,
    method: str,
    path: str,
    raw_path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    remote_addr: str,
    scheme: str,
    host: str,
    body: bytes,
    root_path: str = "",
) -> bytes:
    """The request payload; header names are lower-cased here, whatever the caller passed."""
    head = {
        "method": method,
        "path": path,
        "raw_path": raw_path,
        "query": query,
        "headers": [[name.lower(), value] for name, value in headers],
        "remote_addr": remote_addr,
        "scheme": scheme,
        "host": host,
        "root_path": root_path,
    }
    return _join(head, body)


def event_request(payload: bytes) -> EnvelopeRequest | None:
    """A payload that is a structured-mode CloudEvent (a JSON object with ``specversion``), as
    the request that would carry it: how an asynchronous event (a topic's message) reaches a
    ``cloudevent`` function, since an event queued for a function is JSON. None otherwise."""
    try:
        document = fastjson.loads(payload)
    except ValueError:
        return None
    if not isinstance(document, dict) or "specversion" not in document:
        return None
    headers = (("content-type", "application/cloudevents+json"),)
    return EnvelopeRequest("POST", "/", "/", "", headers, "", "http", "localhost", payload)


def decode_request(payload: bytes) -> EnvelopeRequest:
    meta, body = _split(payload)
    path = _text(meta, "path")
    return EnvelopeRequest(
        method=_text(meta, "method"),
        path=path,
        raw_path=_text(meta, "raw_path", path),
        query=_text(meta, "query", ""),
        headers=_headers(meta.get("headers", [])),
        remote_addr=_text(meta, "remote_addr", ""),
        scheme=_text(meta, "scheme", "http"),
        host=_text(meta, "host", "localhost"),
        body=body,
        root_path=_text(meta, "root_path", ""),
    )


def encode_response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The response payload; header names keep the case the function gave them."""
    return _join({"status": status, "headers": list(headers)}, body)


def decode_response(payload: bytes) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """``(status, headers, body)`` of a response payload."""
    meta, body = _split(payload)
    status = meta.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise EnvelopeError(f"status {status!r} is not an HTTP status")
    return status, _headers(meta.get("headers", [])), body


def _join(head: dict[str, Any], body: bytes) -> bytes:
    return fastjson.dumps(head) + b"\n" + body  # the JSON line never holds a raw newline


def _split(payload: bytes) -> tuple[dict[str, Any], bytes]:
    head, newline, body = payload.partition(b"\n")
    if not newline:
        raise EnvelopeError("no header line (JSON, then a newline, then the body)")
    try:
        meta = fastjson.loads(head)
    except ValueError as error:
        raise EnvelopeError(f"the header line is not JSON: {error}") from None
    if not isinstance(meta, dict):
        raise EnvelopeError("the header line is not a JSON object")
    return meta, body


def _text(meta: dict[str, Any], key: str, default: str | None = None) -> str:
    value = meta.get(key, default)
    if value is None:
        raise EnvelopeError(f"the request has no {key!r}")
    if not isinstance(value, str):
        raise EnvelopeError(f"{key!r} must be a string, not {type(value).__name__}")
    return value


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], str)
        for h in value
    ):
        raise EnvelopeError("headers must be a list of [name, value] string pairs")
    return tuple((h[0], h[1]) for h in value)
