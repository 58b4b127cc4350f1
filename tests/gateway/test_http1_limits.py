"""The HTTP/1.1 server's limits on real sockets, in this process (small limits, so each test is
quick): the head, body and idle timeouts, the cap on connections, and accept() out of
descriptors (in a subprocess with a lowered RLIMIT_NOFILE)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from skylet.asgi import Receive, Scope, Send
from skylet.gateway.http1 import Limits, Listener
from skylet.gateway.http1.deadline import Deadline
from skylet.gateway.http1.limits import keeps_alive_after_early_answer, max_connections_for
from tests.gateway.test_http1_protocol import Service, echo, get, in_loop, post, responses


async def _listen(service: Service, **limits: float) -> Listener:
    listener = Listener(service, "127.0.0.1", 0, Limits(**limits))  # type: ignore[arg-type]
    await listener.start()
    return listener


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 30):
            data += chunk
    except ConnectionResetError:
        pass
    return data


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.01)


@in_loop
async def test_a_head_trickled_a_byte_at_a_time_gets_408_at_the_header_timeout() -> None:
    listener = await _listen(Service(), header_timeout_s=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    head = b"GET /asgi HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 1000
    sent = 0

    async def trickle() -> None:
        nonlocal sent
        for byte in head:
            writer.write(bytes([byte]))
            sent += 1
            await asyncio.sleep(0.02)  # 50 bytes a second: every read before the timeout

    trickling = asyncio.create_task(trickle())
    [(status, headers, _)] = responses(await _read_all(reader))
    assert (status, headers["connection"]) == (408, "close")
    assert sent < len(head)  # the bytes that kept coming did not extend it
    trickling.cancel()
    writer.close()
    await listener.shutdown(1.0)


@in_loop
async def test_a_connection_that_sends_nothing_closes_after_the_keep_alive_timeout() -> None:
    listener = await _listen(Service(), keep_alive_s=0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    assert await _read_all(reader) == b""  # closed, without an answer
    writer.close()
    await listener.shutdown(1.0)


@pytest.mark.parametrize("path", ["/asgi", "/fn"], ids=["asgi_path", "direct_path"])
@in_loop
async def test_a_stalled_body_gets_408_and_the_connection_closes(path: str) -> None:
    service = Service()
    listener = await _listen(service, body_timeout_s=0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post(path, b"x" * 100)[:-90])  # the head and 10 bytes of the body
    [(status, headers, _)] = responses(await _read_all(reader))
    assert (status, headers["connection"]) == (408, "close")
    assert not service.routes.started  # no invocation for half a body
    writer.close()
    await listener.shutdown(1.0)


@in_loop
async def test_a_client_waiting_for_100_continue_is_not_timed_out_before_it_is_invited() -> None:
    may_read = asyncio.Event()

    async def slow_to_read(scope: Scope, receive: Receive, send: Send) -> None:
        await may_read.wait()
        await echo(scope, receive, send)

    listener = await _listen(Service(slow_to_read), body_timeout_s=0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post("/asgi", b"", "Expect: 100-continue\r\n").replace(b": 0", b": 4"))
    await asyncio.sleep(0.5)  # five body timeouts, the server owing the client its 100
    may_read.set()
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"body")
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert await reader.readexactly(15) == b"POST /asgi body"
    writer.close()
    await listener.shutdown(1.0)


@in_loop
async def test_at_the_cap_the_connection_idle_longest_is_closed_for_a_new_one() -> None:
    listener = await _listen(Service(), max_connections=4)
    idle = [await asyncio.open_connection("127.0.0.1", listener.port) for _ in range(4)]
    await _until(lambda: len(listener.shared.idle) == 4)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(get("/asgi", "Connection: close\r\n"))
    [(status, _, body)] = responses(await _read_all(reader))
    assert (status, body) == (200, b"GET /asgi ")
    assert await _read_all(idle[0][0]) == b""  # the first to go idle was closed
    assert len(listener.shared.connections) <= 4
    for _, w in [*idle, (reader, writer)]:
        w.close()
    await listener.shutdown(1.0)


@in_loop
async def test_at_the_cap_with_every_connection_busy_a_new_one_gets_503() -> None:
    service = Service()
    listener = await _listen(service, max_connections=2)
    busy = [await asyncio.open_connection("127.0.0.1", listener.port) for _ in range(2)]
    for _, writer in busy:
        writer.write(get("/fn"))
    await _until(lambda: len(service.routes.started) == 2)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(get("/asgi"))
    [(status, headers, _)] = responses(await _read_all(reader))
    assert (status, headers["connection"], headers["retry-after"]) == (503, "close", "1")
    service.routes.answer(0, b"done")  # the busy ones are served as ever
    assert (await busy[0][0].readuntil(b"done")).startswith(b"HTTP/1.1 200 ")
    for _, w in [*busy, (reader, writer)]:
        w.close()
    await listener.shutdown(1.0)


@in_loop
async def test_one_deadline_moved_later_arms_no_new_timer() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    deadline = Deadline(loop, lambda: fired.append(loop.time()))
    armed = _count_timers(loop)
    start = loop.time()
    deadline.after(0.05)
    for _ in range(1000):
        deadline.after(0.1)  # what every request of a kept-alive connection does
    assert armed() == 1
    await _until(lambda: bool(fired))
    assert fired[0] - start >= 0.099


def _count_timers(loop: asyncio.AbstractEventLoop) -> Callable[[], int]:
    calls = 0
    call_at = loop.call_at

    def counting(when: float, callback: Callable[[], object], *args: object, **kw: Any) -> object:
        nonlocal calls
        calls += 1
        return call_at(when, callback, *args, **kw)

    loop.call_at = counting  # type: ignore[assignment,method-assign]
    return lambda: calls


@pytest.mark.parametrize(
    ("descriptors", "cap"),
    [(200, 86), (1024, 704), (65536, 49088), (40, 16)],
    ids=["200_descriptors", "1024", "65536", "too_few_still_16"],
)
def test_the_default_cap_leaves_a_quarter_and_64_descriptors_to_the_platform(
    descriptors: int, cap: int
) -> None:
    assert max_connections_for(descriptors) == cap


EMFILE_SERVER = textwrap.dedent(
    """
    import asyncio, resource, sys
    from skylet.gateway.http1 import Limits, Listener
    from tests.gateway.test_http1_protocol import Service

    async def main():
        # A cap above what the descriptors allow: accept() itself runs out.
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
        listener = Listener(Service(), "127.0.0.1", 0, Limits(max_connections=1000))
        await listener.start()
        print(listener.port, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_accept_out_of_descriptors_closes_an_idle_connection_and_warns_once() -> None:
    import socket

    proc = subprocess.Popen(
        [sys.executable, "-c", EMFILE_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        for _ in range(3):  # each answered, though every descriptor was taken
            with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
                client.sendall(get("/asgi", "Connection: close\r\n"))
                data = b""
                while chunk := client.recv(65536):
                    data += chunk
            [(status, _, body)] = responses(data)
            assert (status, body) == (200, b"GET /asgi ")
        for sock in idle:
            sock.close()
    finally:
        proc.kill()
        _, err = proc.communicate()
    warnings = [line for line in err.splitlines() if "cannot accept connections" in line]
    assert 1 <= len(warnings) <= 3, err[-2000:]
    assert "Traceback" not in err, err[-2000:]


@pytest.mark.parametrize(
    ("uninvited", "length", "received", "keeps"),
    [
        (True, 5000, 0, False),
        (True, 5000, 4000, False),
        (False, 5000, 0, True),
        (False, (1 << 20) + 1000, 1000, True),
        (False, (1 << 20) + 1001, 1000, False),
        (False, None, 0, True),
    ],
    ids=[
        "a_client_waiting_for_100_continue_closes",
        "even_with_part_of_its_body_sent",
        "a_small_rest_is_dropped",
        "a_rest_of_exactly_1_mib_is_dropped",
        "a_larger_rest_closes",
        "a_chunked_body_is_dropped_as_it_comes",
    ],
)
def test_whether_a_connection_outlives_an_answer_before_its_body(
    uninvited: bool, length: int | None, received: int, keeps: bool
) -> None:
    assert keeps_alive_after_early_answer(uninvited, length, received, Limits()) is keeps
