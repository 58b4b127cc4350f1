"""skylet's admin API in a real ``skylet up``: every query parameter it cannot take is a 400
naming it (never a 500), and a log follower that does not read is dropped, its connection
closed, while the platform's memory stays bounded."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httptools
import httpx
import pytest

from tests.e2e.conftest import Server, module_server
from tests.e2e.test_http_connections import request

pytestmark = pytest.mark.e2e

MANIFEST = """
service: admin
functions:
  loud:
    handler: printing.show
"""

server = module_server("admin", MANIFEST)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("logs?since=abc", "since"),
        ("logs?since=%C2%B2", "since"),  # '²': a digit to str.isdigit, not to int()
        ("logs?since=nan", "since"),
        ("logs?since=1e400", "since"),
        ("logs?follow=maybe", "follow"),
        ("invocations?limit=%C2%B2", "limit"),
        ("invocations?limit=abc", "limit"),
        ("invocations?limit=0", "limit"),
        ("invocations?limit=1001", "limit"),
        ("invocations?limit=", "limit"),
        ("invocations?status=lost", "status"),
    ],
    ids=lambda value: value.replace("?", "_"),
)
def test_a_parameter_the_admin_api_cannot_take_is_a_400_naming_it(
    server: Server, query: str, named: str
) -> None:
    response = httpx.get(f"{server.url}/_skylet/functions/loud/{query}", timeout=30)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["message"].startswith(f"{named}=")


def test_parameters_it_can_take_are_answered(server: Server) -> None:
    for query in ("logs?since=0", "logs?since=1733600000.25", "logs?follow=0", "invocations"):
        response = httpx.get(f"{server.url}/_skylet/functions/loud/{query}", timeout=30)
        assert response.status_code == 200, response.text


def test_a_follower_that_does_not_read_is_dropped_and_memory_stays_bounded(
    server: Server,
) -> None:
    follower = socket.socket()
    follower.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    follower.connect(("127.0.0.1", server.port))
    follower.settimeout(60)
    with follower:
        follower.sendall(request("GET", "/_skylet/functions/loud/logs?follow=1"))
        rss_before = _rss(server)
        payload = json.dumps({"say": "x" * 400_000}).encode()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for _ in range(250):  # 100 MB of log, which the follower does not read
                url = "/2015-03-31/functions/loud/invocations"
                assert client.post(url, content=payload).status_code == 200
        grew = _rss(server) - rss_before
        # The book keeps 4 MiB per function and the follower's buffer 4 MiB more.
        assert grew < 64 << 20, f"the platform grew by {grew >> 20} MiB"
        stream, complete = _read_to_end(follower)
    if complete:  # it ended cleanly: with the line that says why
        assert json.loads(stream.rstrip(b"\n").rsplit(b"\n", 1)[-1])["dropped"] is True
    assert "Traceback" not in server.output()


def _read_to_end(sock: socket.socket) -> tuple[bytes, bool]:
    """The stream's body until it ends, and whether it ended whole (else the server closed or
    reset the connection: not reading, the client may miss the last line)."""
    body = bytearray()
    ended = False

    class Stream:
        def on_body(self, chunk: bytes) -> None:
            body.extend(chunk)

        def on_message_complete(self) -> None:
            nonlocal ended
            ended = True

    parser = httptools.HttpResponseParser(Stream())
    deadline = time.monotonic() + 60
    try:
        while not ended and (chunk := sock.recv(1 << 20)):
            parser.feed_data(chunk)
            assert time.monotonic() < deadline, "the stream did not end"
    except ConnectionResetError:
        return bytes(body), False
    return bytes(body), ended


def _rss(server: Server) -> int:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
