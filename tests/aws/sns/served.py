"""SNS served on a real socket for the tests: the service behind a small ASGI app that calls
``aws.service.handle`` (until the router serves it on skylet's port), over a SQLite store.

``Served`` runs it in a thread of this process; ``python -m tests.aws.sns.served DIR`` runs it
as a process of its own (the kill -9 test), writing its port to ``DIR/port``; its SQS
deliveries wait while ``DIR/gate`` exists. SQS subscribers
get their messages in store queues (``StoreQueues``, the ``QueueSink`` the tests bind), and
Lambda subscribers' events land in the store queue ``lambda-NAME`` (``StoreFunctions``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import boto3

from skylet.asgi import Receive, Scope, Send, read_body
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.service import handle
from skylet.aws.sns.delivery import DeliverySettings
from skylet.aws.sns.names import queue_name
from skylet.aws.sns.service import Sns
from skylet.config import FunctionConfig
from skylet.errors import ResourceNotFound
from skylet.gateway.http1 import Listener
from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore

T = TypeVar("T")
#: SNS's waits shortened 20 times (an HTTP retry after 1 s), short leases and polls.
FAST = DeliverySettings(lease_s=3.0, poll_s=0.2, delay_scale=0.05)


class SnsApp:
    """The ASGI app: SNS's API on every path, and the signing certificate at its URL."""

    routes = None

    def __init__(self, sns: Sns, models: ServiceModels) -> None:
        self.sns = sns
        self.models = models

    def direct(self, scope: Scope) -> None:
        return None

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(scope, receive, 1 << 20)
        pem = self.sns.certificate(scope["path"]) if scope["method"] == "GET" else None
        if pem is not None:
            status, headers, payload = (
                200,
                [(b"content-type", b"application/x-pem-file")],
                pem.encode(),
            )
        else:
            response = await handle(
                self.sns,
                scope["method"],
                scope.get("raw_path", scope["path"].encode()).decode(),
                scope.get("query_string", b"").decode(),
                [(k.decode(), v.decode()) for k, v in scope["headers"]],
                body,
                models=self.models,
                request_id=str(uuid.uuid4()),
            )
            status, payload = response.status, response.body
            headers = [(k.encode(), v.encode()) for k, v in response.headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class StoreQueues:
    """A ``QueueSink`` over store queues named as the ARN's last part (created by the tests).
    While the file ``gate`` exists, sends wait (the crash test holds deliveries with it)."""

    def __init__(self, store: Store, gate: Path | None = None) -> None:
        self.store = store
        self.gate = gate

    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None:
        while self.gate is not None and self.gate.exists():
            await asyncio.sleep(0.01)
        name = queue_name(queue_arn)
        if await self.store.get_queue(name) is None:
            raise ResourceNotFound(f"The specified queue does not exist: {queue_arn}")
        plain = {
            k: {
                key: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                for key, v in value.items()
            }
            for k, value in attributes.items()
        }
        await self.store.send(
            name,
            body.encode(),
            attributes={"sqs": json.dumps(plain)} if plain else None,
            group_id=group_id,
            dedup_id=dedup_id,
        )


class StoreFunctions:
    """``Functions``: the functions ``styles`` names exist; their events go to queues."""

    def __init__(self, store: Store, styles: Mapping[str, str]) -> None:
        self.store = store
        self.styles = dict(styles)

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        if name not in self.styles:
            raise ResourceNotFound(f"Function not found: {name}")
        return FunctionConfig(name=name, handler="h.h", code_dir=Path(), style=self.styles[name])

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]:
        self.function(function)
        queue = f"lambda-{function}"
        await self.store.create_queue(queue)
        for payload in payloads:
            await self.store.send(queue, payload)
        return [str(uuid.uuid4()) for _ in payloads]


STYLES = {"worker": "lambda", "bg": "background", "ce": "cloudevent"}


async def serve(
    data_dir: Path, settings: DeliverySettings, port: int = 0, gate: Path | None = None
) -> tuple[Sns, Listener]:
    store = SqliteStore(data_dir / "state.db")
    await store.start()
    sns = Sns(
        store,
        StoreFunctions(store, STYLES),
        endpoint="http://127.0.0.1",
        queues=StoreQueues(store, gate),
        settings=settings,
    )
    listener = Listener(SnsApp(sns, ServiceModels()), "127.0.0.1", port)  # type: ignore[arg-type]
    await listener.start()
    sns.endpoint = f"http://127.0.0.1:{listener.port}"
    await sns.start()
    return sns, listener


class Served:
    """SNS on a real socket in a thread of this process; ``call`` runs a coroutine there."""

    def __init__(self, data_dir: Path, settings: DeliverySettings = FAST) -> None:
        self.data_dir = data_dir
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.sns, self.listener = self.call(lambda: serve(data_dir, settings))
        self.endpoint = self.sns.endpoint

    def call(self, make: Callable[[], Awaitable[T]]) -> T:
        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=60)

    @property
    def store(self) -> Store:
        return self.sns.store

    def client(self) -> Any:
        return boto3.client(
            "sns",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def close(self) -> None:
        async def stop() -> None:
            await self.listener.shutdown(1.0)
            await self.sns.aclose(1.0)
            await self.store.aclose()

        self.call(stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0])

    async def run() -> None:
        _sns, listener = await serve(data_dir, FAST, gate=data_dir / "gate")
        (data_dir / "port").write_text(str(listener.port))
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
