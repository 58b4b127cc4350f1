"""A front door served in this process, on a real socket: skylet's HTTP server in front of the
gateway with the service registry, for services that ``skylet up`` does not serve yet (a JSON
and a CBOR one), and a keep-alive client that signs raw requests with botocore's signer."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from skylet.aws.auth import Authenticator
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.router import Services
from skylet.aws.service import Service
from skylet.config import RuntimeSettings
from skylet.gateway.app import Gateway
from skylet.gateway.http1 import Listener
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.zygote import ZygoteClient


@contextmanager
def front_door(
    services: Iterable[Service], *, keys: Mapping[str, str], region: str = "us-east-1"
) -> Iterator[str]:
    """The URL of a gateway serving ``services`` (signatures required, for ``keys``), on a
    loop in a thread of its own; no function, no zygote."""
    auth = Authenticator(dict(keys), region, required=True)
    registry = Services(auth, ServiceModels())
    for service in services:
        registry.register(service)
    registry.load()
    invoker = Invoker(RuntimeSettings(region=region), ZygoteClient(), LogBook())
    gateway = Gateway(invoker, auth=auth, services=registry)
    loop = asyncio.new_event_loop()
    listener = Listener(gateway, "127.0.0.1", 0)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the front door did not start")
    try:
        yield f"http://127.0.0.1:{listener.port}"
    finally:
        asyncio.run_coroutine_threadsafe(listener.shutdown(5.0), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class KeepAlive:
    """One HTTP/1.1 connection, kept: every request goes on it, and :meth:`send` fails if the
    server closed it (a refusal must leave the connection sound for the next request)."""

    def __init__(self, url: str) -> None:
        self.host = url.removeprefix("http://")
        self.conn = http.client.HTTPConnection(self.host, timeout=30)
        self.conn.connect()
        self.sock = self.conn.sock

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        sign: tuple[str, str, str, str] | None = None,
    ) -> Answer:
        """``sign``: (service, region, access key, secret) for botocore's SigV4 signer."""
        sent = dict(headers or {})
        if sign is not None:
            service, region, access_key, secret = sign
            request = AWSRequest(method, f"http://{self.host}{path}", data=body, headers=sent)
            SigV4Auth(Credentials(access_key, secret), service, region).add_auth(request)
            sent = {k: str(v) for k, v in request.headers.items()}
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        data = response.read()
        assert self.conn.sock is self.sock, "the server closed the connection"
        assert response.getheader("connection", "").lower() != "close"
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        self.conn.close()
