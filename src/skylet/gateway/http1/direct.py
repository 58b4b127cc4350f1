"""The direct path: a function route served without an ASGI cycle. Once the request's body is
complete the invocation starts (``FunctionRoutes.start``); when its outcome arrives the status
line, the Date, the instance's header block as it came and the body go out in one write. API
Gateway's integration timeout is a timer of its own, set only for routes that have one."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from skylet.gateway.http1 import framing
from skylet.gateway.http_routes import MAX_BODY_BYTES, Call, Found
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import RawOutcome

if TYPE_CHECKING:
    from skylet.gateway.http1.protocol import Http1Protocol
    from skylet.gateway.http1.types import Exchange

logger = logging.getLogger(__name__)


def invoke(conn: Http1Protocol, ex: Exchange, found: Found) -> None:
    """Start the invocation of ``ex``, whose body is complete."""
    routes = conn.service.routes
    body = ex.take_body()
    loop = conn.loop
    if len(body) > MAX_BODY_BYTES:  # a queued request's, read while it waited
        loop.call_soon(write, conn, ex, routes.too_large(ex.scope, found))
        return
    timer: asyncio.TimerHandle | None = None

    def settled(outcome: RawOutcome) -> None:
        # Never called during routes.start: ``call`` and ``timer`` are set by then.
        _settled(conn, ex, call, timer, outcome)

    try:
        call = routes.start(ex.scope, found, body, settled)
    except Exception:
        logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
        conn.refuse(ex, 500)
        return
    if call.reply is not None:
        # Not written here: inside the parser's callback, a run of pipelined requests
        # answered at once would nest one call per request.
        loop.call_soon(write, conn, ex, call.reply)
    elif call.limit_s is not None:
        timer = loop.call_later(call.limit_s, _timed_out, conn, ex, call)


def _settled(
    conn: Http1Protocol,
    ex: Exchange,
    call: Call,
    timer: asyncio.TimerHandle | None,
    outcome: RawOutcome,
) -> None:
    """The invocation's outcome, as soon as it is read from the instance: the response goes
    out now."""
    routes = conn.service.routes
    assert call.pending is not None
    if call.reply is not None:  # API Gateway answered its timeout already
        routes.finish_late(call.pending, outcome)
        return
    if timer is not None:
        timer.cancel()
    try:
        reply = routes.settle(call, outcome)
    except Exception:
        logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
        conn.refuse(ex, 500)
        return
    write(conn, ex, reply)


def _timed_out(conn: Http1Protocol, ex: Exchange, call: Call) -> None:
    call.reply = conn.service.routes.timed_out(call)
    write(conn, ex, call.reply)


def write(conn: Http1Protocol, ex: Exchange, reply: HttpResponse) -> None:
    """Send ``reply`` as the response to ``ex``, in one write."""
    if ex is not conn.active:
        return  # the client has gone
    ex.done = True
    status, block, body = reply
    status_line = framing.STATUS_LINES.get(status)
    try:
        if status_line is None or not framing.sendable(block):
            raise ValueError(f"a response skylet cannot send: {status} {block!r}")
        head = block.encode("latin-1")
    except (UnicodeEncodeError, ValueError):  # only a forged block gets here
        logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
        conn.active = None
        conn.transport.close()
        return
    closes = "onnection" in block and framing.closes(block)  # the function's own (rare)
    if closes:
        ex.keep_alive = False
    if ex.scope["method"] == "HEAD":
        body = b""
    end = b"\r\n" if ex.keep_alive or closes else b"connection: close\r\n\r\n"
    conn.transport.write(b"".join((status_line, conn.date.line(), head, end, body)))
    conn.finished(ex)
