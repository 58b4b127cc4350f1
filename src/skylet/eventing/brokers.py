"""Brokers: the ingress that takes CloudEvents, and publishing into a broker.

    POST /_skylet/brokers/NAME               (the broker NAME)
    POST /_skylet/brokers/NAMESPACE/NAME     (Knative's /NAMESPACE/NAME, under skylet's prefix)

A request carries one CloudEvent in binary or structured mode (skylet.eventing.cloudevent).
The answer is **202** once one delivery per matching trigger is durable in the store (an event
no trigger matches is dropped, as Knative drops it, and answered 202 too); **400** with the
reason for anything that is not a valid CloudEvent, batched mode included; 404 for a broker
that does not exist; 405 for a method other than POST; 413 past ``MAX_EVENT_BYTES``; 503 when
the store cannot take the event. Bodies of refusals are plain text.

As Knative's broker does, the ingress adds ``knativearrivaltime`` and a ``knativebrokerttl`` of
255 to an event without one; a subscriber does not see the TTL, and its reply goes back in with
the TTL less one, so a loop of replies ends after 255 hops. Nothing here waits on a function:
deliveries run in skylet.eventing.deliveries.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from skylet import fastjson
from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.errors import ResourceNotFound, SkyletError
from skylet.eventing.cloudevent import Event, InvalidEvent, from_http
from skylet.eventing.topology import EMPTY, Topology
from skylet.events.batching import Coalescer
from skylet.observe.trace_context import CURRENT
from skylet.store.base import QueueStore
from skylet.store.types import MAX_RETENTION_S, SendEntry

log = logging.getLogger(__name__)

PREFIX = "/_skylet/brokers/"
DELIVERIES = "skylet:broker:deliveries"
MAX_EVENT_BYTES = 1 << 20
TTL = "knativebrokerttl"
#: CloudEvents' distributed-tracing extension: the W3C trace context of the event's publisher.
TRACEPARENT = "traceparent"
DEFAULT_TTL = 255
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


def is_broker_path(path: str) -> bool:
    return path.startswith(PREFIX)


#: A pack holds at most this many deliveries, and this many bytes unless one job alone is more.
MAX_PACK_JOBS = 100
MAX_PACK_BYTES = 1 << 20


def job(trigger: str, event: Event, *, dead: bool = False, tries: int = 0) -> dict[str, Any]:
    """One delivery: its trigger, the event, whether it goes to the dead-letter sink, and
    the tries it had before."""
    return {"t": trigger, "e": event, "d": dead, "n": tries}


def packs(jobs: Sequence[dict[str, Any]]) -> list[bytes]:
    """Store messages for ``jobs``: JSON arrays of at most MAX_PACK_JOBS / MAX_PACK_BYTES.
    Every store operation is a row: paid per pack, not per event, it leaves the time to the
    functions (bench/broker.py)."""
    out: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for item in jobs:
        encoded = fastjson.dumps(item)
        if current and (len(current) >= MAX_PACK_JOBS or size + len(encoded) > MAX_PACK_BYTES):
            out.append(b"[" + b",".join(current) + b"]")
            current, size = [], 0
        current.append(encoded)
        size += len(encoded) + 1
    if current:
        out.append(b"[" + b",".join(current) + b"]")
    return out


def unpack(body: bytes) -> list[dict[str, Any]]:
    jobs = fastjson.loads(body)
    return jobs if isinstance(jobs, list) else [jobs]


class Brokers:
    """Publishing into brokers; the ingress is its ASGI ``__call__``. Built without I/O."""

    def __init__(self, store: QueueStore, *, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.topology: Topology = EMPTY
        self._now = now
        self._sends: Coalescer[str, dict[str, Any], None] = Coalescer(self._send)
        #: Events accepted, and deliveries stored, since start.
        self.accepted = 0
        self.stored = 0

    async def start(self) -> None:
        await self.store.create_queue(
            DELIVERIES, visibility_timeout_s=60.0, retention_s=MAX_RETENTION_S
        )

    async def aclose(self) -> None:
        await self._sends.aclose()

    def deploy(self, topology: Topology) -> None:
        self.topology = topology

    async def _send(self, queue: str, jobs: list[dict[str, Any]]) -> list[None]:
        """The jobs of every publish of one store round trip, in packs, in one transaction."""
        await self.store.send_batch(queue, [SendEntry(body) for body in packs(jobs)])
        return [None] * len(jobs)

    async def publish(self, broker: str, event: Event, *, ttl: int | None = None) -> int:
        """Store one delivery per trigger of ``broker`` that ``event`` matches; return how many
        (0: none matched, or the TTL ran out). Durable when it returns. ``ttl`` sets
        ``knativebrokerttl`` (a reply's: its cause's less one). ResourceNotFound for a broker
        that does not exist; a StoreError when the store cannot take them."""
        topology = self.topology
        if broker not in topology.brokers:
            raise ResourceNotFound(f"broker {broker!r} does not exist")
        self.accepted += 1
        if ttl is not None:
            event[TTL] = ttl
        else:
            given = event.get(TTL)
            try:
                event[TTL] = DEFAULT_TTL if given is None else int(given)
            except (TypeError, ValueError):
                event[TTL] = DEFAULT_TTL
        if event[TTL] <= 0:
            log.warning(
                "broker %s dropped event %s: its knativebrokerttl ran out", broker, event.get("id")
            )
            return 0
        if "knativearrivaltime" not in event:
            event["knativearrivaltime"] = _rfc3339(self._now())
        if TRACEPARENT not in event:  # the distributed-tracing extension: the publisher's trace
            caller = CURRENT.get()
            if caller is not None:
                event[TRACEPARENT] = caller.traceparent
        matched = topology.matching(broker, event)
        if not matched:
            return 0
        jobs = [job(trigger.name, event) for trigger in matched]
        await self._sends.submit_many(DELIVERIES, jobs)
        self.stored += len(jobs)
        return len(jobs)

    async def enqueue(self, item: dict[str, Any], *, delay_s: float | None = None) -> None:
        """Store one delivery job (a retry, a dead letter, a PingSource's fire), due after
        ``delay_s``; durable when it returns."""
        if delay_s:
            await self.store.send(DELIVERIES, packs([item])[0], delay_s=delay_s)
        else:
            await self._sends.submit(DELIVERIES, item)

    def broker_of(self, path: str) -> str | None:
        """The broker a path names, or None: ``NAME`` or ``NAMESPACE/NAME``."""
        parts = path[len(PREFIX) :].strip("/").split("/")
        brokers = self.topology.brokers
        if len(parts) == 1 and parts[0] in brokers:
            return parts[0]
        if len(parts) == 2 and brokers.get(parts[1]) == parts[0]:
            return parts[1]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        broker = self.broker_of(scope["path"])
        if broker is None:
            await respond(send, 404, b"no such broker\n", _TEXT)
            return
        if scope["method"] != "POST":
            await respond(send, 405, b"a broker takes POST\n", [*_TEXT, (b"allow", b"POST")])
            return
        try:
            body = await read_body(scope, receive, MAX_EVENT_BYTES)
        except BodyTooLarge:
            await respond(
                send, 413, f"an event is at most {MAX_EVENT_BYTES} bytes\n".encode(), _TEXT
            )
            return
        except ConnectionResetError:
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        try:
            event: dict[str, Any] = from_http(headers, body)
        except InvalidEvent as error:
            await respond(send, 400, f"{error}\n".encode(), _TEXT)
            return
        try:
            await self.publish(broker, event)
        except SkyletError as error:
            log.warning("broker %s could not store an event: %s", broker, error)
            await respond(send, 503, b"the event could not be stored; retry later\n", _TEXT)
            return
        await respond(send, 202, b"")


def _rfc3339(epoch_s: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
