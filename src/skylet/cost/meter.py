"""Metering: one hook, registered in the composition root, that turns each invocation's REPORT
into billed usage, and a sampler that meters provisioned concurrency, kept per function and
hour in the store (skylet.cost.ledger).

What is metered, as Lambda bills it:

- a request per invocation that ran (a throttled one is not billed);
- billed duration, the REPORT's: 1 ms granularity, rounded up, the init phase included
  (Lambda bills it for on-demand cold starts of managed runtimes too since 1 August 2025:
  a 120.3 ms init and a 3.2 ms run bill 124 ms), plus a SnapStart restore's runtime hooks;
- GB-seconds, billed ms x memory (1,024 MB a GB), by memory size and architecture, and the
  part of them provisioned instances served (priced at provisioned concurrency's rate);
- provisioned concurrency: instances configured x the seconds they are kept x memory, sampled
  every ``sample_interval_s`` (Lambda bills it in 5-minute steps; a sample is finer).

On the request's path the hook adds to a dict in memory (about a microsecond); the counts go
to the store every ``flush_interval_s``, before a read, and at ``aclose``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from skylet.config import FunctionConfig
from skylet.cost.ledger import Bucket, Counts, Ledger, hour_of
from skylet.cost.pricing import MB_PER_GB
from skylet.errors import SkyletError
from skylet.invoker.hooks import InvocationHook, InvocationRecord

log = logging.getLogger(__name__)

#: A variant ``skylet tune`` deploys is named so; it is never metered.
TUNING_MARK = "--tune-"


class Functions(Protocol):
    """What the provisioned-concurrency sampler reads of the invoker."""

    def functions(self) -> list[FunctionConfig]: ...


class Meter(InvocationHook):
    """The metering hook. ``clock`` is epoch seconds (a fake in tests)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        flush_interval_s: float = 60.0,
        sample_interval_s: float = 10.0,
    ) -> None:
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.sample_interval_s = sample_interval_s
        self.ledger: Ledger | None = None
        self.functions: Functions | None = None
        self.pending: dict[Bucket, Counts] = {}
        self._sampled_at: float | None = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    def completed(self, record: InvocationRecord) -> None:
        if TUNING_MARK in record.function:
            return
        report = record.report
        billed = report.billed_ms + report.billed_restore_ms
        memory = report.memory_mb
        counts = self._counts(record.function, record.started, memory, record.architecture)
        counts.requests += 1
        counts.billed_ms += billed
        if report.init_ms is not None:
            counts.cold_starts += 1
            counts.init_ms += report.init_ms
        if record.error_type is not None:
            counts.errors += 1
        used = billed / 1000 * memory / MB_PER_GB
        counts.gb_seconds += used
        if record.provisioned:
            counts.provisioned_compute_gb_seconds += used

    def _counts(self, function: str, at: float, memory_mb: int, architecture: str) -> Counts:
        bucket = Bucket(function, hour_of(at), memory_mb, architecture)
        found = self.pending.get(bucket)
        if found is None:
            found = self.pending[bucket] = Counts()
        return found

    def sample(self) -> None:
        """Meter provisioned concurrency since the last sample: each function's configured
        instances x the seconds since x its memory, in the hour of the sample."""
        now = self.clock()
        since, self._sampled_at = self._sampled_at, now
        if since is None or self.functions is None or now <= since:
            return
        seconds = now - since
        for fn in self.functions.functions():
            if fn.provisioned_concurrency and TUNING_MARK not in fn.name:
                counts = self._counts(fn.name, now, fn.memory_mb, fn.architecture)
                kept = fn.provisioned_concurrency * seconds
                counts.provisioned_s += kept
                counts.provisioned_gb_seconds += kept * fn.memory_mb / MB_PER_GB

    async def flush(self) -> None:
        """Write what was metered to the store (kept for the next flush if that fails)."""
        if self.ledger is None:
            return
        async with self._lock:
            self.sample()
            counts, self.pending = self.pending, {}
            try:
                await self.ledger.add(counts)
            except BaseException:
                for bucket, value in counts.items():
                    self._counts(*bucket).merge(value)
                raise

    async def read(
        self, start: float, end: float, function: str | None = None
    ) -> Mapping[Bucket, Counts]:
        """The kept usage of [start, end), after a flush."""
        if self.ledger is None:
            return {}
        await self.flush()
        return await self.ledger.read(start, end, function)

    async def start(self, ledger: Ledger) -> None:
        self.ledger = ledger
        await ledger.start()
        self._sampled_at = self.clock()
        self._tasks = [
            asyncio.create_task(self._every(self.sample_interval_s, self._sample_async)),
            asyncio.create_task(self._every(self.flush_interval_s, self._flush_and_expire)),
        ]

    async def _sample_async(self) -> None:
        self.sample()

    async def _flush_and_expire(self) -> None:
        await self.flush()
        if self.ledger is not None:
            await self.ledger.expire(self.clock())

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await work()
            except SkyletError as error:  # the store recovers by itself; counts are kept
                log.warning("metering: %s", error)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(SkyletError):
            await self.flush()
