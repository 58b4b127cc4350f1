"""The HTTP/1.1 listener on real sockets, in this process: a port in use, graceful shutdown, and
a client that does not read its large responses (the server stops reading its requests)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from skylet.errors import ConfigError
from skylet.gateway.http1 import Listener
from skylet.gateway.http_routes import Found
from tests.gateway.test_http1_protocol import Service, get, in_loop, responses


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while chunk := await reader.read(65536):
        data += chunk
    return data


@in_loop
async def test_a_port_in_use_is_refused_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port}: the port is in use"):
            await Listener(Service(), "127.0.0.1", port).start()  # type: ignore[arg-type]


@in_loop
async def test_ipv6_loopback_is_served() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    service = Service()
    listener = Listener(service, "::1", 0)  # type: ignore[arg-type]
    try:
        await listener.start()
    except ConfigError:
        pytest.skip("no IPv6 loopback here")
    reader, writer = await asyncio.open_connection("::1", listener.port)
    writer.write(get("/asgi", "Connection: close\r\n"))
    [(status, _, body)] = responses(await _read_all(reader))
    assert (status, body) == (200, b"GET /asgi ")
    assert service.calls[0]["client"][0] == "::1"
    writer.close()
    await listener.shutdown(1.0)


@in_loop
async def test_shutdown_lets_the_request_in_flight_finish_then_closes() -> None:
    service = Service()
    listener = Listener(service, "127.0.0.1", 0)  # type: ignore[arg-type]
    await listener.start()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", listener.port)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(get("/fn"))
    while not service.routes.started:
        await asyncio.sleep(0.01)
    port = listener.port
    stopping = asyncio.create_task(listener.shutdown(5.0))
    await asyncio.sleep(0.05)
    assert await idle_reader.read() == b""  # the idle one closed at once
    assert not stopping.done()
    service.routes.answer(0, b"done")
    [(status, headers, body)] = responses(await _read_all(reader))
    assert (status, headers["connection"], body) == (200, "close", b"done")
    await asyncio.wait_for(stopping, 2)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    for w in (writer, idle_writer):
        w.close()


@in_loop
async def test_a_client_that_does_not_read_does_not_make_the_server_buffer_its_answers() -> None:
    service = Service()

    def started(scope: object, found: Found, body: bytes, then: object) -> object:
        call = start(scope, found, body, then)  # type: ignore[arg-type]
        index = len(service.routes.started) - 1
        loop.call_soon(service.routes.answer, index, b"x" * 1_000_000)
        return call

    loop = asyncio.get_running_loop()
    start = service.routes.start
    service.routes.start = started  # type: ignore[method-assign]
    listener = Listener(service, "127.0.0.1", 0)  # type: ignore[arg-type]
    await listener.start()
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    client.connect(("127.0.0.1", listener.port))
    client.setblocking(False)
    await loop.sock_sendall(client, get("/fn") * 100)
    await asyncio.sleep(0.5)
    # 100 MB asked for; what the kernel's buffers and one answer hold is all that is made.
    assert 1 <= len(service.routes.started) <= 8
    received = 0
    while received < 100 * 1_000_000:
        chunk = await loop.sock_recv(client, 1 << 20)
        assert chunk
        received += len(chunk)
    assert len(service.routes.started) == 100
    client.close()
    await listener.shutdown(1.0)
