"""One function's consumer: lease packs of events, try each event, settle them in batches.

    receive (packs, leased) ─▶ ready events ─▶ N workers: Invoker.invoke, retry.after_invoke
                                                      └──▶ settled ─▶ settle loop: Settler.flush

N is the function's reserved concurrency, else the dispatcher's ``max_concurrency``. Workers are
long-lived coroutines rather than a task per event, and settlements are collected into one
flush per batch, because at 10,000 events a second every per-event future shows. A pack's
message is deleted in the flush that settles its last event.

Prefetch: the consumer receives while the events tried and ready number under N +
``batch_size``; events waiting for their flush do not count (a flush in progress must not
starve the workers), until the settled events outnumber two batches: then a store that is
slow to write stops the receiving too.

The store may be unavailable at any moment (PostgreSQL down, a network cut): receiving and
settling log it and try again with a backoff (50 ms doubling to 5 s), renewing at its next
tick; tries in progress finish and wait, settled, for the store to return. Nothing is given
up while the node lives; a lease that runs out meanwhile may let the event run again (at least
once).

The lease of every held message is renewed every third of ``lease_s``, so a slow try keeps its
pack and a crashed node's packs come back within one lease. A message received before
(``attempts > 1``) may hold events a consumer finished before it died; an event whose newest
invocation record is final, or names a newer copy, is skipped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from skylet.config import AsyncConfig
from skylet.errors import PlatformError, ResourceNotFound, SkyletError
from skylet.events.attempt import attempt
from skylet.events.context import Context
from skylet.events.envelope import MAX_PACK_EVENTS, Envelope, queue_name, unpack
from skylet.events.settle import Settlement, Settler, snapshot
from skylet.store.types import Message

log = logging.getLogger(__name__)

#: Records are checked from this long before a redelivered message was sent: nodes' clocks
#: may disagree a little (PostgreSQL stores the writing node's time).
CLOCK_SLACK_S = 60.0
STORE_RETRY_FIRST_S = 0.05
STORE_RETRY_MAX_S = 5.0


@dataclass(slots=True)
class _Held:
    """A leased message and how many of its events are not settled yet."""

    message: Message
    renewed: float
    unsettled: int


@dataclass(slots=True, eq=False)
class _Event:
    """One event of a held pack. ``started`` (monotonic) is set while its try runs."""

    held: _Held
    envelope: Envelope
    payload: bytes
    started: float | None = None
    settling: bool = False
    running_recorded: bool = False


@dataclass(slots=True)
class _Settled:
    events: list[_Event] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)


class Consumer:
    """Consumes ``function``'s queue from ``start`` to ``stop``. ``config`` may be replaced
    at any time; the next decision and the next settled batch use the new one."""

    def __init__(self, function: str, config: AsyncConfig, context: Context) -> None:
        self.function = function
        self.config = config
        self._ctx = context
        self._queue = queue_name(function)
        self._settler = Settler(function, lambda: self.config, context)
        self._held: dict[str, _Held] = {}
        self._events = 0  # events of held messages not settled yet
        self._settling = 0  # of which tried (or skipped) and waiting for their flush
        self._per_message = float(MAX_PACK_EVENTS)  # running estimate, sizes receives
        self._ready: collections.deque[_Event] = collections.deque()
        # Idle workers' wake-ups. A deque and futures rather than an asyncio.Queue: a worker
        # that finds an event takes it without a coroutine call, once per event.
        self._hungry: collections.deque[asyncio.Future[None]] = collections.deque()
        self._trying: set[_Event] = set()
        self._settled = _Settled()
        self._room = asyncio.Event()
        self._settle_due = asyncio.Event()
        self._stopping = False
        self._draining = False
        self._workers: set[asyncio.Task[None]] = set()
        self._idle: set[asyncio.Task[None]] = set()
        self._target = 1  # workers wanted; the receive loop updates it
        self._loops: list[asyncio.Task[None]] = []

    @property
    def held(self) -> int:
        """Events received and not settled yet."""
        return self._events

    async def start(self) -> None:
        await self._ctx.queues.ensure(self.function)
        self._loops = [
            asyncio.create_task(self._receive_forever()),
            asyncio.create_task(self._settle_forever()),
            asyncio.create_task(self._renew_forever()),
        ]

    async def stop(self, grace_s: float) -> None:
        """Stop receiving, let running tries finish (up to ``grace_s``), settle them, and give
        back every message still held (visible again at once, for another node or a restart;
        its settled events are skipped then)."""
        self._stopping = True
        receiver, settler, renewer = self._loops
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
        self._ready.clear()
        for worker in self._idle:
            worker.cancel()
        if busy := self._workers - self._idle:
            await asyncio.wait(busy, timeout=grace_s)
        if workers := set(self._workers):
            for worker in workers:
                worker.cancel()
            await asyncio.wait(workers)
        # The settle loop finishes what the workers settled, then ends.
        self._draining = True
        self._settle_due.set()
        await asyncio.wait({settler}, timeout=grace_s)
        for loop in (settler, renewer):
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        leftover, self._held = list(self._held.values()), {}
        release = self._ctx.store.change_visibility
        await asyncio.gather(
            *(release(self._queue, h.message.receipt, 0) for h in leftover),
            return_exceptions=True,
        )

    # -- receiving ---------------------------------------------------------------------------

    def _slots(self) -> int:
        """Tries at once: the reserved concurrency, else the dispatcher's per-function cap. A
        function switched off (0) still takes one, whose throttle settles its events."""
        try:
            reserved = self._ctx.runner.function(self.function).reserved_concurrency
        except ResourceNotFound:
            reserved = None
        return max(1, self._ctx.settings.max_concurrency if reserved is None else reserved)

    async def _receive_forever(self) -> None:
        settings = self._ctx.settings
        wait = STORE_RETRY_FIRST_S
        while not self._stopping:
            slots = self._target = self._slots()
            self._staff(slots)
            # Events settling do not count against the prefetch: a flush in progress must not
            # starve the workers (counting them left every worker idle a third of the time at
            # 7,000 events/s). A flush that falls behind by two batches stops receiving.
            room = slots + settings.batch_size - (self._events - self._settling)
            if room <= 0 or self._settling >= 2 * settings.batch_size:
                self._room.clear()
                await self._room.wait()
                continue
            wanted = max(1, min(settings.batch_size, int(room / self._per_message)))
            try:
                messages = await self._ctx.store.receive(
                    self._queue,
                    max_messages=wanted,
                    visibility_timeout_s=settings.lease_s,
                    wait_s=settings.poll_s,
                )
            except SkyletError as error:
                log.warning("receiving %s failed (%s); retrying", self._queue, error)
                await asyncio.sleep(wait)
                wait = min(wait * 2, STORE_RETRY_MAX_S)
                continue
            wait = STORE_RETRY_FIRST_S
            if messages:
                await self._accept(messages)

    async def _accept(self, messages: list[Message]) -> None:
        now = time.monotonic()
        events: list[_Event] = []
        for message in messages:
            try:
                unpacked = unpack(message, self.function)
            except ValueError as malformed:
                await self._drop(message, malformed)
                continue
            held = _Held(message, now, len(unpacked))
            self._held[message.receipt] = held
            events += [_Event(held, envelope, payload) for envelope, payload in unpacked]
        if not events:
            return
        self._per_message = (self._per_message + len(events) / len(messages)) / 2
        self._events += len(events)
        self._ctx.stats.received += len(events)
        finished = await self._finished([e for e in events if e.held.message.attempts > 1])
        for event in events:
            if event in finished:
                self._ctx.stats.duplicates += 1
                self._settle(event, None)
            else:
                self._ready.append(event)
        self._feed()

    async def _drop(self, message: Message, why: ValueError) -> None:
        log.error("deleting a message on %s not sent by skylet: %s", self._queue, why)
        self._ctx.stats.malformed += 1
        with contextlib.suppress(SkyletError):  # if it stays, it is dropped next time
            await self._ctx.store.delete(self._queue, message.receipt)

    async def _finished(self, redelivered: Sequence[_Event]) -> set[_Event]:
        """Redelivered events that need no more tries: their newest record is final or
        names a newer copy."""
        if not redelivered:
            return set()
        since = min(e.held.message.sent_at for e in redelivered) - CLOCK_SLACK_S
        ids = {e.envelope.request_id for e in redelivered}
        try:
            latest = await self._ctx.records.latest_since(self.function, ids, since)
        except SkyletError as error:
            # Without the records, run them again: at least once beats at most once.
            log.warning("checking redelivered %s events failed: %s", self.function, error)
            return set()
        finished = set()
        for event in redelivered:
            record = latest.get(event.envelope.request_id)
            if record is not None and (
                record.final or record.generation > event.envelope.generation
            ):
                finished.add(event)
        return finished

    # -- trying ------------------------------------------------------------------------------

    def _staff(self, slots: int) -> None:
        """Keep ``slots`` workers; extra ones leave after their current try."""
        while len(self._workers) < slots:
            worker = asyncio.create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    def _feed(self) -> None:
        """Wake as many idle workers as there are ready events."""
        woken = 0
        while self._hungry and woken < len(self._ready):
            waiter = self._hungry.popleft()
            if not waiter.done():  # a cancelled worker's
                waiter.set_result(None)
                woken += 1

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        loop = asyncio.get_running_loop()
        while not self._stopping:
            if len(self._workers) > self._target:
                self._workers.discard(me)  # now, so that the next worker counts without me
                self._feed()  # an event this worker was woken for goes to another
                return
            if not self._ready:
                waiter = loop.create_future()
                self._hungry.append(waiter)
                self._idle.add(me)
                try:
                    await waiter
                finally:
                    self._idle.discard(me)
                continue  # another worker may have taken the event meanwhile
            event = self._ready.popleft()
            self._room.set()  # the prefetch shrank: the receive loop may fetch more
            self._trying.add(event)
            try:
                settlement = await self._run(event)
            except Exception:
                # A bug, not the function's failure: stop renewing the pack, so that it comes
                # back after its lease instead of being held forever.
                log.exception("trying an event of %s failed", self.function)
                self._held.pop(event.held.message.receipt, None)
                self._events -= 1
                continue
            finally:
                self._trying.discard(event)
            self._settle(event, settlement)

    async def _run(self, event: _Event) -> Settlement:
        def started() -> None:
            event.started = time.monotonic()

        return await attempt(
            self._ctx, self.function, self.config, event.envelope, event.payload, started
        )

    # -- settling ----------------------------------------------------------------------------

    def _settle(self, event: _Event, settlement: Settlement | None) -> None:
        """Queue ``event`` for the next flush; ``None``: nothing to write, only count it."""
        event.settling = True
        self._settling += 1
        self._settled.events.append(event)
        if settlement is not None:
            self._settled.settlements.append(settlement)
        self._settle_due.set()

    async def _settle_forever(self) -> None:
        while True:
            await self._settle_due.wait()
            self._settle_due.clear()
            draining = self._draining
            await self._flush_settled(final=draining)
            if draining:
                return

    async def _flush_settled(self, *, final: bool) -> None:
        """Flush everything settled so far, trying again while the store is unavailable
        (the packs stay held, their leases renewed). ``final``: one attempt only; what fails
        comes back after its lease."""
        wait = STORE_RETRY_FIRST_S
        while self._settled.events:
            batch, self._settled = self._settled, _Settled()
            settling: dict[str, int] = {}
            for event in batch.events:
                receipt = event.held.message.receipt
                settling[receipt] = settling.get(receipt, 0) + 1
            done = [
                receipt
                for receipt, count in settling.items()
                if receipt in self._held and self._held[receipt].unsettled == count
            ]
            try:
                await self._settler.flush(batch.settlements, done)
            except PlatformError as error:
                if final:
                    return
                log.warning("settling %s events failed (%s); retrying", self.function, error)
                self._settled.events[:0] = batch.events
                self._settled.settlements[:0] = batch.settlements
                await asyncio.sleep(wait)
                wait = min(wait * 2, STORE_RETRY_MAX_S)
                continue
            for receipt, count in settling.items():
                held = self._held.get(receipt)
                if held is not None:
                    held.unsettled -= count
                    if held.unsettled <= 0:
                        del self._held[receipt]
            self._events -= len(batch.events)
            self._settling -= len(batch.events)
            self._room.set()

    # -- leases and running records ----------------------------------------------------------

    async def _renew_forever(self) -> None:
        settings = self._ctx.settings
        every = settings.lease_s / 3
        tick = min(every, max(settings.running_after_s, 0.05), 1.0)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            due = [h for h in self._held.values() if now - h.renewed >= every]
            if due:
                await self._renew(due, now)
            await self._record_running(now)

    async def _renew(self, due: list[_Held], now: float) -> None:
        store, lease_s = self._ctx.store, self._ctx.settings.lease_s
        results = await asyncio.gather(
            *(store.change_visibility(self._queue, h.message.receipt, lease_s) for h in due),
            return_exceptions=True,
        )
        failed: list[BaseException] = []
        for held, renewed in zip(due, results, strict=True):
            if renewed is True:
                held.renewed = now
            elif renewed is False:
                # Another consumer has it now; these tries still finish, the delete will fail.
                self._ctx.stats.lost_leases += 1
                held.renewed = now
            else:
                failed.append(renewed)
        if failed:
            # Tried again next tick. One line per round: while the store is down, every held
            # message fails alike.
            log.warning("renewing %d leases on %s failed: %s", len(failed), self._queue, failed[0])

    async def _record_running(self, now: float) -> None:
        after_s = self._ctx.settings.running_after_s
        running = [
            e
            for e in self._trying
            if e.started is not None
            and not e.settling
            and not e.running_recorded
            and now - e.started >= after_s
        ]
        if not running:
            return
        for event in running:
            event.running_recorded = True
        wall = self._ctx.now()
        # Written before any of these tries settles (none is settling yet), so each one's final
        # record is appended after this one: records of a function keep their order.
        try:
            rows = [snapshot(e.envelope, "running", wall, running=True) for e in running]
            await self._ctx.records.write_rows(self.function, rows)
        except SkyletError as error:
            log.warning("recording running %s events failed: %s", self.function, error)
