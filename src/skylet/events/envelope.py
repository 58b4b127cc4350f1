"""What travels through a function's queue: packs of events, each with its state so far.

A message on ``skylet:async:NAME`` carries a *pack* of up to 100 events (``pack``/``unpack``):
the Event invocations accepted together (one ``enqueue_batch``, or the concurrent ``enqueue``
calls of one store round trip) or the retries due at the same moment. Every queue operation
(send, lease, delete) is a row in the store; at 10,000 events a second, paying for it per
pack rather than per event is what leaves the budget to the functions themselves. A pack is
deleted once every event in it is settled.

Each event keeps its own ``Envelope``: request id, age, tries so far. A retry is a *new* pack
(its ``generation`` grows by one) sent with the retry's delay before the old pack is deleted.
A message received for the second time (``Message.attempts > 1``) was delivered before to a
consumer that may have finished some of its events: the dispatcher checks the invocation
records before running any of them again.

Wire format: ``skylet-events/1\\n`` + a JSON array with one header per event + ``\\n`` + the
payloads, concatenated. Payloads are the caller's bytes, never re-encoded, so a dead-letter
copy is the original event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from skylet.store.types import Message

QUEUE_PREFIX = "skylet:async:"
MAGIC = b"skylet-events/1\n"
MAX_PACK_EVENTS = 100
#: Payloads per pack; one event may pass it alone (events are at most 1 MiB).
MAX_PACK_BYTES = 1 << 20
#: Lambda's DLQ keeps the first kilobyte of an error message; records keep as much.
MAX_ERROR_MESSAGE_CHARS = 1024
#: Failed tries kept per event: every function error (at most 3), or the latest throttles.
MAX_ERRORS_KEPT = 3


def queue_name(function: str) -> str:
    """The store queue of a function's asynchronous invocations. The colon keeps it apart from
    any queue a manifest declares (SQS names allow only letters, digits, ``-`` and ``_``)."""
    return QUEUE_PREFIX + function


@dataclass(frozen=True, slots=True)
class TryError:
    """One failed try: Lambda's ``errorType``, the start of its ``errorMessage``, and the HTTP
    status of the try: 200 when the function ran and failed, 429 when it was throttled, 5xx
    when the platform failed (Lambda's DLQ ``ErrorCode``)."""

    type: str
    message: str
    status: int = 200

    @classmethod
    def of(cls, error_type: str, message: str, status: int = 200) -> TryError:
        return cls(error_type, message[:MAX_ERROR_MESSAGE_CHARS], status)

    def to_json(self) -> dict[str, str | int]:
        return {"type": self.type, "message": self.message, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping[str, str | int]) -> TryError:
        return cls(str(data["type"]), str(data["message"]), int(data.get("status", 200)))


class Envelope(NamedTuple):
    """One event's state between tries.

    ``enqueued_at`` (epoch seconds) is when it was accepted; ``runs``: times the function ran
    it; ``deferrals``: tries that were throttled or failed in the platform; ``errors``: the last
    failed tries (of any kind), oldest first. A named tuple: immutable, and built in half the
    time of a frozen dataclass, twice for every event.
    """

    request_id: str
    function: str
    enqueued_at: float
    qualifier: str | None = None
    generation: int = 0
    runs: int = 0
    deferrals: int = 0
    errors: tuple[TryError, ...] = ()
    #: The caller's W3C ``traceparent`` (docs/tracing.md): every try, and what its
    #: destinations receive, continues that trace.
    trace: str | None = None

    def after_run(self, error: TryError | None) -> Envelope:
        """The envelope once the function ran (and failed with ``error``, if given)."""
        # Built directly: ``_replace`` costs more than the rest of a try's bookkeeping, on the
        # path every event takes.
        return Envelope(
            self.request_id,
            self.function,
            self.enqueued_at,
            self.qualifier,
            self.generation,
            self.runs + 1,
            self.deferrals,
            self._with(error),
            self.trace,
        )

    def after_deferral(self, error: TryError) -> Envelope:
        """The envelope once a try was throttled or failed in the platform."""
        return self._replace(deferrals=self.deferrals + 1, errors=self._with(error))

    def _with(self, error: TryError | None) -> tuple[TryError, ...]:
        return self.errors if error is None else (*self.errors, error)[-MAX_ERRORS_KEPT:]

    def next_generation(self) -> Envelope:
        return self._replace(generation=self.generation + 1)

    def _header(self, size: int) -> list[Any]:
        # A first try needs only its id (its age is the pack's send time); a retry all of it.
        if self.generation == 0:
            first: list[Any] = [self.request_id, size]
            if self.trace is not None:
                return [*first, self.qualifier, self.trace]
            return first if self.qualifier is None else [*first, self.qualifier]
        errors = [[e.type, e.message, e.status] for e in self.errors]
        retry = [
            self.request_id,
            size,
            self.qualifier,
            self.enqueued_at,
            self.generation,
            self.runs,
            self.deferrals,
            errors,
        ]
        return retry if self.trace is None else [*retry, self.trace]


Event = tuple[Envelope, bytes]


def pack(events: Sequence[Event]) -> list[bytes]:
    """Message bodies holding ``events``, in order: at most ``MAX_PACK_EVENTS`` events and
    about ``MAX_PACK_BYTES`` of payload each."""
    bodies: list[bytes] = []
    start = 0
    while start < len(events):
        end, size = start, 0
        while end < len(events) and end - start < MAX_PACK_EVENTS:
            size += len(events[end][1])
            if size > MAX_PACK_BYTES and end > start:
                break
            end += 1
        chunk = events[start:end]
        header = json.dumps([e._header(len(p)) for e, p in chunk], separators=(",", ":"))
        bodies.append(b"".join((MAGIC, header.encode(), b"\n", *(p for _, p in chunk))))
        start = end
    return bodies


def unpack(message: Message, function: str) -> list[Event]:
    """The events of a message from ``function``'s queue; ``ValueError`` if skylet did not
    write it."""
    body = message.body
    try:
        if not body.startswith(MAGIC):
            raise ValueError("no pack header")
        newline = body.index(b"\n", len(MAGIC))
        offset = newline + 1
        events: list[Event] = []
        for header in json.loads(body[len(MAGIC) : newline]):
            request_id, size = header[0], header[1]
            payload = body[offset : offset + size]
            offset += size
            if len(header) <= 4:
                qualifier = header[2] if len(header) >= 3 else None
                trace = header[3] if len(header) == 4 else None
                envelope = Envelope(request_id, function, message.sent_at, qualifier, trace=trace)
            else:
                _, _, qualifier, enqueued_at, generation, runs, deferrals, errors = header[:8]
                trace = header[8] if len(header) > 8 else None
                envelope = Envelope(
                    request_id,
                    function,
                    float(enqueued_at),
                    qualifier,
                    int(generation),
                    int(runs),
                    int(deferrals),
                    tuple(TryError(str(t), str(m), int(s)) for t, m, s in errors),
                    trace,
                )
            events.append((envelope, payload))
        if offset != len(body) or not events:
            raise ValueError("payload sizes do not add up")
        return events
    except (IndexError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a pack of asynchronous invocations: {error}") from error
