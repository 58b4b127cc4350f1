"""A URI subscriber, a real HTTP server: binary mode with ``Prefer: reply`` (or structured
with ``format: json``), its reply back into the broker, its 429 retried."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from skylet.eventing.brokers import Brokers
from skylet.eventing.deliveries import Deliveries, DeliverySettings
from skylet.eventing.filters import compile_filter
from skylet.eventing.policy import Policy
from skylet.eventing.subscribers import Sender
from skylet.eventing.topology import Sink, Topology, Trigger
from skylet.store.sqlite import SqliteStore

from .test_deliveries import NoFunctions

Seen = list[dict[str, Any]]


class Endpoint(BaseHTTPRequestHandler):
    seen: Seen = []
    busy_left = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"] or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).seen.append({"headers": headers, "body": body})
        if type(self).busy_left > 0:
            type(self).busy_left -= 1
            self.send_response(429)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if headers.get("ce-type") == "ask" or b'"type":"ask"' in body:
            answer = b"reply"
            self.send_response(200)
            for name, value in (
                ("ce-specversion", "1.0"),
                ("ce-id", "r1"),
                ("ce-source", "/uri"),
                ("ce-type", "answer"),
                ("content-type", "text/plain"),
            ):
                self.send_header(name, value)
        else:
            answer = b""
            self.send_response(202)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    Endpoint.seen = []
    Endpoint.busy_left = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


async def deliver(
    tmp_path: Path, uri: str, policy: Policy, event: dict[str, Any], wanted: int
) -> None:
    ask = Trigger("ask", "default", Sink("uri", uri), policy, None, compile_filter({"type": "ask"}))
    answers = Trigger(
        "answers", "default", Sink("uri", uri), policy, None, compile_filter({"type": "answer"})
    )
    top = Topology(
        {"default": "default"}, {"ask": ask, "answers": answers}, {"default": (ask, answers)}
    )
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    brokers = Brokers(store)
    await brokers.start()
    brokers.deploy(top)
    deliveries = Deliveries(
        brokers,
        Sender(NoFunctions()),  # type: ignore[arg-type]
        settings=DeliverySettings(poll_s=0.05),
    )
    await deliveries.start()
    try:
        await brokers.publish("default", event)
        for _ in range(300):
            if len(Endpoint.seen) >= wanted:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
    finally:
        await deliveries.aclose()
        await brokers.aclose()
        await store.aclose()


EVENT = {
    "specversion": "1.0",
    "id": "q1",
    "source": "/t",
    "type": "ask",
    "datacontenttype": "application/json",
    "data": {"q": 1},
}


def test_a_uri_gets_binary_mode_and_its_reply_goes_back_into_the_broker(
    tmp_path: Path, endpoint: str
) -> None:
    asyncio.run(deliver(tmp_path, endpoint, Policy(retry=0), dict(EVENT), 2))
    first, second = Endpoint.seen
    assert first["headers"]["ce-id"] == "q1" and first["headers"]["prefer"] == "reply"
    assert first["headers"]["content-type"] == "application/json"
    assert json.loads(first["body"]) == {"q": 1}
    assert second["headers"]["ce-type"] == "answer" and second["body"] == b"reply"


def test_format_json_posts_structured_mode(tmp_path: Path, endpoint: str) -> None:
    asyncio.run(deliver(tmp_path, endpoint, Policy(retry=0, format="json"), dict(EVENT), 2))
    first = Endpoint.seen[0]
    assert first["headers"]["content-type"] == "application/cloudevents+json"
    document = json.loads(first["body"])
    assert document["id"] == "q1" and document["data"] == {"q": 1}
    assert "knativebrokerttl" not in document


def test_a_429_is_retried(tmp_path: Path, endpoint: str) -> None:
    Endpoint.busy_left = 2
    event = dict(EVENT, type="answer", id="a1")
    asyncio.run(deliver(tmp_path, endpoint, Policy(retry=3, delay_s=0.01), event, 3))
    assert [s["headers"]["ce-id"] for s in Endpoint.seen] == ["a1", "a1", "a1"]
