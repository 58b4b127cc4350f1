"""``skylet.eventbus``: an event bus for functions and programs, stdlib only.

In process (the default), it is the seed's event bus: handlers subscribe to an event type,
``publish`` runs every handler of the event's type concurrently (threads for plain functions,
the running loop for coroutines), waits for all of them, and reports::

    from skylet.eventbus import Event, EventBus, EventBusError

    bus = EventBus()
    bus.subscribe("order.created", lambda event: print("order", event.data))
    bus.subscribe("order.created", reserve_stock)
    bus.publish(Event(type="order.created", source="api-service", data={"order_id": "ORD-001"}))

- an event type nobody subscribed to raises ``EventBusError("no handlers for event type:
  order.created")``;
- handlers that raise are all waited for, then ``EventBusError("event processing errors:
  [...]")`` carries every error in ``errors`` (the others ran to the end).

With a running skylet, ``EventBus(endpoint=URL)`` publishes to a broker instead, durably: the
event goes as a structured CloudEvent (``id``, ``type``, ``source``, ``time`` from the
timestamp, ``data``, and each ``metadata`` entry as an extension attribute) and ``publish``
returns once the broker answered 202 (the event is in the store). The broker's triggers are
its subscribers there, so ``subscribe`` refuses. ``EventBus.from_environment()`` picks the
mode: ``SKYLET_EVENT_BUS`` set to a broker URL, or to a broker name (then at
``AWS_ENDPOINT_URL``, which skylet gives every function, or ``SKYLET_ENDPOINT``), means the
broker; unset means in process.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
import os
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["Event"], Awaitable[None] | None]
_EXTENSION = re.compile(r"^[a-z0-9]{1,20}$")
#: Names a metadata entry cannot take: the CloudEvent's own attributes.
_RESERVED = frozenset(
    {
        "id",
        "type",
        "source",
        "specversion",
        "time",
        "data",
        "data_base64",
        "subject",
        "datacontenttype",
        "dataschema",
    }
)
DEFAULT_TIMEOUT_S = 10.0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Event:
    """The seed's event: ``id`` (a UUID unless given), ``type``, ``source``, ``data``,
    ``metadata`` (strings), ``timestamp`` (now, in UTC, unless given)."""

    type: str
    data: Any = None
    source: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    metadata: dict[str, str] = field(default_factory=dict)
    timestamp: datetime.datetime = field(default_factory=_now)

    def cloud_event(self) -> dict[str, Any]:
        """The event as a CloudEvents 1.0 JSON document (what a broker receives)."""
        document: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source or "skylet.eventbus",
            "time": self.timestamp.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": self.data,
        }
        for name, value in self.metadata.items():
            if not _EXTENSION.match(name) or name in _RESERVED:
                raise EventBusError(
                    f"metadata key {name!r} cannot be a CloudEvent extension "
                    "(allowed: 1-20 lower-case letters and digits, not an attribute's name)"
                )
            document[name] = str(value)
        return document


class EventBusError(Exception):
    """What ``publish`` reports; ``errors`` holds the handlers' exceptions, if that is why."""

    def __init__(self, message: str, errors: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class EventBus:
    """In process without ``endpoint``; with it, a broker's ingress URL."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_workers: int = 32,
    ) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> EventBus:
        env = os.environ if env is None else env
        target = env.get("SKYLET_EVENT_BUS", "")
        if not target:
            return cls()
        if target.startswith(("http://", "https://")):
            return cls(target)
        base = env.get("AWS_ENDPOINT_URL") or env.get("SKYLET_ENDPOINT") or "http://127.0.0.1:9000"
        return cls(f"{base.rstrip('/')}/_skylet/brokers/{target}")

    def subscribe(self, event_type: str, handler: Handler) -> None:
        if self.endpoint is not None:
            raise EventBusError(
                "this bus publishes to a broker: subscribe with a trigger on it "
                "(docs/eventing.md), not in process"
            )
        with self._lock:
            self._handlers.setdefault(event_type, []).append(handler)

    def publish(self, event: Event) -> None:
        """Deliver ``event``: to every handler of its type (in process), or to the broker.
        Blocks until done; raises ``EventBusError`` as the module docstring says. Call
        ``publish_async`` from a coroutine instead."""
        if self.endpoint is not None:
            self._post(event)
            return
        handlers = self._of(event.type)
        if any(inspect.iscoroutinefunction(h) for h in handlers):
            asyncio.run(self._run_async(handlers, event))
            return
        pool = self._executor()
        futures = [pool.submit(handler, event) for handler in handlers]
        errors = [f.exception() for f in futures]
        self._raise([e for e in errors if e is not None])

    async def publish_async(self, event: Event) -> None:
        if self.endpoint is not None:
            await asyncio.to_thread(self._post, event)
            return
        await self._run_async(self._of(event.type), event)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _of(self, event_type: str) -> list[Handler]:
        with self._lock:
            handlers = list(self._handlers.get(event_type, ()))
        if not handlers:
            raise EventBusError(f"no handlers for event type: {event_type}")
        return handlers

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_workers, "eventbus")
            return self._pool

    async def _run_async(self, handlers: list[Handler], event: Event) -> None:
        async def run(handler: Handler) -> None:
            if inspect.iscoroutinefunction(handler):
                await handler(event)
            else:
                await asyncio.to_thread(handler, event)

        results = await asyncio.gather(*(run(h) for h in handlers), return_exceptions=True)
        self._raise([r for r in results if isinstance(r, BaseException)])

    @staticmethod
    def _raise(errors: list[BaseException]) -> None:
        if errors:
            listed = ", ".join(f"{type(e).__name__}: {e}" for e in errors)
            raise EventBusError(f"event processing errors: [{listed}]", errors)

    def _post(self, event: Event) -> None:
        assert self.endpoint is not None
        body = json.dumps(event.cloud_event()).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={"content-type": "application/cloudevents+json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            reason = error.read().decode(errors="replace").strip()
            raise EventBusError(f"the broker refused the event ({error.code}): {reason}") from None
        except (urllib.error.URLError, OSError) as error:
            raise EventBusError(
                f"the broker at {self.endpoint} cannot be reached: {error}"
            ) from None
        if status != 202:
            raise EventBusError(f"the broker answered {status}, not 202")
