"""One request served by the ASGI application: ``receive`` and ``send`` of ASGI 3's http cycle
on an HTTP/1.1 connection (skylet.gateway.http1.protocol).

``receive`` gives the body as it arrives (``http.request`` with ``more_body``), then
``http.disconnect`` once the client has gone or the response is complete; its first call sends
``100 Continue`` to a client that waits for one. ``send`` takes ``http.response.start`` and
``http.response.body``: the body is framed by the application's Content-Length, or chunked when
it gives none (an HTTP/1.0 client's ends with the connection), HEAD gets no body, and each send
first waits while the transport's buffer is over its high-water mark. The head is written with
the first body message, so a short response goes out in one write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from skylet.asgi import Message
from skylet.gateway.http1 import framing

if TYPE_CHECKING:
    from skylet.gateway.http1.protocol import Http1Protocol
    from skylet.gateway.http1.types import Exchange

logger = logging.getLogger(__name__)

_DISCONNECT: Message = {"type": "http.disconnect"}
_LAST_CHUNK = b"0\r\n\r\n"
# Where a cycle is: the response not started, started (its head checked, maybe not written),
# or complete.
_START, _BODY, _DONE = 0, 1, 2


class AsgiCycle:
    """The ASGI side of one :class:`~skylet.gateway.http1.types.Exchange`."""

    __slots__ = (
        "_chunked",
        "_closes",
        "_conn",
        "_ex",
        "_head",
        "_remaining",
        "_state",
        "_taken_last",
        "_waiter",
        "disconnected",
        "written",
    )

    def __init__(self, conn: Http1Protocol, exchange: Exchange) -> None:
        self._conn = conn
        self._ex = exchange
        self._state = _START
        self._head = b""
        #: Bytes the body may still have (Content-Length), or None when it is not counted.
        self._remaining: int | None = None
        self._chunked = False
        self._closes = False
        self._taken_last = False
        self._waiter: asyncio.Future[None] | None = None
        #: The client has gone: receive answers http.disconnect, send writes nothing.
        self.disconnected = False
        #: Some of the response is on the wire: a failure can no longer be answered with a 500.
        self.written = False

    async def run(self, serving: Awaitable[None]) -> None:
        """Await the application's serving coroutine, and answer for it if it fails: a 500 when
        nothing was written yet, else the connection is closed; a ConnectionError (the client
        has gone, or does not read) closes it, quietly."""
        ex = self._ex
        try:
            await serving
        except asyncio.CancelledError:
            self._conn.close()
            raise
        except ConnectionError:
            # The application gave up on its client (gone, or not reading): no answer to give.
            self._state = _DONE
            self._conn.close()
        except Exception:
            logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
            self._failed()
        else:
            if self._state == _DONE or self.disconnected:
                return
            if self._state == _START:
                logger.error("%s %s: the application sent no response", *_line(ex))
            else:
                logger.error("%s %s: the application left its response unfinished", *_line(ex))
            self._failed()

    def _failed(self) -> None:
        self._state = _DONE
        if self.written or self.disconnected:
            self._conn.close()
        else:
            self._conn.refuse(self._ex, 500)

    def wake(self) -> None:
        """Body has arrived, or the client has gone: a waiting ``receive`` returns."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def lost(self) -> None:
        self.disconnected = True
        self.wake()

    async def receive(self) -> Message:
        ex = self._ex
        conn = self._conn
        if ex.expect_100:
            conn.invite_body(ex)
        while True:
            if self.disconnected or self._state == _DONE:
                return _DISCONNECT
            if ex.size or (ex.complete and not self._taken_last):
                body = ex.take_body()
                more = not ex.complete
                self._taken_last = not more
                conn.body_taken()
                return {"type": "http.request", "body": body, "more_body": more}
            conn.body_taken()
            waiter = self._waiter = conn.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    async def send(self, message: Message) -> None:
        conn = self._conn
        if conn.write_paused and not self.disconnected:
            await conn.drain()
        if self.disconnected:
            return
        kind = message["type"]
        state = self._state
        if state == _BODY and kind == "http.response.body":
            self._body(message.get("body", b""), message.get("more_body", False))
        elif state == _START and kind == "http.response.start":
            self._start(message)
        elif state == _DONE:
            raise RuntimeError(f"ASGI message {kind!r} sent after the response was complete")
        else:
            expected = "http.response.start" if state == _START else "http.response.body"
            raise RuntimeError(f"expected ASGI message {expected!r}, got {kind!r}")

    def _start(self, message: Message) -> None:
        ex = self._ex
        head = framing.response_head(
            message["status"], message.get("headers", ()), ex.scope["method"]
        )
        self._state = _BODY
        self._conn.answer_started(ex)  # before the body has all arrived, maybe
        self._head = head.lines
        self._remaining = head.length
        self._closes = head.closes
        self._chunked = head.chunked

    def _body(self, body: bytes, more: bool) -> None:
        ex = self._ex
        conn = self._conn
        parts: list[bytes] = []
        if self._head:
            parts += (self._head, conn.date.line())
            self._head = b""
            if self._closes:
                ex.keep_alive = False
            elif not ex.keep_alive:
                parts.append(b"connection: close\r\n")
            if self._remaining is None and not self._chunked:
                if ex.scope["http_version"] == "1.0":
                    ex.keep_alive = False  # the body ends with the connection
                else:
                    self._chunked = True
                    parts.append(b"transfer-encoding: chunked\r\n")
            parts.append(b"\r\n")
        if ex.scope["method"] == "HEAD":
            pass
        elif self._chunked:
            if body:
                parts += (b"%x\r\n" % len(body), body, b"\r\n")
            if not more:
                parts.append(_LAST_CHUNK)
        elif body:
            remaining = self._remaining
            if remaining is not None:
                if len(body) > remaining:
                    raise RuntimeError("response body longer than its Content-Length")
                self._remaining = remaining - len(body)
            parts.append(body)
        if parts:
            conn.write(parts[0] if len(parts) == 1 else b"".join(parts))
            self.written = True
        if not more:
            if self._remaining and ex.scope["method"] != "HEAD":
                raise RuntimeError("response body shorter than its Content-Length")
            self._state = _DONE
            conn.finished(ex)


def _line(ex: Exchange) -> tuple[str, str]:
    return ex.scope["method"], ex.scope["path"]
