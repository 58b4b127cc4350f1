"""A TCP proxy that a test can cut: the database "goes away" without stopping the server.

    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()                 # listens on 127.0.0.1:proxy.port
    … connect to proxy.port …
    await proxy.cut()                   # every connection closed, new ones refused
    await proxy.restore()               # listening again on the same port

It runs on the test's event loop. A cut closes the listening socket (connecting then fails at
once with ECONNREFUSED, as with a stopped server) and aborts both sides of every proxied
connection (the client sees its server close the connection, as after a crash or restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit, urlunsplit

CHUNK = 1 << 16


def url_through(url: str, port: int) -> str:
    """A database URL with its host and port replaced by a proxy's on 127.0.0.1."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``upstream_host:upstream_port``. ``connections`` counts
    the connections accepted since start."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on a free port (the first time) or on the same port again (after a cut;
        nothing if it is listening)."""
        if self._server is not None:
            return
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._accept, sock=sock)

    restore = start

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, both ways."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        pipes = list(self._pipes)
        for pipe in pipes:
            pipe.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    aclose = cut

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        for source, target in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, target, (writer, up_writer)))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        target: asyncio.StreamWriter,
        both: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await source.read(CHUNK):
                target.write(data)
                await target.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other, as a real server or client would see it.
            for writer in both:
                self._writers.discard(writer)
                with contextlib.suppress(Exception):
                    writer.transport.abort()
