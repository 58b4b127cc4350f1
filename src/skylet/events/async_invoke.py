"""Accepting asynchronous invocations (``InvocationType: Event``): check, queue, record.

``AsyncInvoker.enqueue`` is what Lambda's Invoke API does for an Event invocation: it refuses
a payload over 1 MB (``RequestTooLarge``, with AWS's message) or one that is not JSON
(``InvalidRequestContent``), an unknown function or qualifier (``ResourceNotFound``); then it
stores the event durably on the function's queue and appends a ``queued`` record. It returns
the request id only when both are committed, so a 202 means the event survives a crash.

Concurrent calls share store round trips: the events sent to one queue during a round trip
travel together, packed into as few messages as fit (``envelope.pack``), and their records
share one log entry (``Coalescer``); the store's group commit merges what remains.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from skylet.errors import InvalidRequestContent, RequestTooLarge, ResourceNotFound
from skylet.events.batching import Coalescer
from skylet.events.envelope import Envelope, Event, pack, queue_name
from skylet.events.records import AsyncInvocation, RecordBook
from skylet.functions import FunctionConfig
from skylet.store.base import Clock, QueueStore
from skylet.store.types import MAX_RETENTION_S, SendEntry

#: Lambda's limit for an Event invocation's payload.
MAX_EVENT_PAYLOAD_BYTES = 1_048_576
#: The queues' default lease. The dispatcher passes its own on every receive; this stays fixed
#: because every node must create a queue with equal attributes.
QUEUE_VISIBILITY_S = 30.0


class HasFunction(Protocol):
    @property
    def fn(self) -> FunctionConfig: ...


class FunctionLookup(Protocol):
    """Finds a deployed function by any name it answers to (``Invoker.pool``)."""

    def pool(self, name: str) -> HasFunction: ...


def check_event_payload(payload: bytes) -> None:
    """Lambda's checks of an Event payload, before anything is stored."""
    if len(payload) > MAX_EVENT_PAYLOAD_BYTES:
        raise RequestTooLarge(
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {MAX_EVENT_PAYLOAD_BYTES} bytes)"
        )
    if payload.strip():
        try:
            json.loads(payload)
        except ValueError as error:
            raise InvalidRequestContent(
                "Could not parse request body into json: Could not parse payload into json: "
                f"{error}"
            ) from None


class AsyncQueues:
    """Creates each function's queue on first use. ``create_queue`` is idempotent for equal
    attributes, so every node (and the dispatcher) may ensure the same queue."""

    def __init__(self, store: QueueStore) -> None:
        self._store = store
        self._ready: set[str] = set()

    async def ensure(self, function: str) -> str:
        name = queue_name(function)
        if name not in self._ready:
            # Retention at SQS's maximum: an event older than its maximum age must reach the
            # dispatcher to be discarded *to its destination*, not vanish in a purge.
            await self._store.create_queue(
                name, visibility_timeout_s=QUEUE_VISIBILITY_S, retention_s=MAX_RETENTION_S
            )
            self._ready.add(name)
        return name


class AsyncInvoker:
    """Queues Event invocations. Builds without I/O; the store must be started before use."""

    def __init__(
        self,
        store: QueueStore,
        records: RecordBook,
        functions: FunctionLookup,
        *,
        now: Clock = time.time,
        queues: AsyncQueues | None = None,
    ) -> None:
        self._store = store
        self._records = records
        self._functions = functions
        self._now = now
        self.queues = queues or AsyncQueues(store)
        self._sends: Coalescer[str, Event, None] = Coalescer(self._send)

    async def enqueue(self, function: str, payload: bytes, *, qualifier: str | None = None) -> str:
        """Queue one event; return its request id once it is durable."""
        check_event_payload(payload)
        fn = self._function(function, qualifier)
        queue = await self.queues.ensure(fn.name)
        now = self._now()
        envelope = Envelope(str(uuid.uuid4()), fn.name, now, qualifier)
        await self._sends.submit(queue, (envelope, payload))
        await self._records.write([_queued(envelope, now)])
        return envelope.request_id

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]:
        """Queue several events for one function: all are checked first, then stored together.
        Returns their request ids in order."""
        for payload in payloads:
            check_event_payload(payload)
        fn = self._function(function, qualifier)
        queue = await self.queues.ensure(fn.name)
        now = self._now()
        envelopes = [Envelope(str(uuid.uuid4()), fn.name, now, qualifier) for _ in payloads]
        await self._sends.submit_many(queue, list(zip(envelopes, payloads, strict=True)))
        # After the send: a crash in between leaves an event without its "queued" record
        # (the dispatcher's records follow later), never a record of an event that is not there.
        await self._records.write(_queued(envelope, now) for envelope in envelopes)
        return [envelope.request_id for envelope in envelopes]

    def _function(self, name: str, qualifier: str | None) -> FunctionConfig:
        fn = self._functions.pool(name).fn
        if qualifier not in (None, "$LATEST", fn.version):
            raise ResourceNotFound(f"Function not found: {name}:{qualifier}")
        return fn

    async def _send(self, queue: str, events: list[Event]) -> list[None]:
        """One flush of the coalescer: every event submitted meanwhile, in packs, in one
        transaction."""
        await self._store.send_batch(queue, [SendEntry(body) for body in pack(events)])
        return [None] * len(events)

    async def aclose(self) -> None:
        await self._sends.aclose()


def _queued(envelope: Envelope, now: float) -> AsyncInvocation:
    return AsyncInvocation(envelope.request_id, envelope.function, "queued", now, now)
