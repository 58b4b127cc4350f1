"""Requests for Cloud Functions style functions, built by a real HTTP client (httpx) and put in
the HTTP envelope as the gateway does."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx

from skylet.invoker.results import InvocationResult
from skylet.worker.http_envelope import decode_response, encode_request

REMOTE = "203.0.113.7"


def envelope(method: str, url: str, *, root_path: str = "", **kwargs: Any) -> bytes:
    """The envelope of the request httpx would send (its headers, its encoded body)."""
    request = httpx.Request(method, url, **kwargs)
    body = request.read()
    raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    return encode_request(
        method=request.method,
        path=unquote(raw_path),
        raw_path=raw_path,
        query=request.url.query.decode("ascii"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        remote_addr=REMOTE,
        scheme=request.url.scheme,
        host=request.headers["host"],
        body=body,
        root_path=root_path,
    )


def answer(result: InvocationResult) -> tuple[int, dict[str, list[str]], bytes]:
    """``(status, headers by lower-case name, body)`` of a successful invocation."""
    assert result.function_error is None, result.payload
    status, pairs, body = decode_response(result.payload)
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), []).append(value)
    return status, headers, body
