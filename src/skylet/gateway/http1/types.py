"""What the HTTP/1.1 server is made of, apart from its connections: what it serves (the gateway,
through two narrow protocols), what a listener's connections share, and one request's state on
its connection. The limits they work within: skylet.gateway.http1.limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from skylet.asgi import Receive, Scope, Send
from skylet.gateway.http1.framing import HttpDate
from skylet.gateway.http1.limits import Limits
from skylet.gateway.http_routes import Call, Found
from skylet.invoker.invoker import Pending
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import Deliver, RawOutcome

if TYPE_CHECKING:
    from skylet.gateway.app import Gateway
    from skylet.gateway.http1.cycle import AsgiCycle
    from skylet.gateway.http1.protocol import Http1Protocol


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
    """What every connection of one listener shares: its limits, the Date line, the open
    connections and running ASGI tasks, which a graceful shutdown waits for, and the idle ones,
    longest idle first, which make room for new connections at the cap."""

    limits: Limits = field(default_factory=Limits)
    date: HttpDate = field(default_factory=HttpDate)
    connections: set[Http1Protocol] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: Connections in the order they last went idle (an entry may be busy again: it is skipped).
    idle: dict[Http1Protocol, None] = field(default_factory=dict)

    def close_idle(self) -> bool:
        """Close the connection idle longest, to make room; False when none is idle."""
        idle = self.idle
        while idle:
            conn = next(iter(idle))
            del idle[conn]
            if conn.is_idle():
                conn.close()
                return True
        return False


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
        "length",
        "received",
        "scope",
        "size",
    )

    def __init__(
        self, scope: Scope, keep_alive: bool, expect_100: bool, length: int | None
    ) -> None:
        self.scope = scope
        self.keep_alive = keep_alive
        #: The client waits for ``100 Continue`` before it sends the body.
        self.expect_100 = expect_100
        #: The body's Content-Length; None when it is chunked (or absent).
        self.length = length
        self.received = 0  # body bytes that arrived
        #: Body received and not yet taken.
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False  # the whole body has arrived
        #: A function route waiting for the rest of its body, for the direct path.
        self.found: Found | None = None
        self.cycle: AsgiCycle | None = None
        #: Answered (or given up): the rest of its body is dropped, ``size`` counting it.
        self.done = False

    def take_body(self) -> bytes:
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.chunks = []
        self.size = 0
        return body
