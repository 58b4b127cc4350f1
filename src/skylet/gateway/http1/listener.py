"""Listening for HTTP/1.1 connections, and the graceful shutdown: stop accepting, close idle
connections, let requests in flight finish within the grace, then close the rest."""

from __future__ import annotations

import asyncio
import errno
import logging

from skylet.errors import ListenError
from skylet.gateway.http1.protocol import Http1Protocol
from skylet.gateway.http1.types import Limits, Service, Shared

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
        self._server: asyncio.Server | None = None
        self._hurry = False

    async def start(self) -> None:
        """Listen; raises ListenError, saying why, when the address cannot be had."""
        loop = asyncio.get_running_loop()
        shared = self.shared
        service = self.service
        try:
            self._server = await loop.create_server(
                lambda: Http1Protocol(service, shared),
                self.host,
                self.requested_port,
                backlog=BACKLOG,
            )
        except OSError as exc:
            raise ListenError(_bind_error(self.host, self.requested_port, exc)) from exc

    @property
    def port(self) -> int:
        """The port listened on."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def hurry(self) -> None:
        """Cut a shutdown's grace short (a second signal)."""
        self._hurry = True

    async def shutdown(self, grace_s: float) -> None:
        """Stop accepting; idle connections close at once, busy ones after their answer
        (``connection: close``); what is still open after ``grace_s`` seconds is closed and
        its application tasks cancelled."""
        server = self._server
        if server is None:
            return
        server.close()
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
        tasks = list(shared.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        self._server = None


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
