"""The HTTP envelope: how a request reaches a Cloud Functions or Knative style function, and
how its response comes back, through the invoker's opaque payloads. Pure, stdlib only.

Both directions are one line of compact JSON, a newline, then the raw body bytes, so a binary
body crosses without base64:
- request: ``{"method","path","raw_path","query","headers":[[name,value],…],"remote_addr",
  "scheme","host"}`` (header names lower-case, duplicates kept in order);
- response: ``{"status","headers":[[name,value],…]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class EnvelopeError(ValueError):
    """A payload that is not an HTTP envelope."""


@dataclass(frozen=True, slots=True)
class EnvelopeRequest:
    method: str
    path: str
    raw_path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    remote_addr: str
    scheme: str
    host: str
    body: bytes


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
) -> bytes:
    head = {
        "method": method,
        "path": path,
        "raw_path": raw_path,
        "query": query,
        "headers": [list(h) for h in headers],
        "remote_addr": remote_addr,
        "scheme": scheme,
        "host": host,
    }
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + body


def _split(payload: bytes) -> tuple[dict[str, Any], bytes]:
    head, newline, body = payload.partition(b"\n")
    if not newline:
        raise EnvelopeError("no header line")
    try:
        meta = json.loads(head)
    except ValueError as error:
        raise EnvelopeError(f"the header line is not JSON: {error}") from None
    if not isinstance(meta, dict):
        raise EnvelopeError("the header line is not an object")
    return meta, body


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(p, str) for p in h) for h in value
    ):
        raise EnvelopeError("headers must be a list of [name, value] strings")
    return tuple((h[0], h[1]) for h in value)


def decode_request(payload: bytes) -> EnvelopeRequest:
    meta, body = _split(payload)
    try:
        return EnvelopeRequest(
            method=str(meta["method"]),
            path=str(meta["path"]),
            raw_path=str(meta.get("raw_path", meta["path"])),
            query=str(meta.get("query", "")),
            headers=_headers(meta.get("headers", [])),
            remote_addr=str(meta.get("remote_addr", "")),
            scheme=str(meta.get("scheme", "http")),
            host=str(meta.get("host", "localhost")),
            body=body,
        )
    except KeyError as error:
        raise EnvelopeError(f"the request has no {error.args[0]!r}") from None


def encode_response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    head = {"status": status, "headers": [list(h) for h in headers]}
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + body


def decode_response(payload: bytes) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    meta, body = _split(payload)
    status = meta.get("status")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise EnvelopeError(f"status {status!r} is not an HTTP status")
    return status, _headers(meta.get("headers", [])), body
