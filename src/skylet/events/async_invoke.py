"""Accepting asynchronous invocations (``InvocationType: Event``): check, queue, record.

``AsyncInvoker.enqueue`` is what Lambda's Invoke API does for an Event invocation: it refuses
a payload over 1 MB (``RequestTooLarge``, with AWS's message) or one that is not JSON
(``InvalidRequestContent``), an unknown function or qualifier (``ResourceNotFound``, the
invoker's answer); then it stores the event durably on the function's queue and appends a
``queued`` record. It returns the request id only when both are committed, so a 202 means the
event survives a crash.

Concurrent calls share store round trips: the events sent to one function during a flush
travel together in the next one, packed into as few messages as fit (``envelope.pack``), with
their records in one log entry (``Coalescer``); the store's group commit merges what remains.

A store that cannot be reached makes ``enqueue`` (the Invoke API's path) refuse the event with
``ServiceUnavailable``: a 503 ``ServiceException`` in AWS's format, never a 500 or a hang.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from skylet import fastjson
from skylet.config import FunctionConfig
from skylet.errors import (
    InvalidRequestContent,
    RequestTooLarge,
    ServiceUnavailable,
    StoreUnavailable,
)
from skylet.events.batching import Coalescer
from skylet.events.envelope import Envelope, Event, pack, queue_name
from skylet.events.records import RecordBook, snapshot_row
from skylet.ids import UuidPool
from skylet.observe.trace_context import CURRENT
from skylet.store.base import Clock, QueueStore
from skylet.store.types import MAX_RETENTION_S, SendEntry

#: Lambda's limit for an Event invocation's payload.
MAX_EVENT_PAYLOAD_BYTES = 1_048_576
#: The queues' default lease. The dispatcher passes its own on every receive; this stays fixed
#: because every node must create a queue with equal attributes.
QUEUE_VISIBILITY_S = 30.0


class FunctionLookup(Protocol):
    """Finds a deployed function by any name it answers to (``Invoker.function``)."""

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig: ...


def check_event_payload(payload: bytes) -> None:
    """Lambda's checks of an Event payload, before anything is stored: its size, and that it
    is JSON as the instance will read it (``fastjson.parse_event``, the one reading)."""
    if len(payload) > MAX_EVENT_PAYLOAD_BYTES:
        raise RequestTooLarge(
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {MAX_EVENT_PAYLOAD_BYTES} bytes)"
        )
    if payload.strip():
        try:
            fastjson.parse_event(payload)
        except fastjson.NotJson as error:
            raise InvalidRequestContent(str(error)) from None


def _trace() -> str | None:
    """The ``traceparent`` of the request or invocation queueing an event (docs/tracing.md)."""
    caller = CURRENT.get()
    return caller.traceparent if caller is not None else None


class AsyncQueues:
    """Creates each function's queue on first use. ``create_queue`` is idempotent for equal
    attributes, so every node (and the dispatcher) may ensure the same queue."""

    def __init__(self, store: QueueStore) -> None:
        self._store = store
        self._ready: set[str] = set()

    def ready(self, function: str) -> bool:
        """Whether ``ensure`` already created the function's queue (no coroutine needed)."""
        return queue_name(function) in self._ready

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
        self._ids = UuidPool()
        # Keyed by function: one flush sends a batch's packs, then appends its records. (Letting
        # the next batch's send overlap the records cost more CPU per event than it saved.)
        self._accepts: Coalescer[str, Event, None] = Coalescer(self._accept)

    async def enqueue(self, function: str, payload: bytes, *, qualifier: str | None = None) -> str:
        """Queue one event; return its request id once it is durable.

        This is the Invoke API's path, so a store that cannot be reached is refused as
        ``ServiceUnavailable`` (503, Lambda's ``ServiceException``) rather than a platform
        error. Such an event may still have been stored (the store cannot always tell): a
        client that retries may have it run twice, which at-least-once delivery allows.
        """
        check_event_payload(payload)
        fn = self._function(function, qualifier)
        (request_id,) = self._ids.take(1)
        try:
            if not self.queues.ready(fn.name):
                await self.queues.ensure(fn.name)
            envelope = Envelope(request_id, fn.name, self._now(), qualifier, trace=_trace())
            await self._accepts.submit(fn.name, (envelope, payload))
        except StoreUnavailable as error:
            raise ServiceUnavailable(
                f"Could not queue the event: skylet's durable store is unavailable ({error}). "
                "Retry later."
            ) from error
        return request_id

    async def enqueue_batch(
        self, function: str, payloads: Sequence[bytes], *, qualifier: str | None = None
    ) -> list[str]:
        """Queue several events for one function: all are checked first, then stored together.
        Returns their request ids in order. A store failure is raised as it is
        (``StoreUnavailable``): the callers (destinations) try again."""
        for payload in payloads:
            check_event_payload(payload)
        fn = self._function(function, qualifier)
        await self.queues.ensure(fn.name)
        now = self._now()
        ids = self._ids.take(len(payloads))
        name = fn.name
        trace = _trace()
        events = [
            (Envelope(request_id, name, now, qualifier, trace=trace), payload)
            for request_id, payload in zip(ids, payloads, strict=True)
        ]
        await self._accepts.submit_many(name, events)
        return ids

    def _function(self, name: str, qualifier: str | None) -> FunctionConfig:
        return self._functions.function(name, qualifier)

    async def _accept(self, function: str, events: list[Event]) -> list[None]:
        """One flush of the coalescer: every event submitted meanwhile, in packs, in one
        transaction; then their ``queued`` records, in one log entry."""
        await self._store.send_batch(
            queue_name(function), [SendEntry(body) for body in pack(events)]
        )
        # After the send: a crash in between leaves an event without its "queued" record
        # (the dispatcher's records follow later), never a record of an event that is not there.
        rows = [
            snapshot_row(e.request_id, "queued", e.enqueued_at, e.enqueued_at) for e, _ in events
        ]
        await self._records.write_rows(function, rows)
        return [None] * len(events)

    async def aclose(self) -> None:
        """Wait for every event accepted so far to be stored and recorded."""
        await self._accepts.aclose()
