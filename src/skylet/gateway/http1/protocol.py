"""skylet's HTTP/1.1 server protocol: one :class:`Http1Protocol` per connection, parsing with
httptools (llhttp) and serving each request one of two ways.

- A function route (``Service.direct`` finds one) is served without an ASGI cycle: once its
  body is complete the invocation starts (``FunctionRoutes.start``), and when its outcome
  arrives the status line, the Date, the instance's header block as it came and the body go
  out in one write. A body past ``Limits.read_high_water`` goes the ASGI way instead, whose
  reading bounds and drains it.
- Everything else runs the ASGI 3 application (skylet.gateway.http1.cycle).

Per connection: pipelined requests are queued and answered in order (reading pauses while one
waits); HTTP/1.0, ``Connection: close`` and an upgrade request close after their answer; one
idle timer closes a connection idle for ``Limits.keep_alive_s``. Flow control: while the
transport's write buffer is over its high-water mark, ASGI sends wait, no further request is
read and no queued one starts, so a client that does not read its responses holds at most one
in the platform; a request body over ``Limits.read_high_water`` that the application has not
read pauses reading. A malformed request is answered 400, a URL over ``Limits.max_url_bytes``
414, a head over ``Limits.max_head_bytes`` 431 (after the answers to the requests before it),
and the connection closes; so does an application failure, answered 500 if nothing was sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, cast
from urllib.parse import unquote

import httptools

from skylet.asgi import Scope
from skylet.gateway.http1 import framing
from skylet.gateway.http1.cycle import AsgiCycle
from skylet.gateway.http1.types import Exchange, Service, Shared
from skylet.gateway.http_routes import MAX_BODY_BYTES, Call, Found
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import RawOutcome

logger = logging.getLogger(__name__)


# Why reading is paused (bits of Http1Protocol._paused).
_QUEUED = 1  # a pipelined request waits for the one before it
_BODY = 2  # an application has not read what arrived of its body
_WRITING = 4  # the write buffer is over its high-water mark
_STOPPED = 8  # the connection ends with the answers it owes


class _Refused(Exception):
    """A request head past a limit: answered with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}


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
        self._active: Exchange | None = None
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
        #: When the connection last went idle (loop time), or None while a request is served.
        self._idle_since: float | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        # The head being parsed.
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0  # of the URL and the headers parsed so far
        self._head_open = False
        self._head_chunks = 0  # bytes of the reads that fell wholly inside the head
        self._expect_100 = False

    # -- the connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses).
        self.transport = transport = cast(asyncio.Transport, transport)
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        self.shared.connections.add(self)
        self._go_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.shared.connections.discard(self)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        active, self._active = self._active, None
        if active is not None and active.cycle is not None:
            active.cycle.lost()
        self._queue.clear()
        self._parsing = None
        self._parser_done = True
        self._stalled = False
        self._release_drains()

    def close(self) -> None:
        self.transport.close()

    def shutdown(self) -> None:
        """Stop serving: an idle connection closes now, a busy one after its answer."""
        self._closing = True
        self._queue.clear()
        if self._active is None:
            self.transport.close()
        else:
            self._active.keep_alive = False

    def abort(self) -> None:
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._parser_done:
            return
        head_was_open = self._head_open
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._parser_done = True  # the upgrade request is answered as HTTP, then closed
        except httptools.HttpParserError as exc:
            self._parse_failed(exc)
            return
        if head_was_open and self._head_open:
            # A head over several reads (a header line httptools buffers until it ends).
            self._head_chunks += len(data)
            if self._head_chunks > self.limits.max_head_bytes:
                self._refuse_parsing(431)

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

    # Keep-alive: one timer per connection stays armed; when it fires it closes the connection
    # only if it has been idle that long, else it is armed again for when it would have been.

    def _go_idle(self) -> None:
        if self._closing:
            self.transport.close()
            return
        self._idle_since = self.loop.time()
        if self._idle_timer is None:
            self._idle_timer = self.loop.call_later(self.limits.keep_alive_s, self._idle_due)

    def _idle_due(self) -> None:
        self._idle_timer = None
        idle_since = self._idle_since
        if idle_since is None or self.transport.is_closing():
            return  # busy: going idle arms it again
        due = idle_since + self.limits.keep_alive_s
        if self.loop.time() >= due:
            self.transport.close()
        else:
            self._idle_timer = self.loop.call_at(due, self._idle_due)

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._idle_since = None
        self._url = b""
        self._headers = []
        self._head_bytes = 0
        self._head_chunks = 0
        self._head_open = True
        self._expect_100 = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_bytes += len(url)
        if len(self._url) > self.limits.max_url_bytes:
            raise _Refused(414)

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace; HTTP excludes it
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self.limits.max_head_bytes:
            raise _Refused(431)
        if name == b"expect" and value.lower() == b"100-continue":
            self._expect_100 = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_open = False
        parser = self.parser
        url = httptools.parse_url(self._url)
        raw_path: bytes = url.path or b"/"
        try:
            path = raw_path.decode("ascii")
        except UnicodeDecodeError:
            raise _Refused(400) from None
        if "%" in path:
            path = unquote(path)
        version: str = parser.get_http_version()
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": parser.get_method().decode("ascii"),
            "root_path": "",
            "path": path,
            "raw_path": raw_path,
            "query_string": url.query or b"",
            "headers": self._headers,
        }
        keep_alive = version != "1.0" and parser.should_keep_alive() and not parser.should_upgrade()
        ex = self._parsing = Exchange(scope, keep_alive, self._expect_100)
        if self._active is None and not self._queue and not self._stalled:
            self._active = ex
            self._begin(ex)
        else:
            self._queue.append(ex)
            self._pause(_QUEUED)

    def on_body(self, body: bytes) -> None:
        ex = self._parsing
        if ex is None or ex.done:
            return  # answered before its body was read: the rest is dropped
        ex.chunks.append(body)
        ex.size += len(body)
        if ex is not self._active:
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
        if self.write_paused:
            self._pause(_WRITING)
        if ex is None:
            return
        ex.complete = True
        if ex is not self._active:
            return
        if ex.cycle is not None:
            ex.cycle.wake()
        elif ex.found is not None:
            found, ex.found = ex.found, None
            self._invoke(ex, found)

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
            self._invoke(ex, found)
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
            if ex is self._active and not ex.complete and not self.transport.is_closing():
                self.transport.write(framing.CONTINUE)

    def body_taken(self) -> None:
        self._resume(_BODY)

    def _invoke(self, ex: Exchange, found: Found) -> None:
        routes = self.service.routes
        body = ex.take_body()
        if len(body) > MAX_BODY_BYTES:  # a queued request's, read while it waited
            self.loop.call_soon(self._write, ex, routes.too_large(ex.scope, found))
            return
        timer: asyncio.TimerHandle | None = None

        def settled(outcome: RawOutcome) -> None:
            # Never called during routes.start: ``call`` and ``timer`` are set by then.
            self._settled(ex, call, timer, outcome)

        try:
            call = routes.start(ex.scope, found, body, settled)
        except Exception:
            logger.exception("serving %s %s", ex.scope["method"], ex.scope["path"])
            self.refuse(ex, 500)
            return
        if call.reply is not None:
            # Not written here: inside the parser's callback, a run of pipelined requests
            # answered at once would nest one call per request.
            self.loop.call_soon(self._write, ex, call.reply)
        elif call.limit_s is not None:
            timer = self.loop.call_later(call.limit_s, self._timed_out, ex, call)

    def _settled(
        self, ex: Exchange, call: Call, timer: asyncio.TimerHandle | None, outcome: RawOutcome
    ) -> None:
        """The invocation's outcome, as soon as it is read from the instance: the response
        goes out now."""
        routes = self.service.routes
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
            self.refuse(ex, 500)
            return
        self._write(ex, reply)

    def _timed_out(self, ex: Exchange, call: Call) -> None:
        call.reply = self.service.routes.timed_out(call)
        self._write(ex, call.reply)

    def _write(self, ex: Exchange, reply: HttpResponse) -> None:
        """Send ``reply`` as the response to ``ex``, in one write."""
        if ex is not self._active:
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
            self._active = None
            self.transport.close()
            return
        closes = "onnection" in block and framing.closes(block)  # the function's own (rare)
        if closes:
            ex.keep_alive = False
        if ex.scope["method"] == "HEAD":
            body = b""
        end = b"\r\n" if ex.keep_alive or closes else b"connection: close\r\n\r\n"
        self.transport.write(b"".join((status_line, self.date.line(), head, end, body)))
        self.finished(ex)

    def finished(self, ex: Exchange) -> None:
        """The response to ``ex`` is written whole: close, or go on to the next request."""
        ex.done = True
        self._active = None
        if not ex.keep_alive:
            self.transport.close()
            return
        self._resume(_BODY)
        self._next()

    def _next(self) -> None:
        if self.transport.is_closing():
            return
        if self._queue:
            if self.write_paused:
                self._stalled = True  # resume_writing starts it
                return
            ex = self._active = self._queue.popleft()
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
        if ex is not self._active:
            return
        ex.done = True
        self._active = None
        if not self.transport.is_closing():
            self.transport.write(self._refusal_bytes(status))
            self.transport.close()

    def _refusal_bytes(self, status: int) -> bytes:
        reason = _REASONS.get(status, "Internal Server Error")
        return framing.plain(status, reason, self.date.line())

    # -- malformed requests --------------------------------------------------------------------

    def _parse_failed(self, exc: httptools.HttpParserError) -> None:
        cause = exc.__context__ if isinstance(exc, httptools.HttpParserCallbackError) else None
        if isinstance(cause, _Refused):
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
        if ex is not None and ex is not self._active and ex in self._queue:
            self._queue.remove(ex)  # its body broke off
        elif ex is not None and ex is self._active:
            if ex.cycle is not None and ex.cycle.written:
                self.transport.close()
                return
            if ex.cycle is not None:
                ex.cycle.lost()
            self.refuse(ex, status)
            return
        self._refusal = status
        if self._active is None and not self._stalled:
            self._next()


def _address(info: Any) -> tuple[str, int] | None:
    """A socket address as ASGI gives it: (host, port), for IPv4 and IPv6 alike."""
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None
