"""The narrow interfaces SNS delivers through, declared where they are used.

- ``QueueSink`` sends to an SQS subscriber's queue (the SQS service binds it);
- ``Functions`` queues an asynchronous invocation (``AsyncInvoker``) and finds a function's
  style (``Invoker``), as Lambda's SNS trigger is asynchronous;
- ``HttpPoster`` POSTs to an HTTP/S endpoint (httpx in production; tests may pass another).

How a failure counts (``client_side``): SNS does not retry *client-side* errors (the queue or
function is gone, the request is refused) and sends them to the dead-letter queue at once;
*server-side* errors (unavailable, throttled, 5xx, no answer) are retried by the policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx

from skylet.config import FunctionConfig
from skylet.errors import ApiError, TooManyRequests

#: SNS waits this long for an HTTP/S endpoint to answer.
HTTP_TIMEOUT_S = 15.0


class QueueSink(Protocol):
    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None:
        """Send one message to the queue ``queue_arn``. ``attributes`` are SQS message
        attributes as SendMessage takes them (``{"DataType", "StringValue" | "BinaryValue"}``);
        ``group_id`` and ``dedup_id`` are for a FIFO queue. Raises ``ResourceNotFound`` when
        the queue does not exist, a ``PlatformError`` when it cannot be reached."""
        ...


class Functions(Protocol):
    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig: ...

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]: ...


class FunctionLookup(Protocol):
    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig: ...


class FunctionEnqueuer(Protocol):
    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]: ...


class InvokerFunctions:
    """``Functions`` from the invoker (the lookup) and the async invoker (the queue)."""

    def __init__(self, lookup: FunctionLookup, enqueuer: FunctionEnqueuer) -> None:
        self._lookup = lookup
        self._enqueuer = enqueuer

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        return self._lookup.function(name, qualifier)

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]:
        return await self._enqueuer.enqueue_batch(function, payloads, qualifier=qualifier)


class HttpPoster(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST and return the status; raise ``OSError`` (or ``httpx.HTTPError``) when the
        endpoint cannot be reached or does not answer in time."""
        ...


class HttpxPoster:
    """``HttpPoster`` over one httpx client (connections kept alive between deliveries)."""

    def __init__(self, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        response = await self._client.post(url, content=body, headers=dict(headers))
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()


def client_side(error: Exception) -> bool:
    """Whether a delivery failure is the client's (not retried) rather than the server's."""
    if isinstance(error, TooManyRequests):
        return False
    return isinstance(error, ApiError) and error.status < 500


def http_client_side(status: int) -> bool:
    """SNS retries 5xx and 429 answers; other non-2xx answers are the endpoint refusing."""
    return status < 500 and status != 429
