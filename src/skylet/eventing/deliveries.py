"""The delivery loop: each stored delivery to its trigger's subscriber, retried per the
trigger's delivery spec, then to its dead-letter sink.

Every node runs one loop over the store queue ``skylet:broker:deliveries``, whose messages
are packs of jobs (skylet.eventing.brokers.packs). A pack is leased (``lease_s``, longer for
a function whose timeout is longer), its jobs tried concurrently, each then:

- delivered (a 2xx): done; a reply event goes back into the trigger's broker first;
- failed with an answer Knative retries and tries left: a copy of the job with its tries
  counted, stored to come back after the policy's wait;
- otherwise: sent on as a dead letter (a job of its own, retried by the same policy), with
  ``knativeerrordest`` (where it failed), ``knativeerrorcode`` (the last status, when there
  was one) and ``knativeerrordata`` (the start of the last answer's body, base64), when the
  trigger has a dead-letter sink; dropped (and logged) when it has none.

The pack is deleted once every job in it is done. A node killed mid-delivery leaves its packs
leased: they come back after the lease (at least
once, as Knative promises; subscribers dedupe on ``source`` + ``id``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from skylet.errors import SkyletError
from skylet.eventing.brokers import (
    DEFAULT_TTL,
    DELIVERIES,
    MAX_EVENT_BYTES,
    TRACEPARENT,
    TTL,
    Brokers,
    job,
    unpack,
)
from skylet.eventing.cloudevent import Event, to_structured
from skylet.eventing.policy import NO_RESPONSE, retryable
from skylet.eventing.subscribers import URI_TIMEOUT_S, Answer, Sender
from skylet.eventing.topology import Sink, Trigger
from skylet.events.batching import Coalescer
from skylet.observe.trace_context import CURRENT, parse_traceparent
from skylet.store.types import Message

log = logging.getLogger(__name__)

#: Knative's cap on ``knativeerrordata``: the first KiB of the body.
ERROR_DATA_BYTES = 1024
#: A pack whose outcomes the store kept failing is dropped after this many leases.
MAX_PACK_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    #: A node killed mid-delivery leaves its packs leased this long; a try that may take
    #: longer (a function's timeout, a URI's) extends its pack's lease first.
    lease_s: float = 15.0
    poll_s: float = 1.0
    #: Packs leased at once per receive, and held at once on a node.
    batch_size: int = 8
    max_packs: int = 16
    #: Tries in flight at once on a node (the function's instances serve them; on 2 cores
    #: 32-64 deliver the most, bench/broker.py).
    max_concurrency: int = 64
    #: Scales every retry wait (tests shorten them).
    delay_scale: float = 1.0


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    replies: int = 0


@dataclass
class Deliveries:
    brokers: Brokers
    sender: Sender
    #: skylet's URL, for ``knativeerrordest`` of a function (its Invoke URL).
    endpoint: str = ""
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    stats: DeliveryStats = field(default_factory=DeliveryStats)

    def __post_init__(self) -> None:
        self._loop: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._deletes: Coalescer[str, str, bool] = Coalescer(self._delete)
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        if self._loop is None:
            self._slots = asyncio.Semaphore(self.settings.max_concurrency)
            self._loop = asyncio.create_task(self._run_loop())

    async def aclose(self, grace_s: float = 10.0) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_s)
        for task in list(self._running):
            task.cancel()  # its pack stays leased and comes back after the lease
        await self._deletes.aclose()
        await self.sender.aclose()

    async def _delete(self, queue: str, receipts: list[str]) -> list[bool]:
        return await self.brokers.store.delete_batch(queue, receipts)

    async def _run_loop(self) -> None:
        settings = self.settings
        store = self.brokers.store
        backoff = 0.05
        while True:
            free = settings.max_packs - len(self._running)
            if free <= 0:
                await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                leased = await store.receive(
                    DELIVERIES,
                    max_messages=min(free, settings.batch_size),
                    visibility_timeout_s=settings.lease_s,
                    wait_s=settings.poll_s,
                )
            except SkyletError as error:
                log.warning("receiving broker deliveries failed: %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.05
            for message in leased:
                task = asyncio.create_task(self._pack(message))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _pack(self, leased: Message) -> None:
        """Every job of one pack, concurrently; the pack is deleted once each is settled
        (delivered, given up, or its retry stored as a job of its own)."""
        try:
            jobs = unpack(leased.body)
        except ValueError:
            log.warning("dropped a broker delivery that is not a pack of jobs")
            await self._settle(leased)
            return
        await self._extend(leased, jobs)
        results = await asyncio.gather(*(self._run(item) for item in jobs), return_exceptions=True)
        if all(result is True for result in results):
            await self._settle(leased)
        elif leased.attempts >= MAX_PACK_ATTEMPTS:
            log.error("dropped a pack of broker deliveries after %d attempts", leased.attempts)
            await self._settle(leased)
        else:  # the store failed an outcome: the whole pack again, after a second
            with contextlib.suppress(SkyletError):
                await self.brokers.store.change_visibility(DELIVERIES, leased.receipt, 1.0)

    async def _run(self, item: dict[str, Any]) -> bool:
        """One job; False when its outcome could not be stored (the pack comes back)."""
        assert self._slots is not None
        async with self._slots:
            try:
                await self._handle(item)
            except SkyletError as error:
                log.warning("a broker delivery's outcome could not be stored: %s", error)
                return False
            except Exception:  # a job skylet cannot handle: dropped, not retried forever
                log.exception("dropped a broker delivery skylet failed to handle")
                self.stats.dropped += 1
            return True

    async def _handle(self, item: dict[str, Any]) -> None:
        """One try of one job, in the trace its event's ``traceparent`` names: the
        subscriber's invocation, a reply without its own, a retry's and a dead letter's
        continue the publisher's. Raises only when its outcome could not be stored."""
        event = item.get("e")
        traceparent = event.get(TRACEPARENT) if isinstance(event, dict) else None
        token = CURRENT.set(
            parse_traceparent(traceparent if isinstance(traceparent, str) else None)
        )
        try:
            await self._handle_traced(item)
        finally:
            CURRENT.reset(token)

    async def _handle_traced(self, item: dict[str, Any]) -> None:
        trigger = self.brokers.topology.triggers.get(item["t"])
        if trigger is None:
            log.warning("dropped a delivery for trigger %s, which no longer exists", item["t"])
            self.stats.dropped += 1
            return
        event: Event = item["e"]
        dead = bool(item.get("d"))
        sink = trigger.dead_letter if dead else trigger.subscriber
        if sink is None:  # the dead-letter sink was removed since
            self.stats.dropped += 1
            return
        ttl = event.get(TTL)
        answer = await self._try(sink, event, trigger)
        if answer.ok:
            self.stats.delivered += 1
            if answer.reply is not None and not dead:
                await self._replied(trigger, answer.reply, ttl)
            return
        tries = int(item.get("n", 0)) + 1
        wait = (
            trigger.policy.wait_s(tries, status=answer.status, retry_after_s=answer.retry_after_s)
            if retryable(answer.status)
            else None
        )
        if wait is not None:
            self.stats.retried += 1
            retry = job(trigger.name, event, dead=dead, tries=tries)
            await self.brokers.enqueue(retry, delay_s=max(wait * self.settings.delay_scale, 0.001))
            return
        if not dead and trigger.dead_letter is not None:
            letter = dict(event)
            letter.update(self._error_extensions(sink, answer))
            await self.brokers.enqueue(job(trigger.name, letter, dead=True))
            self.stats.dead_lettered += 1
            return
        self.stats.dropped += 1
        log.warning(
            "trigger %s gave up delivering event %s to %s after %d tries: %s",
            trigger.name,
            event.get("id"),
            sink.describe(),
            tries,
            answer.detail or answer.status,
        )

    async def _try(self, sink: Sink, event: Event, trigger: Trigger) -> Answer:
        delivered = {k: v for k, v in event.items() if k != TTL}
        timeout_s = trigger.policy.timeout_s
        if sink.kind == "function":
            return await self.sender.to_function(sink.target, delivered, timeout_s)
        if sink.kind == "uri":
            structured = trigger.policy.format == "json"
            return await self.sender.to_uri(
                sink.target, delivered, timeout_s, structured=structured
            )
        try:  # into another broker: one hop, as a reply is
            await self.brokers.publish(sink.target, delivered, ttl=_hops(event.get(TTL)))
        except SkyletError as error:
            return Answer(503, str(error).encode(), detail=str(error))
        return Answer(202)

    async def _extend(self, leased: Message, jobs: list[dict[str, Any]]) -> None:
        """A pack whose tries may run longer than the lease stays leased meanwhile: one
        change of its lease, to the longest of them (its jobs run concurrently) and 30 s."""
        longest = 0.0
        for item in jobs:
            trigger = self.brokers.topology.triggers.get(item.get("t", ""))
            if trigger is not None:
                sink = trigger.dead_letter if item.get("d") else trigger.subscriber
                if sink is not None:
                    longest = max(longest, self._limit_s(sink, trigger))
        if longest + 10.0 > self.settings.lease_s:
            with contextlib.suppress(SkyletError):
                await self.brokers.store.change_visibility(
                    DELIVERIES, leased.receipt, longest + 30.0
                )

    def _limit_s(self, sink: Sink, trigger: Trigger) -> float:
        """How long one try to ``sink`` may take."""
        if sink.kind == "broker":
            return 0.0
        limit = URI_TIMEOUT_S
        if sink.kind == "function":
            try:
                limit = self.sender.functions.function(sink.target).timeout_s
            except SkyletError:
                return 0.0
        if trigger.policy.timeout_s is not None:
            limit = min(limit, trigger.policy.timeout_s)
        return limit

    async def _replied(self, trigger: Trigger, reply: Event, ttl: Any) -> None:
        """The reply into the trigger's broker, TTL less one. One over MAX_EVENT_BYTES is
        dropped (the ingress would refuse it too); one the store cannot take raises, so the
        delivery is tried again (Knative counts a lost reply as a failed dispatch)."""
        reply.pop(TTL, None)
        if len(to_structured(reply)) > MAX_EVENT_BYTES:
            log.warning(
                "trigger %s: a reply over %d bytes was dropped", trigger.name, MAX_EVENT_BYTES
            )
            return
        await self.brokers.publish(trigger.broker, reply, ttl=_hops(ttl))
        self.stats.replies += 1

    def _error_extensions(self, sink: Sink, answer: Answer) -> dict[str, Any]:
        if sink.kind == "function":
            dest = f"{self.endpoint}/2015-03-31/functions/{sink.target}/invocations"
        elif sink.kind == "broker":
            dest = f"{self.endpoint}/_skylet/brokers/{sink.target}"
        else:
            dest = sink.target
        data = answer.body if answer.body else answer.detail.encode()
        out: dict[str, Any] = {
            "knativeerrordest": dest,
            "knativeerrordata": base64.b64encode(data[:ERROR_DATA_BYTES]).decode(),
        }
        if answer.status != NO_RESPONSE:
            out["knativeerrorcode"] = str(answer.status)
        return out

    async def _settle(self, leased: Message) -> None:
        try:
            await self._deletes.submit(DELIVERIES, leased.receipt)
        except SkyletError as error:  # it comes back after its lease and is delivered again
            log.warning("deleting a broker delivery failed: %s", error)


def _hops(ttl: Any) -> int:
    """The TTL one hop on from ``ttl`` (an event's ``knativebrokerttl``)."""
    given = int(ttl) if isinstance(ttl, int | str) and str(ttl).isdigit() else DEFAULT_TTL
    return given - 1
