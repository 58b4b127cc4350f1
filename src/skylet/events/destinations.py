"""Where finished events go: destination records and dead-letter messages, in Lambda's formats.

A **destination** receives an *invocation record* (``invocation_record``), the JSON document
AWS documents under "Capturing records of Lambda asynchronous invocations"::

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId": …, "functionArn": "arn:…:function:NAME:$LATEST",
                        "condition": "Success" | "RetriesExhausted" | "EventAgeExceeded",
                        "approximateInvokeCount": 3},
     "requestPayload": <the event>,
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},          (only after a function error)
     "responsePayload": <what the function returned, or its error document>}

A queue destination gets it as the message body, a function destination as its event (an
asynchronous invocation), a topic as the published message. A **dead-letter queue** gets the
original event bytes, with the attributes ``RequestID``, ``ErrorCode`` (the HTTP status of the
last try: 200 when the function ran and failed) and ``ErrorMessage`` (its first kilobyte).

When the function never ran (every try was throttled, or the event expired in the queue),
``statusCode`` is that of the last try (429 throttled, 500 platform failure) and the payload its
error document; an event that was never tried at all has ``statusCode`` 500 and a ``null``
payload. AWS does not document these cases; this is skylet's choice.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from skylet.config import Destination
from skylet.errors import ApiError, ResourceNotFound
from skylet.events.async_invoke import check_event_payload
from skylet.events.envelope import MAX_ERROR_MESSAGE_CHARS, TryError
from skylet.events.retry import Condition
from skylet.observe.trace_context import CURRENT, TraceContext, parse_traceparent
from skylet.store.base import QueueStore
from skylet.store.types import TRACE_ATTRIBUTE, SendEntry


class Response(NamedTuple):
    """The outcome of an event's last try, as the record's ``responseContext`` shows it. One
    per event: a named tuple."""

    status_code: int
    function_error: str | None
    payload: bytes | None  # JSON, or None when there is nothing to show
    executed_version: str = "$LATEST"

    @classmethod
    def of_error(cls, error: TryError | None) -> Response:
        """The response a record shows for a failed try that left only its error."""
        if error is None:
            return cls(500, None, None)
        document = {"errorMessage": error.message, "errorType": error.type}
        function_error = "Unhandled" if error.status == 200 else None
        return cls(error.status, function_error, json.dumps(document).encode())


def iso_timestamp(epoch_s: float) -> str:
    """``2019-11-14T18:16:05.568Z``: UTC with milliseconds, as Lambda writes it."""
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_or_text(raw: bytes | None, empty: Any) -> Any:
    if raw is None:
        return None
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: Condition,
    invoke_count: int,
    request_payload: bytes,
    response: Response,
    executed_version: str,
    timestamp: float,
) -> dict[str, Any]:
    """Lambda's invocation record. ``function_arn`` includes the qualifier (``…:$LATEST``)."""
    response_context: dict[str, Any] = {
        "statusCode": response.status_code,
        "executedVersion": executed_version,
    }
    if response.function_error is not None:
        response_context["functionError"] = response.function_error
    return {
        "version": "1.0",
        "timestamp": iso_timestamp(timestamp),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        # The worker runs an empty payload as {}; the record shows what the function saw.
        "requestPayload": _json_or_text(request_payload, {}),
        "responseContext": response_context,
        "responsePayload": _json_or_text(response.payload, None),
    }


def dead_letter_attributes(request_id: str, response: Response) -> dict[str, str]:
    """The attributes Lambda puts on a dead-letter message."""
    message = ""
    document = _json_or_text(response.payload, None)
    if isinstance(document, dict):
        message = str(document.get("errorMessage", ""))
    return {
        "RequestID": request_id,
        "ErrorCode": str(response.status_code),
        "ErrorMessage": message[:MAX_ERROR_MESSAGE_CHARS],
    }


class TopicPublisher(Protocol):
    """Publishes to a topic (topics arrive with the SNS-like event sources)."""

    async def publish(self, topic: str, message: bytes, attributes: Mapping[str, str]) -> None: ...


class FunctionEnqueuer(Protocol):
    """Queues Event invocations (``AsyncInvoker``)."""

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    destination: Destination
    body: bytes
    attributes: Mapping[str, str] | None = None
    #: The event's ``traceparent``: the record continues its trace (docs/tracing.md).
    trace: str | None = None


class Deliverer:
    """Sends deliveries, one store call per destination.

    ``deliver`` returns, per delivery, ``None`` or why it could not be delivered (a missing
    queue or function, a record over the 1 MB event limit, no topic publisher): Lambda counts
    those as ``DestinationDeliveryFailures`` and drops the record. Platform failures (the store
    is down) raise instead, so the caller can try the whole batch again.
    """

    def __init__(
        self,
        store: QueueStore,
        functions: FunctionEnqueuer,
        topics: TopicPublisher | None = None,
    ) -> None:
        self._store = store
        self._functions = functions
        self._topics = topics

    async def deliver(self, deliveries: Sequence[Delivery]) -> list[str | None]:
        results: list[str | None] = [None] * len(deliveries)
        groups: dict[tuple[Destination, str | None], list[int]] = {}
        for index, delivery in enumerate(deliveries):
            if delivery.destination.kind == "function":
                # One oversized record must not fail the others sent in the same batch.
                try:
                    check_event_payload(delivery.body)
                except ApiError as error:
                    results[index] = f"{delivery.destination}: {error.message}"
                    continue
            groups.setdefault((delivery.destination, delivery.trace), []).append(index)
        for (destination, trace), indexes in groups.items():
            # What the send makes (a queue's AWSTraceHeader, an event) continues the trace.
            token = CURRENT.set(parse_traceparent(trace))
            try:
                await self._send(destination, [deliveries[i] for i in indexes])
            except ApiError as error:
                for i in indexes:
                    results[i] = f"{destination}: {error.message}"
            finally:
                CURRENT.reset(token)
        return results

    async def _send(self, destination: Destination, deliveries: list[Delivery]) -> None:
        if destination.kind == "queue":
            # The message continues the event's trace: its AWSTraceHeader (CURRENT is set).
            caller = CURRENT.get()
            entries = [
                SendEntry(d.body, attributes=_traced(d.attributes, caller)) for d in deliveries
            ]
            await self._store.send_batch(destination.name, entries)
        elif destination.kind == "function":
            await self._functions.enqueue_batch(
                destination.name, [d.body for d in deliveries], qualifier=destination.qualifier
            )
        elif self._topics is None:
            raise ResourceNotFound(f"no topic publisher is configured for {destination}")
        else:
            for delivery in deliveries:
                await self._topics.publish(
                    destination.name, delivery.body, delivery.attributes or {}
                )


def _traced(
    attributes: Mapping[str, str] | None, caller: TraceContext | None
) -> Mapping[str, str] | None:
    if caller is None:
        return attributes
    return {**(attributes or {}), TRACE_ATTRIBUTE: caller.xray}
