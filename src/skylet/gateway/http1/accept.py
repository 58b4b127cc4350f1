"""Accepting connections, within a cap: skylet accepts on its listening sockets itself, so that
running out of descriptors and reaching the cap are its own decisions, not the loop's.

- Below the cap, a connection is served (Http1Protocol).
- At the cap, the connection idle longest is closed to make room (an idle keep-alive
  connection loses nothing); when none is idle, the new one gets a short ``503`` with
  ``Retry-After: 1`` and ``Connection: close`` (:class:`Refusal`).
- When accept() fails for want of descriptors (EMFILE, ENFILE) or memory, a few idle connections
  are closed if there are some, and accepting pauses for ``RETRY_S`` (clients wait in the kernel's
  backlog), with one warning per ``WARN_EVERY_S``: never a busy loop, never a log per attempt.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import cast

from skylet.gateway.http1.framing import plain
from skylet.gateway.http1.types import Shared

logger = logging.getLogger(__name__)

#: accept() calls per readiness event, so that one busy socket does not hold the loop.
BATCH = 64
#: How long accepting pauses after accept() failed for want of resources.
RETRY_S = 0.1
WARN_EVERY_S = 10.0
#: Idle connections closed when accept() finds no descriptor: room for the next few.
FREE_AT_ONCE = 8
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: Errors of one connection that went away before it was accepted.
_GONE = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})


class Acceptor:
    """Accepts on ``sockets`` (listening, non-blocking) between :meth:`start` and :meth:`stop`;
    ``serve`` makes the protocol of a connection below the cap."""

    def __init__(
        self,
        sockets: list[socket.socket],
        serve: Callable[[], asyncio.Protocol],
        shared: Shared,
    ) -> None:
        self.sockets = sockets
        self.serve = serve
        self.shared = shared
        self.cap = shared.limits.connection_cap()
        self.loop = asyncio.get_running_loop()
        #: Connections being wrapped in a transport (a task each, until connection_made).
        self.connecting: set[asyncio.Task[object]] = set()
        self.refusals: set[Refusal] = set()
        self._retry: asyncio.TimerHandle | None = None
        self._warned_at = -WARN_EVERY_S
        self._reading = False

    def start(self) -> None:
        self._reading = True
        for sock in self.sockets:
            self.loop.add_reader(sock.fileno(), self._ready, sock)

    def stop(self) -> None:
        """Stop accepting and close the listening sockets."""
        self._pause()
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        for sock in self.sockets:
            sock.close()

    def _pause(self) -> None:
        if self._reading:
            self._reading = False
            for sock in self.sockets:
                self.loop.remove_reader(sock.fileno())

    def _resume(self) -> None:
        self._retry = None
        self.start()

    def _ready(self, sock: socket.socket) -> None:
        for _ in range(BATCH):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _GONE:
                    continue
                self._failed(exc)
                return
            self._admit(conn)

    def _failed(self, exc: OSError) -> None:
        """accept() failed: free a descriptor if an idle connection holds one, and pause."""
        freed = sum(self.shared.close_idle() for _ in range(FREE_AT_ONCE))
        now = self.loop.time()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "cannot accept connections: %s (%d open, the cap is %d)%s; new connections "
                "wait. Raise the limit on open files (ulimit -n) or lower the load",
                exc.strerror or exc,
                len(self.shared.connections),
                self.cap,
                f", closed {freed} idle" if freed else "",
            )
        if exc.errno not in _OUT_OF_RESOURCES:
            logger.error("accept() failed", exc_info=exc)
        self._pause()
        self._retry = self.loop.call_later(RETRY_S, self._resume)

    def _admit(self, conn: socket.socket) -> None:
        shared = self.shared
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        factory: Callable[[], asyncio.Protocol] = self.serve
        if len(shared.connections) >= self.cap and not shared.close_idle():
            factory = self._refusal
        task: asyncio.Task[object] = self.loop.create_task(
            self.loop.connect_accepted_socket(factory, conn)
        )
        self.connecting.add(task)
        task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[object]) -> None:
        self.connecting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("a connection failed as it was accepted", exc_info=task.exception())

    def _refusal(self) -> Refusal:
        return Refusal(self.shared, self.refusals)


class Refusal(asyncio.Protocol):
    """A connection past the cap: ``503`` at once, then closed. It is half-closed first and
    what the client sends is dropped, for up to ``linger_s``, so that the client reads the
    answer rather than a reset."""

    def __init__(self, shared: Shared, refusals: set[Refusal]) -> None:
        self.shared = shared
        self.refusals = refusals
        self.transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = t = cast(asyncio.Transport, transport)
        self.refusals.add(self)
        t.write(plain(503, "Service Unavailable", self.shared.date.line(), retry_after_s=1))
        if t.can_write_eof():
            t.write_eof()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.shared.limits.linger_s, self.abort)

    def data_received(self, data: bytes) -> None:
        pass  # dropped

    def eof_received(self) -> bool | None:
        return None  # the client has read and closed: so does the transport

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.refusals.discard(self)
        if self._timer is not None:
            self._timer.cancel()
