"""The Lambda API: Invoke (``POST /2015-03-31/functions/{name}/invocations``) and, through
``LambdaControl``, the control plane; every request enters through ``LambdaApi.__call__``.

Invoke is hand-written on raw ASGI because it is the hot path: one header scan, one body read,
one call into the invoker, one response. Its parameters are checked as Lambda checks them
(``ValidationException`` for a value its model refuses); the payload is checked where it is
read, by ``fastjson.parse_event``: by the Event path before it is queued, by the instance on
the synchronous path (the invoker answers ``InvalidRequestContentException`` for it).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, unquote

from skylet import arns
from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.aws import lambda_routes
from skylet.aws.auth import Authenticator
from skylet.aws.errors import json_error
from skylet.aws.lambda_control import LambdaControl
from skylet.aws.lambda_names import check_enum, parse_function_name
from skylet.errors import (
    AccessDenied,
    ApiError,
    InvalidParameterValue,
    InvalidRequestContent,
    NotImplementedOperation,
    RequestTooLarge,
)
from skylet.events.async_invoke import MAX_EVENT_PAYLOAD_BYTES, AsyncInvoker
from skylet.ids import new_request_id
from skylet.invoker.invoker import Invoker

PREFIX = "/2015-03-31/functions/"
MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024
#: Lambda's limit on X-Amz-Client-Context: the JSON, once base64-decoded.
MAX_CLIENT_CONTEXT_BYTES = 3583
INVOCATION_TYPES = ("DryRun", "RequestResponse", "Event")
LOG_TYPES = ("Tail", "None")
_JSON = (b"content-type", b"application/json")


def is_invoke(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "POST" and path.startswith(PREFIX) and path.endswith("/invocations")


class LambdaApi:
    """The whole Lambda API: Invoke (here, the hot path) and the control plane (``control``;
    without it, every other operation is refused). ``async_invoker`` takes ``InvocationType:
    Event``; without it (no store) Event is refused. ``auth`` checks every request's signature
    (without it, none is checked: for tests of the API alone)."""

    def __init__(
        self,
        invoker: Invoker,
        async_invoker: AsyncInvoker | None = None,
        control: LambdaControl | None = None,
        *,
        auth: Authenticator | None = None,
    ) -> None:
        self.invoker = invoker
        self.async_invoker = async_invoker
        self.control = control
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The one door of the Lambda API: every request's signature is checked here, its body
        # (at most the largest payload Invoke takes) hashed into it when it is signed.
        request_id = new_request_id()
        try:
            if self.auth is not None:
                try:
                    admitted = await self.auth.admit(
                        scope, receive, "lambda", limit=MAX_SYNC_REQUEST_BYTES
                    )
                except BodyTooLarge as exc:
                    raise RequestTooLarge(
                        f"{exc.size} byte payload is too large (limit {MAX_SYNC_REQUEST_BYTES} "
                        "bytes)"
                    ) from None
                receive = admitted.receive
                if admitted.verified is not None and admitted.verified.function is not None:
                    self._check_function_principal(scope, admitted.verified.function)
            if is_invoke(scope):
                await self._invoke(scope, receive, send, request_id)
            elif self.control is not None:
                await self.control(scope, receive, send, request_id)
            else:
                raise NotImplementedOperation(
                    f"Only Invoke is served here: {scope['method']} {scope['path']}"
                )
        except ApiError as error:
            status, body, headers = json_error(error, request_id)
            await respond(send, status, body, headers)

    def _check_function_principal(self, scope: Scope, function: str) -> None:
        """A function signing with its own credentials invokes functions and reads the control
        plane; it changes nothing there (versions, aliases, event source mappings), as a
        Lambda execution role without those permissions may not."""
        if scope["method"] == "GET" or is_invoke(scope):
            return
        found = lambda_routes.match(scope["method"], scope["path"])
        action = found.operation if found is not None else "Admin"
        who = arns.assumed_role(function, account=self.invoker.settings.account_id).arn
        raise AccessDenied(
            f"User: {who} is not authorized to perform: lambda:{action} because no "
            "identity-based policy allows the action"
        )

    async def _invoke(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        path: str = scope["path"]
        query = scope.get("query_string", b"")
        qualifier = None
        if query:
            values = parse_qs(query.decode("latin-1")).get("Qualifier")
            if values:
                qualifier = values[0]
        name, qualifier = parse_function_name(
            unquote(path[len(PREFIX) : -len("/invocations")]),
            self.invoker.settings,
            qualifier=qualifier,
            region=self.invoker.region,
        )
        invocation_type = "RequestResponse"
        log_type = None
        client_context: dict[str, Any] | None = None
        for key, value in scope["headers"]:
            if key == b"x-amz-invocation-type":
                invocation_type = check_enum(
                    "invocationType", value.decode("latin-1"), INVOCATION_TYPES
                )
            elif key == b"x-amz-log-type":
                log_type = check_enum("logType", value.decode("latin-1"), LOG_TYPES)
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
        if invocation_type == "DryRun":
            # 404 for an unknown function, version or alias (Event and RequestResponse find
            # the function themselves, once).
            self.invoker.function(name, qualifier)
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
    """X-Amz-Client-Context: base64 of a JSON object of at most 3583 bytes."""
    try:
        text = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if len(text) > MAX_CLIENT_CONTEXT_BYTES:
        raise InvalidRequestContent(
            f"Client context must be at most {MAX_CLIENT_CONTEXT_BYTES} bytes of JSON once "
            f"Base64-decoded; got {len(text)} bytes."
        )
    try:
        decoded = json.loads(text)
    except ValueError:
        raise InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if not isinstance(decoded, dict):
        raise InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
    return decoded
