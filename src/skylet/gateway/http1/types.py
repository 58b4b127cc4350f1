"""What the HTTP/1.1 server is made of, apart from its connections: the limits a connection
works within, what it serves (the gateway, through two narrow protocols), what a listener's
connections share, and one request's state on its connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from skylet.asgi import Receive, Scope, Send
from skylet.gateway.http1.framing import HttpDate
from skylet.gateway.http_routes import Call, Found
from skylet.invoker.invoker import Pending
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import Deliver, RawOutcome

if TYPE_CHECKING:
    from skylet.gateway.app import Gateway
    from skylet.gateway.http1.cycle import AsgiCycle
    from skylet.gateway.http1.protocol import Http1Protocol


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may take and hold (the answer past each: skylet.gateway.http1.protocol's
    doc). Sizes in bytes."""

    keep_alive_s: float = 5.0
    max_url_bytes: int = 16 * 1024
    #: The request line and headers together.
    max_head_bytes: int = 64 * 1024
    #: Body bytes held for a request its application has not read yet; reading pauses past it.
    read_high_water: int = 64 * 1024


class DirectRoutes(Protocol):
    """The part of skylet.gateway.http_routes.FunctionRoutes that the direct path drives."""

    def start(self, scope: Scope, found: Found, body: bytes, then: Deliver) -> Call: ...
    def settle(self, call: Call, outcome: RawOutcome) -> HttpResponse: ...
    def timed_out(self, call: Call) -> HttpResponse: ...
    def too_large(self, scope: Scope, found: Found) -> HttpResponse: ...
    def finish_late(self, pending: Pending, outcome: RawOutcome) -> None: ...


class Service(Protocol):
    """What a connection serves: skylet.gateway.app.Gateway."""

    @property
    def routes(self) -> DirectRoutes: ...
    def direct(self, scope: Scope) -> Found | None: ...
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]: ...


if TYPE_CHECKING:

    def _conforms(gateway: Gateway) -> Service:
        return gateway


@dataclass(eq=False)
class Shared:
    """What every connection of one listener shares: its limits, the Date line, and the open
    connections and running ASGI tasks, which a graceful shutdown waits for."""

    limits: Limits = field(default_factory=Limits)
    date: HttpDate = field(default_factory=HttpDate)
    connections: set[Http1Protocol] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Exchange:
    """One request on a connection, from its head to its response."""

    __slots__ = (
        "chunks",
        "complete",
        "cycle",
        "done",
        "expect_100",
        "found",
        "keep_alive",
        "scope",
        "size",
    )

    def __init__(self, scope: Scope, keep_alive: bool, expect_100: bool) -> None:
        self.scope = scope
        self.keep_alive = keep_alive
        #: The client waits for ``100 Continue`` before it sends the body.
        self.expect_100 = expect_100
        #: Body received and not yet taken.
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False  # the whole body has arrived
        #: A function route waiting for the rest of its body, for the direct path.
        self.found: Found | None = None
        self.cycle: AsgiCycle | None = None
        self.done = False  # answered (or given up): the rest of its body is dropped

    def take_body(self) -> bytes:
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.chunks = []
        self.size = 0
        return body
