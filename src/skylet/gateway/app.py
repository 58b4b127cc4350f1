"""The ASGI application: dispatch by path to the APIs skylet serves."""

from __future__ import annotations

import json

from skylet.events.async_invoke import AsyncInvoker
from skylet.events.records import RecordBook
from skylet.gateway.admin import PREFIX as ADMIN_PREFIX
from skylet.gateway.admin import AdminApi
from skylet.gateway.asgi import Receive, Scope, Send, respond
from skylet.gateway.lambda_api import PREFIX as LAMBDA_PREFIX
from skylet.gateway.lambda_api import LambdaApi
from skylet.invoker.invoker import Invoker


class Gateway:
    """Routes requests; lifespan events are answered so any ASGI server can host it."""

    def __init__(
        self,
        invoker: Invoker,
        async_invoker: AsyncInvoker | None = None,
        records: RecordBook | None = None,
    ) -> None:
        self.invoker = invoker
        self.lambda_api = LambdaApi(invoker, async_invoker)
        self.admin_api = AdminApi(invoker, records)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(LAMBDA_PREFIX):
                await self.lambda_api(scope, receive, send)
            elif path.startswith(ADMIN_PREFIX):
                await self.admin_api(scope, receive, send)
            elif path == "/health":
                await respond(
                    send, 200, b'{"status":"ok"}', [(b"content-type", b"application/json")]
                )
            else:
                body = json.dumps({"message": f"No route for {scope['method']} {path}"}).encode()
                await respond(send, 404, body, [(b"content-type", b"application/json")])
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
