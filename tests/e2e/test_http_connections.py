"""HTTP/1.1 connection behaviour of skylet's server (skylet.gateway.http1), on function routes
(served directly) and the ASGI path (the other APIs): pipelining, HEAD, HTTP/1.0,
100-continue, bodies on either side of the direct path's 64 KiB buffer, malformed requests,
flow control, disconnects, keep-alive and graceful shutdown. Raw sockets against a real
``skylet up``, so every byte on the wire is checked."""

from __future__ import annotations

import base64
import json
import signal
import socket
import time

import httpx
import pytest

from tests.e2e.conftest import Server, module_server, project_dir, start_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: wire
functions:
  echo:
    handler: web_handlers.echo_event
    events:
      - http_api: {method: ANY, path: /echo}
  shaped:
    handler: web_handlers.shaped
    timeout_s: 10
    events:
      - http_api: {method: GET, path: /shape}
"""


server = module_server("wire", MANIFEST)


class Reader:
    """Reads HTTP/1.1 responses off a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def response(self, *, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"connection closed mid-response: {self.buffer!r}"
        raw, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            assert self._fill(), "connection closed mid-body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """Whether the server closed the connection (after what was read)."""
        return self.buffer == b"" and not self._fill()


def connect(server: Server) -> tuple[socket.socket, Reader]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock, Reader(sock)


def request(method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
    return f"{method} {path} HTTP/1.1\r\nHost: t\r\n{length}{extra}\r\n".encode() + body


def test_pipelined_requests_are_answered_in_order_on_one_connection(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(
            request("GET", "/echo?n=1")
            + request("POST", "/echo?n=2", b'{"a": 1}', "Content-Type: application/json\r\n")
            + request("GET", "/shape?kind=ok")
            + request("GET", "/echo?n=3")
        )
        first, second, third, fourth = (reader.response() for _ in range(4))
    assert json.loads(first[2])["rawQueryString"] == "n=1"
    event = json.loads(second[2])
    assert (event["rawQueryString"], event["body"]) == ("n=2", '{"a": 1}')
    assert third[2] == b"ok"
    assert json.loads(fourth[2])["rawQueryString"] == "n=3"
    assert all(r[0] == 200 and r[1]["apigw-requestid"] for r in (first, second, third, fourth))


def test_pipelined_requests_on_both_paths_are_answered_in_order(server: Server) -> None:
    invoke = request(
        "POST", "/2015-03-31/functions/shaped/invocations", b'{"queryStringParameters": {}}'
    )
    sock, reader = connect(server)
    with sock:
        sock.sendall(
            request("GET", "/shape?kind=ok")
            + request("GET", "/health")
            + invoke
            + request("GET", "/_skylet/functions")
            + request("GET", "/echo?n=5")
        )
        answers = [reader.response() for _ in range(5)]
    assert [status for status, _, _ in answers] == [200] * 5
    assert answers[0][2] == b"ok"
    assert json.loads(answers[1][2])["status"] == "ok"
    assert json.loads(answers[2][2])["body"] == "ok"  # the Invoke API: the result itself
    assert {f["name"] for f in json.loads(answers[3][2])} == {"echo", "shaped"}
    assert json.loads(answers[4][2])["rawQueryString"] == "n=5"


def test_expect_100_continue_on_the_asgi_path_is_answered_when_the_api_reads(
    server: Server,
) -> None:
    payload = b'{"queryStringParameters": {"kind": "ok"}}'
    sock, reader = connect(server)
    with sock:
        sock.sendall(
            b"POST /2015-03-31/functions/shaped/invocations HTTP/1.1\r\nHost: t\r\n"
            + f"Content-Length: {len(payload)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert reader.response(head=True)[0] == 100
        sock.sendall(payload)
        status, _, answer = reader.response()
        assert (status, json.loads(answer)["body"]) == (200, "ok")


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 2\r\n\r\n", 400),
        (b"GET /" + b"a" * 17_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ],
    ids=["not_http", "two_lengths", "a_url_over_16_kib", "headers_over_64_kib"],
)
def test_a_malformed_request_after_a_good_one_is_refused_and_the_connection_closed(
    server: Server, data: bytes, status: int
) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(request("GET", "/shape?kind=ok") + data)
        assert reader.response()[2] == b"ok"
        refused, headers, _ = reader.response()
        assert (refused, headers["connection"]) == (status, "close")
        assert reader.closed()


def test_a_client_that_does_not_read_its_answers_stops_the_server_reading(
    server: Server,
) -> None:
    def invocations() -> set[str]:
        logs = httpx.get(f"{server.url}/_skylet/functions/shaped/logs", timeout=10)
        return {json.loads(line)["requestId"] for line in logs.text.splitlines()}

    before = invocations()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    with sock:
        sock.sendall(request("GET", "/shape?kind=big&bytes=1000000") * 60)  # 60 MB of answers
        time.sleep(1.5)
        ran = invocations() - before
        reader = Reader(sock)
        answers = [reader.response() for _ in range(60)]
    assert 1 <= len(ran) < 15  # the rest waited for the client to read
    assert all(len(body) == 1_000_000 for _, _, body in answers)


def test_head_gets_the_headers_and_length_but_no_body(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(request("HEAD", "/echo"))
        status, headers, _ = reader.response(head=True)
        assert status == 200
        assert int(headers["content-length"]) > 0
        sock.sendall(request("GET", "/shape?kind=ok"))  # the connection is still in step
        assert reader.response()[2] == b"ok"


def test_an_http_1_0_request_is_answered_then_the_connection_closes(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(b"GET /shape?kind=ok HTTP/1.0\r\nHost: t\r\n\r\n")
        status, headers, body = reader.response()
        assert (status, body) == (200, b"ok")
        assert headers["connection"] == "close"
        assert reader.closed()


def test_a_client_that_asks_to_close_gets_its_answer_then_the_close(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(request("GET", "/shape?kind=ok", extra="Connection: close\r\n"))
        assert reader.response()[2] == b"ok"
        assert reader.closed()


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        body = b"x" * 1000
        # The head alone (its Content-Length says 1000): the server must invite the body.
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
            b"Content-Type: text/plain\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = reader.response(head=True)
        assert interim[0] == 100
        sock.sendall(body)
        status, _, answer = reader.response()
        assert status == 200
        assert json.loads(answer)["body"] == body.decode()


def test_a_body_past_the_direct_buffer_arrives_whole(server: Server) -> None:
    body = bytes(range(256)) * 1024  # 256 KiB, sent in pieces: read through the ASGI path
    sock, reader = connect(server)
    with sock:
        head = request("POST", "/echo", body, "Content-Type: application/octet-stream\r\n")
        for start in range(0, len(head), 50_000):
            sock.sendall(head[start : start + 50_000])
            time.sleep(0.01)
        status, _, answer = reader.response()
        assert status == 200
        event = json.loads(answer)
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body
        sock.sendall(request("GET", "/shape?kind=ok"))  # and the connection goes on
        assert reader.response()[2] == b"ok"


def test_a_client_that_leaves_mid_invocation_does_not_hurt_the_next(server: Server) -> None:
    sock, _ = connect(server)
    sock.sendall(request("GET", "/shape?kind=slow&seconds=0.5"))
    time.sleep(0.1)
    sock.close()  # while the function runs
    started = time.monotonic()
    response = httpx.get(f"{server.url}/shape?kind=ok", timeout=10)
    assert response.text == "ok"
    time.sleep(0.6)  # the abandoned invocation ends: its answer goes nowhere, nothing breaks
    assert httpx.get(f"{server.url}/shape?kind=ok", timeout=10).status_code == 200
    assert time.monotonic() - started < 5


def test_a_kept_alive_connection_closes_after_5_s_idle_not_while_in_use(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        for _ in range(4):  # in use past the first 5 s: it stays open
            sock.sendall(request("GET", "/shape?kind=ok"))
            assert reader.response()[2] == b"ok"
            time.sleep(1.8)
        sock.sendall(request("GET", "/shape?kind=ok"))
        assert reader.response()[2] == b"ok"
        went_idle = time.monotonic()
        sock.settimeout(15)
        assert reader.closed()
        assert 4.5 <= time.monotonic() - went_idle < 11


def test_shutdown_lets_an_in_flight_request_finish(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    directory = project_dir(tmp_path_factory.mktemp("wire-stop"), MANIFEST)
    running = start_server(directory, "--no-reload")
    try:
        sock, reader = connect(running)
        with sock:
            sock.sendall(request("GET", "/shape?kind=slow&seconds=1"))
            time.sleep(0.3)
            running.proc.send_signal(signal.SIGTERM)
            status, headers, body = reader.response()
            assert (status, body) == (200, b"ok")
            assert headers["connection"] == "close"
            assert reader.closed()
        assert running.proc.wait(30) == 0
    finally:
        stop_server(running)
