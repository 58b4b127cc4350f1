"""Function routes served straight from the HTTP protocol, without an ASGI cycle.

For each request uvicorn's httptools protocol starts a task that runs the ASGI app, which sends
its response as two messages, each checked and written on its own. For a function route that
machinery was most of the platform process's work per request (py-spy under bench/http.py:
the task, its coroutines and two socket writes, against the invocation's own dispatch). This
protocol takes those requests where uvicorn would start the task: it lets uvicorn gather the
body as usual, starts the invocation (skylet.gateway.http_routes.FunctionRoutes), and when the
outcome arrives writes the whole response at once. Everything else goes through the ASGI app
as before: the other APIs, CORS preflights, upgrades, and bodies past 64 KiB (uvicorn's read
buffer), whose reading the ASGI path bounds and drains.

It leans on uvicorn's protocol internals (``_start_asgi_task``, a cycle's fields), which is why
pyproject.toml bounds uvicorn's version; :func:`protocol_class` falls back to the plain
httptools protocol when they are missing.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import re
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http import httptools_impl as impl
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

from skylet.asgi import Scope
from skylet.gateway.app import Gateway
from skylet.gateway.http_routes import MAX_BODY_BYTES, Call, Found
from skylet.wire.http import HttpResponse, header_pairs
from skylet.wire.invocation import RawOutcome

logger = logging.getLogger(__name__)

Cycle = impl.RequestResponseCycle
#: A header block as the instance frames one: whole ``token: value`` lines, each ending in CRLF,
#: no other control character than a tab in a value, no Transfer-Encoding (see _sendable).
_LINES = re.compile(
    r"(?:(?!(?i:transfer-encoding):)[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def protocol_class(gateway: Gateway) -> type[asyncio.Protocol] | str:
    """The HTTP protocol for uvicorn's ``Config(http=...)`` serving ``gateway``: the direct
    one, or ``"httptools"`` when this uvicorn lacks what it builds on."""
    needed = (
        "_start_asgi_task",
        "_unset_keepalive_if_required",
        "on_body",
        "on_message_complete",
        "on_response_complete",
    )
    if not all(hasattr(impl.HttpToolsProtocol, name) for name in needed):
        return "httptools"
    return type("GatewayProtocol", (DirectProtocol,), {"gateway": gateway})


class DirectProtocol(impl.HttpToolsProtocol):
    """uvicorn's httptools protocol, serving function routes itself (see the module's doc)."""

    gateway: Gateway

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: A request served directly whose body is still arriving.
        self._waiting: tuple[Cycle, Found] | None = None
        self._defaults_of: object = None
        self._defaults = b""
        #: When the connection last went idle (loop time), or None while a request is served.
        self._idle_since: float | None = None

    def _start_asgi_task(self, cycle: Cycle, app: Any) -> None:
        found = self.gateway.direct(_scope(cycle)) if app is self.app else None
        if found is None:
            super()._start_asgi_task(cycle, app)
        elif not cycle.more_body:
            self._begin(cycle, found)
        else:
            if cycle.waiting_for_100_continue and not self.transport.is_closing():
                self.transport.write(_CONTINUE)  # as uvicorn does when an app first reads
            cycle.waiting_for_100_continue = False
            self._waiting = (cycle, found)

    # Keep-alive: uvicorn arms a timer after every response and cancels it when the next
    # request arrives, two timer operations per request. Here one timer per connection
    # stays armed, and when it fires closes the connection only if it has been idle as long.

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._keep_alive_due
            )

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None or self.transport.is_closing():
            return  # busy: the next response arms it again
        due = idle_since + self.timeout_keep_alive
        if self.loop.time() >= due:
            self.transport.close()
        else:
            self.timeout_keep_alive_task = self.loop.call_at(due, self._keep_alive_due)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        waiting = self._waiting
        if waiting is not None and len(waiting[0].body) > HIGH_WATER_LIMIT:
            # uvicorn has stopped reading until an app asks for more: the ASGI path reads the
            # rest, within MAX_BODY_BYTES.
            self._waiting = None
            super()._start_asgi_task(waiting[0], self.app)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        waiting = self._waiting
        if waiting is not None and not waiting[0].more_body:
            self._waiting = None
            self._begin(*waiting)

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting = None  # a half-sent body: nothing was started for it
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    def _begin(self, cycle: Cycle, found: Found) -> None:
        routes = self.gateway.routes
        body = bytes(cycle.body)
        cycle.body = bytearray()
        if len(body) > MAX_BODY_BYTES:  # a pipelined request's, buffered while it queued
            reply = routes.too_large(_scope(cycle), found)
            self.loop.call_soon(self._write, cycle, reply)
            return
        timer: asyncio.TimerHandle | None = None

        def settled(outcome: RawOutcome) -> None:
            # Never called during routes.start: ``call`` and ``timer`` are set by then.
            self._settled(cycle, call, timer, outcome)

        call = routes.start(_scope(cycle), found, body, settled)
        if call.reply is not None:
            # Not written here: inside the parser's callback, a run of pipelined requests
            # answered at once would nest one call per request.
            self.loop.call_soon(self._write, cycle, call.reply)
            return
        if call.limit_s is not None:
            timer = self.loop.call_later(call.limit_s, self._timed_out, cycle, call)

    def _settled(
        self, cycle: Cycle, call: Call, timer: asyncio.TimerHandle | None, outcome: RawOutcome
    ) -> None:
        """The invocation's outcome, as soon as it is read from the instance: the response
        goes out now."""
        routes = self.gateway.routes
        assert call.pending is not None
        if call.reply is not None:  # API Gateway answered its timeout already
            routes.finish_late(call.pending, outcome)
            return
        if timer is not None:
            timer.cancel()
        try:
            reply = routes.settle(call, outcome)
        except Exception:  # as uvicorn answers for an app that raised
            logger.exception("serving %s %s", cycle.scope["method"], cycle.scope["path"])
            reply = HttpResponse(500, _SERVER_ERROR_BLOCK, b"Internal Server Error")
            cycle.keep_alive = False
        self._write(cycle, reply)

    def _timed_out(self, cycle: Cycle, call: Call) -> None:
        call.reply = self.gateway.routes.timed_out(call)
        self._write(cycle, call.reply)

    def _write(self, cycle: Cycle, reply: HttpResponse) -> None:
        """Send ``reply`` as the cycle's response, in one write, and finish the cycle as
        uvicorn's own ``send`` does."""
        if cycle.disconnected or cycle.response_complete:
            return
        status, block, body = reply
        keep_alive = cycle.keep_alive
        closes = "onnection" in block and _closes(block)  # the function's own header (rare)
        status_line = impl.STATUS_LINE.get(status)
        try:
            if status_line is None or not _sendable(block):
                raise ValueError(f"a response skylet cannot send: {status} {block!r}")
            head = block.encode("latin-1")
        except (UnicodeEncodeError, ValueError):  # only a forged block gets here
            logger.exception("serving %s %s", cycle.scope["method"], cycle.scope["path"])
            self.transport.close()
            return
        if closes:
            keep_alive = False
        if cycle.scope["method"] == "HEAD":
            body = b""
        end = b"\r\n" if keep_alive or closes else b"connection: close\r\n\r\n"
        self.transport.write(b"".join((status_line, self._default_headers(), head, end, body)))
        # uvicorn also sets the cycle's message_event here, for an ASGI task that awaits a
        # disconnect; a request served directly has none.
        cycle.response_started = cycle.response_complete = True
        if not keep_alive:
            self.transport.close()
        cycle.on_response()

    def _default_headers(self) -> bytes:
        """uvicorn's headers for every response (its Date), written out; uvicorn replaces the
        list once a second."""
        defaults = self.server_state.default_headers
        if defaults is not self._defaults_of:
            self._defaults_of = defaults
            self._defaults = b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
        return self._defaults


def _sendable(block: str) -> bool:
    """Whether a header block is whole ``name: value`` lines that cannot end the response's
    head early: a token, a colon, a value without CR, LF or another control character (a tab
    is allowed), CRLF; no empty line, and no Transfer-Encoding beside the Content-Length. A
    well-behaved instance frames nothing else; this keeps a forged block from splitting the
    response or changing how its body is read."""
    return _LINES.fullmatch(block) is not None


def _closes(block: str) -> bool:
    """Whether the block has ``Connection: close``."""
    return any(
        name.lower() == "connection" and "close" in (t.strip() for t in value.lower().split(","))
        for name, value in header_pairs(block)
    )


#: A cycle's scope: uvicorn's TypedDict, the same mapping as the gateway's Scope.
_scope: Callable[[Cycle], Scope] = operator.attrgetter("scope")


_SERVER_ERROR_BLOCK = "content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
