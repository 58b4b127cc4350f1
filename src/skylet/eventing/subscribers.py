"""One try of one delivery: an event to a function or a URI, and what came back.

How a function receives the event depends on its style, as each runtime receives CloudEvents:

- ``lambda``: the event's JSON format document as its ``event`` (``handler(event, context)``);
  returning a CloudEvent document (a dict with ``specversion``) is a reply;
- ``cloudevent`` (Cloud Functions ``function(cloud_event)``) and ``http`` (a Knative or Cloud
  Functions HTTP handler ``function(request)``): an HTTP POST in binary mode, with
  ``Prefer: reply``, as Knative's broker sends it, through the same wire request an HTTP
  route uses; a 200 answer carrying a CloudEvent (``ce-*`` headers or a structured body) is a
  reply;
- ``background``: Cloud Functions' ``(data, context)`` with the event's id, time, type and
  source.

A URI gets the same binary-mode POST. Every try ends in an ``Answer``: the status Knative's
contract classifies (a function's failure is 500, a throttle 429, a missing function 404, no
answer in time ``NO_RESPONSE``), the body (for ``knativeerrordata``) and the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from skylet import fastjson
from skylet.config import FunctionConfig
from skylet.errors import ApiError, SkyletError, TooManyRequests
from skylet.eventing import cloudevent
from skylet.eventing.cloudevent import Event, InvalidEvent
from skylet.eventing.policy import NO_RESPONSE
from skylet.invoker.invoker import Pending
from skylet.invoker.results import InvocationResult
from skylet.wire import http as wire
from skylet.wire.invocation import Deliver, RawOutcome, resolving

log = logging.getLogger(__name__)

#: A URI subscriber's limit on one try when the delivery spec gives none (Knative has none;
#: skylet bounds it so a dead endpoint cannot hold a delivery forever).
URI_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes = b""
    reply: Event | None = None
    detail: str = ""
    #: What a 429 or 503 asked for in ``Retry-After``, in seconds.
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Functions(Protocol):
    """The invoker's side a delivery uses (``Invoker`` conforms)."""

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig: ...

    def start(
        self,
        name: str,
        payload: bytes,
        then: Deliver,
        *,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        request_id: str | None = None,
        http: dict[str, Any] | None = None,
    ) -> Pending: ...

    def finish(self, pending: Pending, outcome: RawOutcome) -> InvocationResult: ...


if TYPE_CHECKING:  # the invoker is what a delivery uses
    from skylet.invoker.invoker import Invoker

    _conforms: type[Functions] = Invoker


def _reply(status: int, headers: list[tuple[str, str]], body: bytes, where: str) -> Event | None:
    try:
        return cloudevent.from_response(status, headers, body)
    except InvalidEvent as error:
        log.warning("%s replied with no valid CloudEvent (dropped): %s", where, error)
        return None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - (time.time() if now is None else now), 0.0)


def _background(event: Mapping[str, Any]) -> bytes:
    data = event.get("data")
    if "data_base64" in event:
        data = event["data_base64"]
    context = {
        "eventId": event["id"],
        "timestamp": event.get("time", ""),
        "eventType": event["type"],
        "resource": event["source"],
    }
    return fastjson.dumps({"data": data, "context": context})


class Sender:
    """Tries deliveries. ``region``/``account`` name the wire request's API (there is none)."""

    def __init__(self, functions: Functions, *, region: str = "", account: str = "") -> None:
        self.functions = functions
        self.region = region
        self.account = account
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def to_function(self, name: str, event: Event, timeout_s: float | None) -> Answer:
        try:
            fn = self.functions.function(name)
        except ApiError as error:
            return Answer(error.status, str(error).encode(), detail=str(error))
        http: dict[str, Any] | None = None
        if fn.style in ("http", "cloudevent"):
            headers, payload = cloudevent.to_binary(event)
            headers.append(("prefer", "reply"))
            http = self._wire(headers)
        elif fn.style == "background":
            payload = _background(event)
        else:
            payload = fastjson.dumps(event)
        future: asyncio.Future[RawOutcome] = asyncio.get_running_loop().create_future()
        try:
            pending = self.functions.start(fn.name, payload, resolving(future), http=http)
        except TooManyRequests as error:
            return Answer(429, str(error).encode(), detail=str(error))
        except ApiError as error:
            return Answer(error.status, str(error).encode(), detail=str(error))
        except SkyletError as error:
            return Answer(503, str(error).encode(), detail=str(error))
        try:
            if timeout_s is None:  # the function's own timeout bounds it: most deliveries
                outcome = await future
            else:
                outcome = await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            # The invocation runs on; its outcome is recorded by the invoker when it ends.
            future.add_done_callback(lambda f: self._finish_late(pending, f))
            return Answer(NO_RESPONSE, detail=f"no answer within {timeout_s} s")
        try:
            result = self.functions.finish(pending, outcome)
        except ApiError as error:  # a payload the instance refused to read
            return Answer(400, str(error).encode(), detail=str(error))
        if result.function_error is not None:
            return Answer(500, result.payload, detail=f"function error: {result.payload[:200]!r}")
        if http is None:
            return self._lambda_answer(fn.name, result.payload)
        response = outcome.response
        if response is None:
            return Answer(502, outcome.malformed.encode(), detail=outcome.malformed)
        pairs = wire.header_pairs(response.block)
        reply = _reply(response.status, pairs, response.body, f"function {fn.name}")
        return Answer(response.status, response.body, reply)

    def _finish_late(self, pending: Pending, future: asyncio.Future[RawOutcome]) -> None:
        if not future.cancelled():
            with contextlib.suppress(SkyletError):
                self.functions.finish(pending, future.result())

    def _lambda_answer(self, name: str, payload: bytes) -> Answer:
        reply = None
        if payload.startswith(b"{") and b"specversion" in payload:
            try:
                document = fastjson.loads(payload)
                cloudevent.validate(document)
                reply = document
            except (ValueError, InvalidEvent) as error:
                log.warning("function %s returned no valid CloudEvent (dropped): %s", name, error)
        return Answer(200, payload, reply)

    def _wire(self, headers: list[tuple[str, str]]) -> dict[str, Any]:
        request = wire.Request(
            method="POST",
            raw_path="/",
            path="/",
            query="",
            headers=headers,
            client_ip=None,
            server=None,
            received_at=time.time(),
            http_version="1.1",
            scheme="http",
        )
        trigger = wire.Trigger(
            kind="function",
            route_key="$default",
            resource="/",
            raw_path_parameters={},
            strip_prefix="",
            account_id=self.account,
            region=self.region,
            api_id="",
            stage="",
            binary_media_types=None,
            request_id="",
        )
        return wire.encode(request, trigger)

    async def to_uri(
        self, uri: str, event: Event, timeout_s: float | None, *, structured: bool = False
    ) -> Answer:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        if structured:
            headers = [("content-type", cloudevent.STRUCTURED)]
            body = cloudevent.to_structured(event)
        else:
            headers, body = cloudevent.to_binary(event)
        headers.append(("prefer", "reply"))
        try:
            response = await self._client.post(
                uri, content=body, headers=headers, timeout=timeout_s or URI_TIMEOUT_S
            )
        except (httpx.HTTPError, OSError) as error:
            return Answer(NO_RESPONSE, repr(error).encode(), detail=f"{uri}: {error!r}")
        pairs = list(response.headers.multi_items())
        if response.status_code in (429, 503):
            return Answer(
                response.status_code,
                response.content,
                retry_after_s=retry_after(response.headers.get("retry-after")),
            )
        return Answer(
            response.status_code,
            response.content,
            _reply(response.status_code, pairs, response.content, uri),
        )
