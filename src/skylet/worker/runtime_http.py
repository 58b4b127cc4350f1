"""The Runtime API relay's HTTP side, without the relay: a connection's requests as httptools
parses them (bounded, so a runtime cannot make the relay hold more than Lambda's response
limit), and the emulator's rules for the error a runtime posts.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from skylet.wire.invocation import MAX_RESPONSE_BYTES

#: A request's line and headers, at most (Go's http server allows 1 MiB; the clients send ~300 B).
MAX_HEAD_BYTES = 64 * 1024
#: The emulator's test of an error type: ``Runtime.X`` or ``Function.X``, anywhere in the value.
_ERROR_TYPE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")


def valid_error_type(value: str) -> str:
    """The error type the emulator keeps for a ``Lambda-Runtime-Function-Error-Type`` header."""
    if _ERROR_TYPE.search(value):
        return value
    return "Function.Unknown" if value.startswith("Function.") else "Runtime.Unknown"


def error_document(body: bytes, error_type: str) -> dict[str, Any]:
    """Lambda's error document for what a runtime posted: its own JSON object when it sent
    one, else one made from the header, as Lambda does when the payload is missing."""
    with contextlib.suppress(ValueError):
        document = json.loads(body) if body.strip() else None
        if isinstance(document, dict):
            return document
    return {"errorMessage": body.decode("utf-8", "replace"), "errorType": error_type}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    oversize: bool = False  # past Lambda's response limit (its body is not kept)


@dataclass(slots=True)
class Connection:
    sock: socket.socket
    parser: Any = None
    url: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    size: int = 0
    done: deque[Request] = field(default_factory=deque)
    keep_alive: bool = True

    head: int = 0  # bytes of the request line and headers so far

    # httptools' callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        self._count(len(name) + len(value))

    def _count(self, size: int) -> None:
        # The relay's memory is not the function's: a runtime cannot make it hold more.
        self.head += size
        if self.head > MAX_HEAD_BYTES:
            raise ValueError("request head too large")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= MAX_RESPONSE_BYTES + 1:  # past it, only the size matters
            self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode("latin-1")
        path = self.url.split(b"?", 1)[0].decode("latin-1")
        oversize = self.size > MAX_RESPONSE_BYTES
        body = b"" if oversize else b"".join(self.body)
        self.done.append(Request(method, path, self.headers, body, oversize))
        self.keep_alive = self.parser.should_keep_alive()
        self.url, self.headers, self.body, self.size, self.head = b"", {}, [], 0, 0
