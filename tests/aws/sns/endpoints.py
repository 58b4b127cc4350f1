"""Helpers for delivery tests: an HTTP endpoint that records what SNS POSTs, messages read
from the store queues SQS and Lambda subscribers deliver into, waits with deadlines, and SNS's
signature verification as a subscriber does it (the certificate fetched from its URL)."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from skylet.errors import QueueNotFound
from skylet.store.types import Message
from tests.aws.sns.served import Served

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout_s: float = 20.0, what: str = "it") -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Endpoint:
    """An HTTP server on loopback; ``statuses`` are answered in turn (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                endpoint.requests.append((self.path, dict(self.headers.items()), body))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def of_type(self, kind: str) -> list[tuple[str, dict[str, str], bytes]]:
        return [r for r in self.requests if r[1].get("x-amz-sns-message-type") == kind]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def received(served: Served, queue: str, count: int = 1, timeout_s: float = 20.0) -> list[Message]:
    """Wait until ``count`` messages are in the store queue ``queue``; take (and delete) them."""
    got: list[Message] = []

    def take() -> list[Message] | None:
        async def receive() -> list[Message]:
            try:
                messages = await served.store.receive(queue, max_messages=100)
            except QueueNotFound:  # a Lambda subscriber's queue is made by its first event
                return []
            for m in messages:
                await served.store.delete(queue, m.receipt)
            return messages

        got.extend(served.call(receive))
        return got if len(got) >= count else None

    return wait_for(take, timeout_s, f"{count} message(s) in {queue}")


def make_queue(served: Served, name: str, *, fifo: bool = False) -> str:
    served.call(lambda: served.store.create_queue(name, fifo=fifo))
    return f"arn:aws:sqs:us-east-1:000000000000:{name}"


def nothing_in(served: Served, queue: str) -> bool:
    async def stats() -> int:
        s = await served.store.queue_stats(queue)
        return s.visible + s.in_flight + s.delayed

    return served.call(stats) == 0


def deliveries_settled(served: Served) -> bool:
    async def count() -> int:
        total = 0
        for q in ("skylet:sns:deliveries", "skylet:sns:deliveries.fifo"):
            s = await served.store.queue_stats(q)
            total += s.visible + s.in_flight + s.delayed
        return total

    return served.call(count) == 0


def verify(document: dict[str, Any], cert_key: str = "SigningCertURL") -> bool:
    """SNS's verification, as AWS documents it for subscribers: fetch the certificate, build
    the string to sign from the message's fields, check the signature (SHA1 for version 1,
    SHA256 for 2)."""
    with urllib.request.urlopen(document[cert_key]) as response:
        certificate = x509.load_pem_x509_certificate(response.read())
    if document["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{n}\n{document[n]}\n" for n in names if document.get(n) is not None)
    algorithm = hashes.SHA256() if document["SignatureVersion"] == "2" else hashes.SHA1()
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            base64.b64decode(document["Signature"]), text.encode(), padding.PKCS1v15(), algorithm
        )
    except Exception:
        return False
    return True


def body_of(message: Message) -> Any:
    return json.loads(message.body)
