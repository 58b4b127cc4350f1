"""The Lambda Invoke API: ``POST /2015-03-31/functions/{name}/invocations``.

Hand-written on raw ASGI because it is the hot path: one header scan, one body read, one call
into the invoker, one response.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, unquote

from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.aws.errors import json_error
from skylet.errors import ApiError, InvalidParameterValue, InvalidRequestContent, RequestTooLarge
from skylet.events.async_invoke import MAX_EVENT_PAYLOAD_BYTES, AsyncInvoker
from skylet.ids import new_request_id
from skylet.invoker.invoker import Invoker

PREFIX = "/2015-03-31/functions/"
MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024
_JSON = (b"content-type", b"application/json")


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """Name and qualifier from any form Lambda accepts: ``name``, ``name:qual``,
    ``123456789012:function:name[:qual]`` and ``arn:aws:lambda:region:acct:function:name[:qual]``.
    """
    parts = raw.split(":")
    if parts[0] == "arn":
        if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{raw}' at 'functionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern"
            )
        return parts[6], parts[7] if len(parts) == 8 else None
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], parts[3] if len(parts) == 4 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return raw, None


class LambdaApi:
    """``async_invoker`` takes ``InvocationType: Event``; without it (no store) Event is refused."""

    def __init__(self, invoker: Invoker, async_invoker: AsyncInvoker | None = None) -> None:
        self.invoker = invoker
        self.async_invoker = async_invoker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        try:
            await self._invoke(scope, receive, send, request_id)
        except ApiError as error:
            status, body, headers = json_error(error, request_id)
            await respond(send, status, body, headers)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        path: str = scope["path"]
        if scope["method"] != "POST" or not path.endswith("/invocations"):
            raise InvalidParameterValue(f"Unsupported operation: {scope['method']} {path}")
        name, qualifier = parse_function_name(unquote(path[len(PREFIX) : -len("/invocations")]))
        query = scope.get("query_string", b"")
        if query:
            values = parse_qs(query.decode("latin-1")).get("Qualifier")
            if values:
                qualifier = values[0]
        invocation_type = "RequestResponse"
        log_type = None
        client_context: dict[str, Any] | None = None
        for key, value in scope["headers"]:
            if key == b"x-amz-invocation-type":
                invocation_type = value.decode()
            elif key == b"x-amz-log-type":
                log_type = value.decode()
            elif key == b"x-amz-client-context":
                client_context = _client_context(value)
        limit = MAX_EVENT_PAYLOAD_BYTES if invocation_type == "Event" else MAX_SYNC_REQUEST_BYTES
        try:
            payload = await read_body(scope, receive, limit)
        except BodyTooLarge as exc:
            raise RequestTooLarge(
                f"{exc.size} byte payload is too large for the {invocation_type} invocation type "
                f"(limit {limit} bytes)"
            ) from None
        self.invoker.function(name)  # 404 for an unknown function, even for a dry run
        if invocation_type == "DryRun":
            await respond(send, 204, b"", [(b"x-amzn-requestid", request_id.encode())])
            return
        if invocation_type == "Event":
            if self.async_invoker is None:
                raise InvalidParameterValue(
                    "InvocationType Event needs skylet's durable store, which is not configured"
                )
            # 202 with an empty body once the event is durable, as Lambda (and boto3) expect.
            request_id = await self.async_invoker.enqueue(name, payload, qualifier=qualifier)
            await respond(send, 202, b"", [(b"x-amzn-requestid", request_id.encode())])
            return
        if invocation_type != "RequestResponse":
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]"
            )
        result = await self.invoker.invoke(
            name,
            payload,
            qualifier=qualifier,
            client_context=client_context,
            request_id=request_id,
        )
        headers = [
            _JSON,
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amz-executed-version", result.executed_version.encode()),
        ]
        if result.function_error:
            headers.append((b"x-amz-function-error", result.function_error.encode()))
        if log_type == "Tail":
            headers.append((b"x-amz-log-result", result.log_tail_b64().encode()))
        await respond(send, 200, result.payload, headers)


def _client_context(raw: bytes) -> dict[str, Any]:
    """X-Amz-Client-Context: base64 of a JSON object, at most 3583 bytes encoded."""
    try:
        decoded = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if not isinstance(decoded, dict):
        raise InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
    return decoded
