"""Minimal ASGI plumbing for the hot path: types, reading a bounded body, sending a response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


#: How much of an oversized body is read and discarded before answering, so that clients which
#: send the whole body before reading (most HTTP libraries) get the error response cleanly.
DRAIN_LIMIT = 64 * 1024 * 1024


def has_body(scope: Scope) -> bool:
    """Whether the request has a body to read: in HTTP/1.1 one without Content-Length or
    Transfer-Encoding has none (HTTP/2 may send one without either)."""
    if scope.get("http_version") not in ("1.1", "1.0"):
        return True
    for name, _ in scope["headers"]:
        if name == b"content-length" or name == b"transfer-encoding":
            return True
    return False


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body; raises BodyTooLarge when it passes ``limit`` bytes (after
    discarding the rest of it, up to DRAIN_LIMIT). Never holds more than ``limit`` bytes. A
    request without a body is not waited for (``receive`` is not called)."""
    if not has_body(scope):
        return b""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge(len(body))
        return body  # the whole body in one message: most requests
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        else:
            chunks.clear()
            if size > DRAIN_LIMIT:
                raise BodyTooLarge(size)
        if not message.get("more_body", False):
            break
        message = await receive()
    if size > limit:
        raise BodyTooLarge(size)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    """A request header by lower-case name (first occurrence), decoded as latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    if status in (204, 304):  # no body, and so no Content-Length, as HTTP requires
        raw, body = [], b""
    else:
        raw = [(b"content-length", str(len(body)).encode())]
    if headers:
        raw.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
