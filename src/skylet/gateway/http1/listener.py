"""Listening for HTTP/1.1 connections (the sockets, bound here; accepting, within the cap:
skylet.gateway.http1.accept), and the graceful shutdown: stop accepting, close idle
connections, let requests in flight finish within the grace, then close the rest."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from skylet.errors import ListenError
from skylet.gateway.http1.accept import Acceptor
from skylet.gateway.http1.limits import Limits
from skylet.gateway.http1.protocol import Http1Protocol
from skylet.gateway.http1.types import Service, Shared

logger = logging.getLogger(__name__)

#: Connections the kernel queues before skylet accepts them (uvicorn's default).
BACKLOG = 2048
_POLL_S = 0.02


class Listener:
    """Serves ``service`` on ``host``:``port`` (every address ``host`` resolves to, IPv4 or
    IPv6; port 0 takes a free one, see :attr:`port`) between :meth:`start` and
    :meth:`shutdown`."""

    def __init__(
        self, service: Service, host: str, port: int, limits: Limits | None = None
    ) -> None:
        self.service = service
        self.host = host
        self.requested_port = port
        self.shared = Shared(limits or Limits())
        self._acceptor: Acceptor | None = None
        self._hurry = False

    async def start(self) -> None:
        """Listen; raises ListenError, saying why, when the address cannot be had."""
        shared = self.shared
        service = self.service
        try:
            sockets = await _bind(self.host, self.requested_port)
        except OSError as exc:
            raise ListenError(_bind_error(self.host, self.requested_port, exc)) from exc
        self._acceptor = Acceptor(sockets, lambda: Http1Protocol(service, shared), shared)
        self._acceptor.start()

    @property
    def port(self) -> int:
        """The port listened on."""
        assert self._acceptor is not None
        return int(self._acceptor.sockets[0].getsockname()[1])

    @property
    def connection_cap(self) -> int:
        """How many connections are served at once (skylet.gateway.http1.limits)."""
        assert self._acceptor is not None
        return self._acceptor.cap

    def hurry(self) -> None:
        """Cut a shutdown's grace short (a second signal)."""
        self._hurry = True

    async def shutdown(self, grace_s: float) -> None:
        """Stop accepting; idle connections close at once, busy ones after their answer
        (``connection: close``); what is still open after ``grace_s`` seconds is closed and
        its application tasks cancelled."""
        acceptor = self._acceptor
        if acceptor is None:
            return
        acceptor.stop()
        shared = self.shared
        for conn in list(shared.connections):
            conn.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while (shared.connections or shared.tasks) and loop.time() < deadline:
            if self._hurry:
                break
            await asyncio.sleep(_POLL_S)
        if shared.connections or shared.tasks:
            logger.warning(
                "closing %d connections still busy after the %g s grace",
                len(shared.connections),
                grace_s,
            )
        for conn in list(shared.connections):
            conn.abort()
        for refusal in list(acceptor.refusals):
            refusal.abort()
        tasks = [*shared.tasks, *acceptor.connecting]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._acceptor = None


async def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to (all interfaces for "" or
    "0.0.0.0"/"::" as given), one port for all of them (a free one for port 0)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    seen: set[object] = set()
    try:
        for family, kind, proto, _, address in infos:
            if address in seen:
                continue
            seen.add(address)
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:  # the port the first address was given
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind_error(host: str, port: int, exc: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        why = "the port is in use (another skylet or server?); choose another with --port"
    elif exc.errno == errno.EACCES:
        why = "permission denied (ports below 1024 need privileges); choose another with --port"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "no network interface has that address; check --host"
    else:
        why = exc.strerror or str(exc)
    return f"cannot listen on {where}: {why}"
