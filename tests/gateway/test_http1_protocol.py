"""The HTTP/1.1 connection, driven through an in-memory transport (no sockets): both paths,
pipelining, 100-continue, flow control both ways, malformed and oversized requests, failures,
keep-alive and shutdown. Real sockets: test_http1_listener.py and tests/e2e."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httptools
import pytest

from skylet.asgi import Receive, Scope, Send
from skylet.gateway.http1.limits import Limits
from skylet.gateway.http1.protocol import Http1Protocol
from skylet.gateway.http1.types import Shared
from skylet.gateway.http_routes import Call, Found
from skylet.wire.http import HttpResponse, RequestIds
from skylet.wire.invocation import Deliver, RawOutcome

App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Transport:
    """A stream transport in memory. With ``high_water``, writes past it pause the protocol's
    writing until the test reads (:meth:`take`)."""

    def __init__(self, high_water: int | None = None) -> None:
        self.protocol: Http1Protocol | None = None
        self.out = bytearray()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading = True
        self.high_water = high_water
        self.write_paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 9000), "peername": ("10.0.0.7", 51000)}.get(name, default)

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))
        self.out += data
        over = self.high_water is not None and len(self.out) > self.high_water
        if over and not self.write_paused:
            self.write_paused = True
            assert self.protocol is not None
            self.protocol.pause_writing()

    def take(self) -> bytes:
        """What the client reads: all that was written; writing resumes."""
        data = bytes(self.out)
        self.out.clear()
        if self.write_paused:
            self.write_paused = False
            assert self.protocol is not None
            self.protocol.resume_writing()
        return data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            assert self.protocol is not None
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    abort = close

    def pause_reading(self) -> None:
        assert self.reading, "paused twice"
        self.reading = False

    def resume_reading(self) -> None:
        assert not self.reading, "resumed while reading"
        self.reading = True


class Routes:
    """The direct path's routes: every invocation waits for the test to :meth:`answer` it."""

    def __init__(self) -> None:
        self.started: list[tuple[Scope, bytes, Deliver]] = []
        self.settled = 0

    def start(self, scope: Scope, found: Found, body: bytes, then: Deliver) -> Call:
        call = Call(scope, found, RequestIds(False, ""))
        call.pending = object()  # type: ignore[assignment]
        self.started.append((scope, body, then))
        return call

    def answer(self, index: int, body: bytes, block: str | None = None) -> None:
        block = f"content-length: {len(body)}\r\n" if block is None else block
        response = HttpResponse(200, block, body)
        self.started[index][2](RawOutcome("ok", body=body, response=response))

    def settle(self, call: Call, outcome: RawOutcome) -> HttpResponse:
        self.settled += 1
        assert outcome.response is not None
        return outcome.response

    def timed_out(self, call: Call) -> HttpResponse:
        return HttpResponse(504, "content-length: 0\r\n", b"")

    def too_large(self, scope: Scope, found: Found) -> HttpResponse:
        return HttpResponse(413, "content-length: 0\r\n", b"")

    def finish_late(self, pending: object, outcome: RawOutcome) -> None:
        pass


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, answers ``<method> <path> <body>``."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = f"{scope['method']} {scope['path']} ".encode() + body
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


class Service:
    """Paths under /fn are function routes (the direct path); the rest go to ``app``."""

    def __init__(self, app: App = echo) -> None:
        self.routes = Routes()
        self.app = app
        self.calls: list[Scope] = []

    def direct(self, scope: Scope) -> Found | None:
        path: str = scope["path"]
        return Found(None, path, 0.0) if path.startswith("/fn") else None  # type: ignore[arg-type]

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        self.calls.append(scope)
        return self.app(scope, receive, send)


def connect(
    service: Service, limits: Limits | None = None, high_water: int | None = None
) -> tuple[Http1Protocol, Transport]:
    protocol = Http1Protocol(service, Shared(limits or Limits()))  # type: ignore[arg-type]
    transport = Transport(high_water)
    transport.protocol = protocol
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Runs an ``async def`` test in a fresh event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def turns(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def get(path: str, extra: str = "", version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: t\r\n{extra}\r\n".encode()


def post(path: str, body: bytes, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in what the server wrote."""
    found: list[tuple[int, dict[str, str], bytes]] = []

    class Collect:
        def on_message_begin(self) -> None:
            self.headers: dict[str, str] = {}
            self.body = b""

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers[name.decode().lower()] = value.decode()

        def on_body(self, body: bytes) -> None:
            self.body += body

        def on_message_complete(self) -> None:
            found.append((parser.get_status_code(), self.headers, self.body))

    collect = Collect()
    parser = httptools.HttpResponseParser(collect)
    parser.feed_data(data)
    return found


@in_loop
async def test_a_function_route_is_answered_in_one_write() -> None:
    service = Service()
    _, transport = connect(service)
    transport.protocol.data_received(get("/fn?x=1"))  # type: ignore[union-attr]
    assert len(service.routes.started) == 1 and service.calls == []
    service.routes.answer(0, b"ok", "content-length: 2\r\nX-Case: Kept\r\n")
    [written] = transport.writes
    assert written.startswith(b"HTTP/1.1 200 OK\r\ndate: ")
    assert written.endswith(b" GMT\r\ncontent-length: 2\r\nX-Case: Kept\r\n\r\nok")
    assert not transport.closed


@in_loop
async def test_the_scope_is_what_an_asgi_server_gives() -> None:
    service = Service()
    protocol, _ = connect(service)
    protocol.data_received(
        b"GET /a%20b/c?q=1&r=%20 HTTP/1.1\r\nHost: t\r\nX-Custom: Value  \r\n"
        b"x-two: 1\r\nX-Two: 2\r\n\r\n"
    )
    await turns()
    [scope] = service.calls
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 9000),
        "client": ("10.0.0.7", 51000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": "/a b/c",
        "raw_path": b"/a%20b/c",
        "query_string": b"q=1&r=%20",
        "headers": [
            (b"host", b"t"),
            (b"x-custom", b"Value"),
            (b"x-two", b"1"),
            (b"x-two", b"2"),
        ],
    }


@in_loop
async def test_pipelined_requests_are_answered_in_order_through_both_paths() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(
        get("/fn/1") + get("/asgi/2") + post("/fn/3", b"three") + post("/asgi/4", b"four")
    )
    assert len(service.routes.started) == 1  # the others wait their turn
    assert not transport.reading
    await turns()
    assert transport.writes == []
    service.routes.answer(0, b"one")
    await turns()
    assert [scope["path"] for scope in service.calls] == ["/asgi/2"]
    assert [body for _, body, _ in service.routes.started] == [b"", b"three"]
    service.routes.answer(1, b"three!")
    await turns()
    bodies = [body for _, _, body in responses(transport.take())]
    assert bodies == [b"one", b"GET /asgi/2 ", b"three!", b"POST /asgi/4 four"]
    assert transport.reading and not transport.closed


@in_loop
async def test_expect_100_continue_is_sent_when_the_asgi_app_first_reads() -> None:
    reading = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await reading.wait()
        await echo(scope, receive, send)

    service = Service(app)
    protocol, transport = connect(service)
    protocol.data_received(
        b"POST /asgi HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    await turns()
    assert transport.writes == []  # not invited before the app asks
    reading.set()
    await turns()
    assert transport.take() == b"HTTP/1.1 100 Continue\r\n\r\n"
    protocol.data_received(b"body")
    await turns()
    [(status, _, body)] = responses(transport.take())
    assert (status, body) == (200, b"POST /asgi body")


@in_loop
async def test_expect_100_continue_is_not_sent_when_the_app_answers_first() -> None:
    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    protocol, transport = connect(Service(refuse))
    protocol.data_received(
        b"POST /asgi HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    await turns()
    assert transport.take().startswith(b"HTTP/1.1 413 ")


@in_loop
async def test_a_function_route_invites_the_body_at_once() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(
        b"POST /fn HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    assert transport.take() == b"HTTP/1.1 100 Continue\r\n\r\n"
    protocol.data_received(b"body")
    assert service.routes.started[0][1] == b"body"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X-Many: aaaaaaaaaa\r\n" * 4000 + b"\r\n", 431),
    ],
    ids=[
        "not_http",
        "a_length_that_is_not_a_number",
        "a_control_character_in_the_url",
        "a_broken_chunk",
        "a_url_over_16_kib",
        "a_header_over_64_kib",
        "headers_over_64_kib_together",
    ],
)
@in_loop
async def test_a_malformed_or_oversized_request_is_answered_and_the_connection_closed(
    data: bytes, status: int
) -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(data)
    await turns()
    [(answered, headers, _)] = responses(transport.take())
    assert (answered, headers["connection"]) == (status, "close")
    assert transport.closed and service.routes.started == []


@in_loop
async def test_a_head_over_the_limit_is_refused_while_it_arrives() -> None:
    protocol, transport = connect(Service())
    protocol.data_received(b"GET / HTTP/1.1\r\nX-Big: ")
    for _ in range(20):  # one header line, never finished: httptools holds it whole
        if transport.closed:
            break
        protocol.data_received(b"a" * 8192)
    await turns()
    assert responses(transport.take())[0][0] == 431
    assert transport.closed


@in_loop
async def test_a_malformed_request_is_answered_after_the_requests_before_it() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(get("/fn") + get("/asgi") + b"BAD REQUEST\r\n\r\n")
    service.routes.answer(0, b"first")
    await turns()
    statuses = [(s, b) for s, _, b in responses(transport.take())]
    assert statuses == [(200, b"first"), (200, b"GET /asgi "), (400, b"Bad Request")]
    assert transport.closed


@in_loop
async def test_an_app_that_raises_gets_a_500_and_the_connection_closes() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    protocol, transport = connect(Service(broken))
    protocol.data_received(get("/asgi") + get("/asgi"))
    await turns()
    [(status, headers, body)] = responses(transport.take())
    assert (status, headers["connection"], body) == (500, "close", b"Internal Server Error")
    assert transport.closed


@in_loop
async def test_an_app_that_raises_mid_response_has_its_connection_closed() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("boom")

    protocol, transport = connect(Service(broken))
    protocol.data_received(get("/asgi"))
    await turns()
    assert transport.take().endswith(b"\r\n\r\n4\r\npart\r\n")  # no 500 after it
    assert transport.closed


@in_loop
async def test_an_app_that_sends_no_response_gets_a_500() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    protocol, transport = connect(Service(silent))
    protocol.data_received(get("/asgi"))
    await turns()
    assert responses(transport.take())[0][0] == 500


async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ab", "more_body": True})
    await send({"type": "http.response.body", "body": b"cd"})


@in_loop
async def test_a_response_without_a_length_is_chunked() -> None:
    protocol, transport = connect(Service(streaming))
    protocol.data_received(get("/asgi"))
    await turns()
    data = transport.take()
    assert b"transfer-encoding: chunked\r\n" in data
    assert data.endswith(b"\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n")
    assert responses(data)[0][2] == b"abcd"
    assert not transport.closed


@in_loop
async def test_an_http_1_0_response_without_a_length_ends_with_the_connection() -> None:
    protocol, transport = connect(Service(streaming))
    protocol.data_received(get("/asgi", version="1.0"))
    await turns()
    data = transport.take()
    assert b"transfer-encoding" not in data and b"connection: close\r\n" in data
    assert data.endswith(b"\r\n\r\nabcd")
    assert transport.closed


@in_loop
async def test_head_gets_the_length_and_no_body_on_both_paths() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(
        b"HEAD /fn HTTP/1.1\r\nHost: t\r\n\r\nHEAD /asgi HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    service.routes.answer(0, b"hello")
    await turns()
    direct, asgi, end = transport.take().split(b"\r\n\r\n")
    assert direct.startswith(b"HTTP/1.1 200 OK") and asgi.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\ncontent-length: 5" in direct and b"\r\ncontent-length: 11" in asgi
    assert end == b""


@in_loop
async def test_connection_close_and_http_1_0_close_after_the_answer() -> None:
    for request in (get("/fn", "Connection: close\r\n"), get("/fn", version="1.0")):
        service = Service()
        protocol, transport = connect(service)
        protocol.data_received(request)
        service.routes.answer(0, b"ok")
        assert b"\r\nconnection: close\r\n\r\nok" in transport.take()
        assert transport.closed


@in_loop
async def test_a_functions_own_connection_close_closes_after_its_answer() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(get("/fn"))
    service.routes.answer(0, b"ok", "content-length: 2\r\nConnection: close\r\n")
    assert transport.take().endswith(b"\r\nConnection: close\r\n\r\nok")
    assert transport.closed


@in_loop
async def test_a_header_block_that_could_split_the_response_is_not_written() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(get("/fn"))
    service.routes.answer(0, b"ok", "content-length: 2\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert transport.writes == [] and transport.closed


@in_loop
async def test_a_client_that_does_not_read_stops_the_reading_of_further_requests() -> None:
    service = Service()
    protocol, transport = connect(service, high_water=64 * 1024)
    big = b"x" * (1024 * 1024)
    protocol.data_received(get("/fn/1") + get("/fn/2") + get("/asgi/3"))
    service.routes.answer(0, big)
    await turns()
    # The first answer is buffered and over the mark: nothing more starts or is read.
    assert len(service.routes.started) == 1 and service.calls == []
    assert not transport.reading
    assert len(responses(transport.take())) == 1  # the client reads: the next one goes
    assert len(service.routes.started) == 2
    service.routes.answer(1, big)
    await turns()
    assert service.calls == [] and not transport.reading
    transport.take()
    await turns()
    assert [scope["path"] for scope in service.calls] == ["/asgi/3"]
    assert responses(transport.take())[0][2] == b"GET /asgi/3 "
    assert transport.reading


@in_loop
async def test_an_asgi_send_waits_while_the_transport_is_paused() -> None:
    sent: list[int] = []

    async def chunks(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"x" * 100_000, "more_body": True})
            sent.append(index)
        await send({"type": "http.response.body", "body": b""})

    protocol, transport = connect(Service(chunks), high_water=64 * 1024)
    protocol.data_received(get("/asgi"))
    await turns()
    assert sent == [0]  # the second send waits for the client
    transport.take()
    await turns()
    assert sent == [0, 1]
    transport.take()
    await turns()
    transport.take()
    await turns()
    assert sent == [0, 1, 2]


@in_loop
async def test_a_large_request_body_pauses_reading_until_the_app_reads_it() -> None:
    reading = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await reading.wait()
        await echo(scope, receive, send)

    protocol, transport = connect(Service(app))
    body = b"b" * (200 * 1024)
    data = post("/asgi", body)
    protocol.data_received(data[: 32 * 1024])
    await turns()
    assert transport.reading
    protocol.data_received(data[32 * 1024 : 100 * 1024])
    await turns()
    assert not transport.reading  # over 64 KiB that nobody has read
    reading.set()
    await turns()
    assert transport.reading
    protocol.data_received(data[100 * 1024 :])
    await turns()
    assert responses(transport.take())[0][2] == b"POST /asgi " + body


@in_loop
async def test_a_large_body_on_a_function_route_is_read_through_the_asgi_app() -> None:
    service = Service()
    protocol, transport = connect(service)
    data = post("/fn", b"c" * (100 * 1024))
    for start in range(0, len(data), 16 * 1024):
        protocol.data_received(data[start : start + 16 * 1024])
        await turns()
    assert service.routes.started == [] and [s["path"] for s in service.calls] == ["/fn"]
    assert responses(transport.take())[0][2] == b"POST /fn " + b"c" * (100 * 1024)


@in_loop
async def test_a_client_that_leaves_mid_invocation_gets_nothing_and_it_is_recorded() -> None:
    service = Service()
    protocol, transport = connect(service)
    protocol.data_received(get("/fn"))
    protocol.connection_lost(None)
    service.routes.answer(0, b"late")
    assert transport.writes == [] and service.routes.settled == 1


@in_loop
async def test_an_app_waiting_for_a_disconnect_gets_it_when_the_client_leaves() -> None:
    got: list[str] = []

    async def follow(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        while True:
            message = await receive()
            got.append(message["type"])
            if message["type"] == "http.disconnect":
                return

    protocol, _ = connect(Service(follow))
    protocol.data_received(get("/asgi"))
    await turns()
    assert got == ["http.request"]  # then it waits
    protocol.connection_lost(None)
    await turns()
    assert got == ["http.request", "http.disconnect"]


@in_loop
async def test_an_idle_connection_closes_after_the_keep_alive_timeout_not_while_busy() -> None:
    service = Service()
    protocol, transport = connect(service, Limits(keep_alive_s=0.05))
    protocol.data_received(get("/fn"))
    await asyncio.sleep(0.08)  # busy past the timeout: still open
    assert not transport.closed
    service.routes.answer(0, b"ok")
    await asyncio.sleep(0.03)
    assert not transport.closed
    await asyncio.sleep(0.05)
    assert transport.closed


@in_loop
async def test_shutdown_closes_idle_connections_and_lets_a_busy_one_answer_with_close() -> None:
    service = Service()
    idle, idle_transport = connect(service)
    busy, busy_transport = connect(service)
    busy.data_received(get("/fn"))
    idle.shutdown()
    busy.shutdown()
    assert idle_transport.closed and not busy_transport.closed
    service.routes.answer(0, b"ok")
    assert busy_transport.take().endswith(b"\r\nconnection: close\r\n\r\nok")
    assert busy_transport.closed
