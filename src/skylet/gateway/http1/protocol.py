"""skylet's HTTP/1.1 server protocol: one :class:`Http1Protocol` per connection, parsing with
httptools (llhttp) and serving each request one of two ways.

- A function route (``Service.direct`` finds one) is served without an ASGI cycle
  (skylet.gateway.http1.direct). A body past ``Limits.read_high_water`` goes the ASGI way
  instead, whose reading bounds and drains it.
- Everything else runs the ASGI 3 application (skylet.gateway.http1.cycle).

Per connection: pipelined requests are queued and answered in order (reading pauses while one
waits); HTTP/1.0, ``Connection: close`` and an upgrade request close after their answer. One
deadline (skylet.gateway.http1.deadline) times an idle connection, a head, a stalled body and a
lingering close (skylet.gateway.http1.limits). Flow control: while the transport's write buffer
is over its high-water mark, ASGI sends wait, no further request is read and no queued one
starts, so a client that does not read its responses holds at most one in the platform; a
request body over ``Limits.read_high_water`` that the application has not read pauses reading.
A malformed request is answered 400, a URL over ``Limits.max_url_bytes`` 414, a head over
``Limits.max_head_bytes`` 431, a head or body too slow 408 (after the answers to the requests
before it), and the connection closes; so does an application failure, answered 500 if nothing
was sent.

An answer that starts before its request's body has all arrived (any API's error, a 404, a
preflight) is one case for every application: ``answer_started`` decides whether the
connection can go on (``keeps_alive_after_early_answer``); if it can, the rest of the body is
read and dropped, else the answer says ``connection: close`` and the connection closes,
lingering while the client may still be sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import cast

import httptools

from skylet.gateway.http1 import direct, framing
from skylet.gateway.http1.cycle import AsgiCycle
from skylet.gateway.http1.deadline import Deadline
from skylet.gateway.http1.limits import keeps_alive_after_early_answer
from skylet.gateway.http1.scope import REASONS, Refused, address, request_scope
from skylet.gateway.http1.types import Exchange, Service, Shared

logger = logging.getLogger(__name__)


# Why reading is paused (bits of Http1Protocol._paused).
_QUEUED = 1  # a pipelined request waits for the one before it
_BODY = 2  # an application has not read what arrived of its body
_WRITING = 4  # the write buffer is over its high-water mark
_STOPPED = 8  # the connection ends with the answers it owes


class Http1Protocol(asyncio.Protocol):
    """One HTTP/1.1 connection (see the module's doc)."""

    def __init__(self, service: Service, shared: Shared) -> None:
        self.service = service
        self.shared = shared
        self.limits = shared.limits
        self.date = shared.date
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        # Data after a request with Connection: close is ignored rather than an error: that
        # request is still answered.
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        #: The request being answered, and those read after it (pipelined).
        self.active: Exchange | None = None
        self._queue: deque[Exchange] = deque()
        #: The request whose body is being read (None between requests).
        self._parsing: Exchange | None = None
        #: An answer the connection ends with, after those of the requests before it.
        self._refusal: int | None = None
        self._parser_done = False
        self._paused = 0
        self.write_paused = False
        self._stalled = False  # the next request waits for the write buffer to drain
        self._drains: list[asyncio.Future[None]] = []
        self._closing = False  # shutting down: close after the answer in progress
        self._lingering = False  # half-closed: what arrives is dropped until the client closes
        self._deadline = Deadline(self.loop, self._expired)
        # The head being parsed.
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0  # of the URL and the headers parsed so far
        self._head_open = False
        self._head_chunks = 0  # bytes of the reads that fell wholly inside the head
        self._expect_100 = False
        self._length: int | None = None

    # -- the connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses).
        self.transport = transport = cast(asyncio.Transport, transport)
        self.server = address(transport.get_extra_info("sockname"))
        self.client = address(transport.get_extra_info("peername"))
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        self.shared.connections.add(self)
        self._go_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.shared.connections.discard(self)
        self.shared.idle.pop(self, None)
        self._deadline.cancel()
        active, self.active = self.active, None
        if active is not None and active.cycle is not None:
            active.cycle.lost()
        self._queue.clear()
        self._parsing = None
        self._parser_done = True
        self._stalled = False
        self._release_drains()

    def close(self) -> None:
        """Close; at once (dropping what is unsent) when the client is not reading."""
        if self.write_paused:
            self.transport.abort()
        else:
            self.transport.close()

    def is_idle(self) -> bool:
        """Between requests, with nothing of the next one read: closing loses nothing."""
        return (
            self.active is None
            and self._parsing is None
            and not self._head_open
            and not self._queue
            and not self._parser_done
            and not self.transport.is_closing()
        )

    def shutdown(self) -> None:
        """Stop serving: an idle connection closes now, a busy one after its answer."""
        self._closing = True
        self._queue.clear()
        if self.active is None:
            self.transport.close()
        else:
            self.active.keep_alive = False

    def abort(self) -> None:
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._parser_done:
            return  # lingering, or refused: dropped
        head_was_open = self._head_open
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._parser_done = True  # the upgrade request is answered as HTTP, then closed
        except httptools.HttpParserError as exc:
            self._parse_failed(exc)
            return
        if self._head_open:
            if not head_was_open:
                # A head begun in this read: from its first byte, one span for all of it.
                self._deadline.after(self.limits.header_timeout_s)
            else:
                # A head over several reads (a header line httptools buffers until it ends).
                self._head_chunks += len(data)
                if self._head_chunks > self.limits.max_head_bytes:
                    self._refuse_parsing(431)
        elif self._parsing is not None and not self._parser_done:
            self._deadline.after(self.limits.body_timeout_s)  # a body on its way

    def eof_received(self) -> bool | None:
        return None  # the transport closes; an answer in progress is dropped

    def pause_writing(self) -> None:
        self.write_paused = True
        if self._parsing is None:
            self._pause(_WRITING)

    def resume_writing(self) -> None:
        self.write_paused = False
        self._resume(_WRITING)
        self._release_drains()
        if self._stalled:
            self._stalled = False
            self._next()

    async def drain(self) -> None:
        """Return once the write buffer is under its low-water mark, or the connection lost."""
        if self.write_paused and not self.transport.is_closing():
            waiter = self.loop.create_future()
            self._drains.append(waiter)
            await waiter

    def _release_drains(self) -> None:
        drains, self._drains = self._drains, []
        for waiter in drains:
            if not waiter.done():
                waiter.set_result(None)

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def _pause(self, reason: int) -> None:
        if not self._paused and not self.transport.is_closing():
            self.transport.pause_reading()
        self._paused |= reason

    def _resume(self, reason: int) -> None:
        if self._paused & reason:
            self._paused &= ~reason
            if not self._paused and not self.transport.is_closing():
                self.transport.resume_reading()
                if self._parsing is not None:  # the client's time runs again from now
                    self._deadline.after(self.limits.body_timeout_s)

    # -- the deadline: idle, head, body, linger (skylet.gateway.http1.limits) ------------------

    def _go_idle(self) -> None:
        if self._closing:
            self.transport.close()
            return
        limits = self.limits
        if self._parsing is not None:  # the rest of a body answered early, being dropped
            self._deadline.after(limits.body_timeout_s)
            return
        self._deadline.after(limits.keep_alive_s)
        idle = self.shared.idle
        idle.pop(self, None)
        idle[self] = None

    def _expired(self) -> None:
        if self.transport.is_closing():
            return
        if self._lingering:
            self.transport.abort()
            return
        if self._parser_done:
            return  # ending with the answers it owes
        limits = self.limits
        ex = self._parsing
        if self._head_open or ex is not None:
            if self._paused or (ex is not None and ex.expect_100):
                # The server is not reading, or owes the client its 100 Continue: not the
                # client's delay. Its time runs again when the server is ready.
                self._deadline.after(limits.body_timeout_s)
            elif ex is not None and ex.done:
                self._end()  # answered; the rest of its body stalled
            else:
                self._refuse_parsing(408)
        elif self.active is None and not self._queue:
            self.transport.close()  # idle for keep_alive_s

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._head_bytes = 0
        self._head_chunks = 0
        self._head_open = True
        self._expect_100 = False
        self._length = None

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_bytes += len(url)
        if len(self._url) > self.limits.max_url_bytes:
            raise Refused(414)

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace; HTTP excludes it
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self.limits.max_head_bytes:
            raise Refused(431)
        if name == b"content-length":
            self._length = int(value)  # llhttp has checked it: digits, once
        elif name == b"expect" and value.lower() == b"100-continue":
            self._expect_100 = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_open = False
        parser = self.parser
        conn = (self.server, self.client, self.scheme)
        scope = request_scope(parser, self._url, self._headers, conn)
        keep_alive = (
            scope["http_version"] != "1.0"
            and parser.should_keep_alive()
            and not parser.should_upgrade()
        )
        ex = self._parsing = Exchange(scope, keep_alive, self._expect_100, self._length)
        if self.active is None and not self._queue and not self._stalled:
            self.active = ex
            self._begin(ex)
        else:
            self._queue.append(ex)
            self._pause(_QUEUED)

    def on_body(self, body: bytes) -> None:
        ex = self._parsing
        if ex is None:
            return
        ex.received += len(body)
        if ex.done:  # answered before its body was read: the rest is dropped, within a bound
            ex.size += len(body)
            if ex.size > self.limits.max_discard_bytes:
                self._end()
            return
        ex.chunks.append(body)
        ex.size += len(body)
        if ex is not self.active:
            return  # queued: reading is paused
        cycle = ex.cycle
        if cycle is None:
            if ex.found is None or ex.size <= self.limits.read_high_water:
                return
            ex.found = None  # a large body: the ASGI path reads it, within its limit
            cycle = self._run_asgi(ex)
            if cycle is None:
                return
        if ex.size > self.limits.read_high_water:
            self._pause(_BODY)
        cycle.wake()

    def on_message_complete(self) -> None:
        ex = self._parsing
        self._parsing = None
        self._deadline.clear()  # busy, or idle again below
        if self.write_paused:
            self._pause(_WRITING)
        if ex is None:
            return
        ex.complete = True
        if ex is not self.active:
            if ex.done and self.active is None and not self._queue:
                self._go_idle()  # the rest of a body answered early has been dropped
            return
        if ex.cycle is not None:
            ex.cycle.wake()
        elif ex.found is not None:
            found, ex.found = ex.found, None
            direct.invoke(self, ex, found)

    # -- serving -------------------------------------------------------------------------------

    def _begin(self, ex: Exchange) -> None:
        """Serve ``ex``, the request now at the front: directly, or through the ASGI app."""
        try:
            found = self.service.direct(ex.scope)
        except Exception:
            logger.exception("routing %s %s", ex.scope["method"], ex.scope["path"])
            self.refuse(ex, 500)
            return
        if found is None:
            self._run_asgi(ex)
        elif ex.complete:
            direct.invoke(self, ex, found)
        elif ex.size > self.limits.read_high_water:
            self._run_asgi(ex)  # a queued request's body, read while it waited
        else:
            ex.found = found
            self.invite_body(ex)

    def _run_asgi(self, ex: Exchange) -> AsgiCycle | None:
        cycle = ex.cycle = AsgiCycle(self, ex)
        try:
            serving = self.service(ex.scope, cycle.receive, cycle.send)
        except Exception:
            logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
            self.refuse(ex, 500)
            return None
        task = self.loop.create_task(cycle.run(serving))
        tasks = self.shared.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return cycle

    def invite_body(self, ex: Exchange) -> None:
        """Send ``100 Continue`` if the client waits for it before sending its body."""
        if ex.expect_100:
            ex.expect_100 = False
            if ex is self.active and not ex.complete and not self.transport.is_closing():
                self.transport.write(framing.CONTINUE)
                self._deadline.after(self.limits.body_timeout_s)

    def body_taken(self) -> None:
        self._resume(_BODY)

    def answer_started(self, ex: Exchange) -> None:
        """The answer to ``ex`` begins (its head not yet written): if its body has not all
        arrived, whether the connection goes on after it (the module's doc)."""
        uninvited, ex.expect_100 = ex.expect_100, False  # no 100 Continue after an answer
        if ex.complete or not ex.keep_alive:
            return
        if not keeps_alive_after_early_answer(uninvited, ex.length, ex.received, self.limits):
            ex.keep_alive = False

    def finished(self, ex: Exchange) -> None:
        """The response to ``ex`` is written whole: close, or go on to the next request."""
        ex.done = True
        self.active = None
        if not ex.complete:  # answered early: what is left of its body is dropped
            ex.chunks = []
            ex.size = 0
        if not ex.keep_alive:
            self._end()
            return
        self._resume(_BODY)
        self._next()

    def _end(self) -> None:
        """Close after what was written. While the client may still be sending a body, half-
        close and drop what it sends for up to ``linger_s``: closing with unread data would
        reset the connection, and the client could lose the answer before reading it."""
        if self._lingering or self.transport.is_closing():
            return
        if self._parsing is None or not self.transport.can_write_eof():
            self.transport.close()
            return
        self._lingering = True
        self._parser_done = True
        self.active = None
        self._queue.clear()
        self.transport.write_eof()
        if self._paused:
            self._paused = 0
            self.transport.resume_reading()
        self._deadline.after(self.limits.linger_s)

    def _next(self) -> None:
        if self.transport.is_closing():
            return
        if self._queue:
            if self.write_paused:
                self._stalled = True  # resume_writing starts it
                return
            ex = self.active = self._queue.popleft()
            if not self._queue:
                self._resume(_QUEUED)
            self._begin(ex)
        elif self._refusal is not None:
            self.transport.write(self._refusal_bytes(self._refusal))
            self.transport.close()
        else:
            self._go_idle()

    def refuse(self, ex: Exchange, status: int) -> None:
        """Answer ``ex`` with the server's own ``status`` and close (nothing was sent for it)."""
        if ex is not self.active:
            return
        ex.done = True
        self.active = None
        if not self.transport.is_closing():
            self.transport.write(self._refusal_bytes(status))
            self.transport.close()

    def _refusal_bytes(self, status: int) -> bytes:
        reason = REASONS.get(status, REASONS[500])
        return framing.plain(status, reason, self.date.line())

    # -- malformed requests --------------------------------------------------------------------

    def _parse_failed(self, exc: httptools.HttpParserError) -> None:
        cause = exc.__context__ if isinstance(exc, httptools.HttpParserCallbackError) else None
        if isinstance(cause, Refused):
            status = cause.status
        elif cause is None or isinstance(cause, httptools.HttpParserError):
            status = 400
        else:
            logger.error("parsing a request", exc_info=cause)
            status = 500
        self._refuse_parsing(status)

    def _refuse_parsing(self, status: int) -> None:
        """Stop reading: the connection ends with ``status``, after the answers to the whole
        requests before the bad one."""
        self._parser_done = True
        self._pause(_STOPPED)
        ex, self._parsing = self._parsing, None
        if ex is not None and ex is not self.active and ex in self._queue:
            self._queue.remove(ex)  # its body broke off
        elif ex is not None and ex is self.active:
            if ex.cycle is not None and ex.cycle.written:
                self.transport.close()
                return
            if ex.cycle is not None:
                ex.cycle.lost()
            self.refuse(ex, status)
            return
        self._refusal = status
        if self.active is None and not self._stalled:
            self._next()
