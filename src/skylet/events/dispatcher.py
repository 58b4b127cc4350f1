"""The asynchronous invocation dispatcher: one consumer per deployed function, and upkeep.

    dispatcher = Dispatcher(store, invoker, async_invoker, records, settings=…)   # no I/O
    await dispatcher.start()
    await dispatcher.deploy({fn.name: fn.async_config for fn in functions})     # on each deploy
    …
    await dispatcher.aclose()          # before the invoker closes: lets running tries finish

Every node runs a dispatcher; on PostgreSQL their consumers compete for the same queues
(``SKIP LOCKED``), so events spread over the nodes and a dead node's events move on when their
leases expire. Delivery is at least once; an event is *recorded* done once (see ``settle``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping

from skylet.config import AsyncConfig
from skylet.errors import SkyletError
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.consumer import Consumer
from skylet.events.context import Context, DispatcherSettings, DispatcherStats, FunctionRunner
from skylet.events.destinations import Deliverer, TopicPublisher
from skylet.events.records import RecordBook
from skylet.invoker.hooks import Hooks
from skylet.store.base import Clock, QueueStore

log = logging.getLogger(__name__)


class Dispatcher:
    """Runs the deployed functions' queued events. ``stats`` counts what happened."""

    def __init__(
        self,
        store: QueueStore,
        runner: FunctionRunner,
        async_invoker: AsyncInvoker,
        records: RecordBook,
        *,
        settings: DispatcherSettings | None = None,
        topics: TopicPublisher | None = None,
        now: Clock = time.time,
        jitter: Callable[[], float] = random.random,
        hooks: Hooks | None = None,
    ) -> None:
        self.stats = DispatcherStats()
        self._records = records
        self._ctx = Context(
            store=store,
            runner=runner,
            records=records,
            deliverer=Deliverer(store, async_invoker, topics),
            queues=async_invoker.queues,
            settings=settings or DispatcherSettings(),
            stats=self.stats,
            now=now,
            jitter=jitter,
            hooks=hooks,
        )
        self._consumers: dict[str, Consumer] = {}
        self._upkeep: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def settings(self) -> DispatcherSettings:
        return self._ctx.settings

    async def start(self) -> None:
        """Start the upkeep (record retention). Consumers start with ``deploy``."""
        if self._upkeep is None:
            self._upkeep = asyncio.create_task(self._upkeep_forever())

    async def deploy(self, configs: Mapping[str, AsyncConfig], *, grace_s: float = 10.0) -> None:
        """Consume exactly these functions' queues, with these settings. A function no longer
        deployed stops being consumed (its events wait in the queue); a changed config applies
        from the next batch on."""
        async with self._lock:
            for name in [n for n in self._consumers if n not in configs]:
                await self._consumers.pop(name).stop(grace_s)
            for name, config in configs.items():
                consumer = self._consumers.get(name)
                if consumer is not None:
                    consumer.config = config
                    continue
                consumer = Consumer(name, config, self._ctx)
                await consumer.start()
                self._consumers[name] = consumer

    def functions(self) -> list[str]:
        return sorted(self._consumers)

    def held(self) -> int:
        """Events received and not yet settled, over all functions."""
        return sum(c.held for c in self._consumers.values())

    async def aclose(self, grace_s: float = 10.0) -> None:
        """Stop receiving, let running tries finish (up to ``grace_s``), settle them, and give
        back the events still held. Then wait for pending record writes. Idempotent."""
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
            self._upkeep = None
        async with self._lock:
            consumers, self._consumers = list(self._consumers.values()), {}
            await asyncio.gather(*(c.stop(grace_s) for c in consumers))
        await self._records.aclose()

    async def _upkeep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._ctx.settings.retention_every_s)
            try:
                await self._records.apply_retention(list(self._consumers))
            except SkyletError as error:
                log.warning("trimming invocation records failed: %s", error)
