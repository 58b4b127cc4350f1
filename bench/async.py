"""Durable asynchronous invocations: events/s from enqueue to handler completion, none lost.

One process holds what ``skylet up`` holds: the store, the zygote and invoker, the async
invoker (what the Invoke API calls for ``InvocationType: Event``) and the dispatcher. Each run
enqueues N hello-world events while the dispatcher consumes them; the clock stops when the last
event is settled (its handler returned and its record is durable). Then every request id must
have exactly one final ``succeeded`` record and the queue must be empty.

- *batched*: ``enqueue_batch`` of 100, ten callers;
- *unbatched*: ``enqueue`` one event per call, 256 callers at once (what concurrent Invoke API
  clients do); the async invoker's coalescing and the store's group commit batch them;
- *enqueue latency*: one ``enqueue`` at a time while the dispatcher runs (p50/p99), and the
  latency of each call in the unbatched run (under load).
- *raw invoker*: ``Invoker.invoke`` of the same function at the same concurrency, no store: the
  ceiling the asynchronous path cannot pass, since every event is one such invocation. Each
  asynchronous run is paired with a raw run just before it, and ``x raw`` is the median of the
  pairs' ratios: on a shared machine, absolute figures move ±20% from minute to minute.

Budget (docs/budgets.md): ≥ 10,000 events/s on SQLite, none lost. Run:
``.venv/bin/python -m bench.async`` (PostgreSQL at postgresql://postgres@127.0.0.1:5432/test,
in a schema of its own, skipped when unreachable).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvloop

from bench.common import FUNCTIONS, machine, percentile
from skylet.config import AsyncConfig, FunctionConfig, RuntimeSettings
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.context import DispatcherSettings
from skylet.events.dispatcher import Dispatcher
from skylet.events.envelope import queue_name
from skylet.events.records import RecordBook, log_name
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.zygote import ZygoteClient
from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONCURRENCY = 16  # tries at once: the best of 4-32 on this 2-core machine
SETTINGS = DispatcherSettings(batch_size=100, max_concurrency=CONCURRENCY)
HELLO = FunctionConfig(name="hello", handler="hello.handler", code_dir=FUNCTIONS)
EVENTS = {"sqlite": 30_000, "postgres": 10_000}
REPEATS = 3
BUDGET = 10_000


@dataclass
class Run:
    events_per_s: float
    cpu_us_per_event: float
    latencies_ms: list[float]


@dataclass
class Platform:
    store: Store
    invoker: Invoker
    records: RecordBook
    async_invoker: AsyncInvoker
    dispatcher: Dispatcher


@asynccontextmanager
async def platform(make_store: Callable[[], Store]) -> AsyncIterator[Platform]:
    store = make_store()
    await store.start()
    zygote = ZygoteClient()
    await zygote.start()
    invoker = Invoker(RuntimeSettings(), zygote, LogBook())
    await invoker.deploy([HELLO])
    records = RecordBook(store)
    async_invoker = AsyncInvoker(store, records, invoker)
    dispatcher = Dispatcher(store, invoker, async_invoker, records, settings=SETTINGS)
    await dispatcher.start()
    await dispatcher.deploy({"hello": AsyncConfig()})
    try:
        yield Platform(store, invoker, records, async_invoker, dispatcher)
    finally:
        await dispatcher.aclose()
        await async_invoker.aclose()
        await invoker.aclose()
        await zygote.aclose()
        await store.aclose()


async def batched(p: Platform, n: int, latencies: list[float]) -> list[str]:
    """Ten callers, each sending batches of 100 one after another."""
    ids: list[list[str]] = [[] for _ in range(10)]

    async def caller(mine: list[str], batches: int) -> None:
        for _ in range(batches):
            mine += await p.async_invoker.enqueue_batch("hello", [b'{"n": 1}'] * 100)

    await asyncio.gather(*(caller(mine, n // 100 // 10) for mine in ids))
    return [request_id for mine in ids for request_id in mine]


async def unbatched(p: Platform, n: int, latencies: list[float]) -> list[str]:
    """256 callers (as 256 concurrent Invoke API clients), one event per call."""
    ids: list[list[str]] = [[] for _ in range(256)]

    async def caller(mine: list[str], calls: int) -> None:
        for _ in range(calls):
            started = time.perf_counter()
            mine.append(await p.async_invoker.enqueue("hello", b'{"n": 1}'))
            latencies.append((time.perf_counter() - started) * 1000)

    share, extra = divmod(n, len(ids))
    await asyncio.gather(*(caller(mine, share + (i < extra)) for i, mine in enumerate(ids)))
    return [request_id for mine in ids for request_id in mine]


async def run(make_store: Callable[[], Store], n: int, mode: str) -> Run:
    async with platform(make_store) as p:
        await p.invoker.invoke("hello", b"{}")  # a warm instance, as a running server has
        latencies: list[float] = []
        enqueue = batched if mode == "batched" else unbatched
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        ids = await enqueue(p, n, latencies)
        while p.dispatcher.stats.succeeded < n:
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        await verify(p, ids)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / n * 1e6
    return Run(n / elapsed, cpu, latencies)


async def verify(p: Platform, ids: list[str]) -> None:
    """Every event succeeded and is recorded done exactly once; nothing is left queued."""
    await p.dispatcher.aclose()
    finals: collections.Counter[str] = collections.Counter()
    after = 0
    while entries := await p.store.read(log_name("hello"), 0, after_sequence=after, limit=1000):
        for entry in entries:
            finals.update(row[0] for row in json.loads(entry.data) if row[1] == "succeeded")
        after = entries[-1].sequence
    stats = await p.store.queue_stats(queue_name("hello"))
    lost = set(ids) - set(finals)
    twice = [rid for rid, count in finals.items() if count > 1]
    left = stats.visible + stats.in_flight + stats.delayed
    if lost or twice or left or len(set(ids)) != len(ids):
        raise SystemExit(f"LOST {len(lost)}, recorded twice {len(twice)}, left queued {left}")


async def enqueue_latency(make_store: Callable[[], Store], samples: int = 2000) -> list[float]:
    async with platform(make_store) as p:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            await p.async_invoker.enqueue("hello", b'{"n": 1}')
            times.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.5)
    return times


async def raw_invoker(n: int) -> Run:
    """``n`` invocations by ``CONCURRENCY`` long-lived callers (as the dispatcher's workers),
    no store: the same function, the same instances, nothing asynchronous around them."""
    zygote = ZygoteClient()
    await zygote.start()
    invoker = Invoker(RuntimeSettings(), zygote, LogBook())
    await invoker.deploy([HELLO])

    async def caller(calls: int) -> None:
        for _ in range(calls):
            await invoker.invoke("hello", b'{"n": 1}')

    async def callers(total: int) -> None:
        share, extra = divmod(total, CONCURRENCY)
        await asyncio.gather(*(caller(share + (i < extra)) for i in range(CONCURRENCY)))

    await callers(200)  # every instance warm
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await callers(n)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    await invoker.aclose()
    await zygote.aclose()
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / n * 1e6
    return Run(n / elapsed, cpu, [])


def sqlite_maker(directory: Path) -> Callable[[], Store]:
    def make() -> Store:
        return SqliteStore(directory / f"{uuid.uuid4().hex}.db")

    return make


def postgres_maker() -> tuple[Callable[[], Store], Callable[[], None]] | None:
    try:
        import psycopg

        from skylet.store.postgres import PostgresStore

        with psycopg.connect(POSTGRES_URL, connect_timeout=2):
            pass
    except Exception as error:
        print(f"  PostgreSQL skipped: {error}")
        return None
    schemas: list[str] = []

    def make() -> Store:
        schemas.append(f"bench_async_{uuid.uuid4().hex[:10]}")
        return PostgresStore(POSTGRES_URL, schema=schemas[-1])

    def drop() -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return make, drop


async def measure(make: Callable[[], Store], n: int, mode: str) -> tuple[list[Run], list[Run]]:
    """``REPEATS`` pairs of runs, the raw invoker's right before each asynchronous one: the
    machine is shared, so a ratio is only fair between runs that met the same load."""
    raws, runs = [], []
    for _ in range(REPEATS):
        raws.append(await raw_invoker(n))
        runs.append(await run(make, n, mode))
    return raws, runs


async def main() -> None:
    print(f"\ndurable async events into a function (hello world), concurrency {CONCURRENCY}")
    print(f"  machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"  medians of {REPEATS} runs; each run paired with a raw Invoker.invoke run just "
        "before it (same function, same concurrency, no store: the ceiling)\n"
    )
    print(
        f"  {'store / enqueue':<24}{'events':>7}{'events/s':>10}{'raw/s':>9}{'x raw':>7}"
        f"{'x budget':>9}{'cpu µs/ev':>10}{'raw µs/ev':>10}  enqueue ms p50 / p99"
    )
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        backends: list[tuple[str, Callable[[], Store]]] = [("sqlite", sqlite_maker(Path(tmp)))]
        pg = postgres_maker()
        if pg is not None:
            backends.append(("postgres", pg[0]))
        try:
            for name, make in backends:
                n = EVENTS[name]
                for mode in ("batched", "unbatched"):
                    raws, runs = await measure(make, n, mode)
                    rate = statistics.median(r.events_per_s for r in runs)
                    raw = statistics.median(r.events_per_s for r in raws)
                    ratio = statistics.median(
                        r.events_per_s / w.events_per_s for r, w in zip(runs, raws, strict=True)
                    )
                    cpu = statistics.median(r.cpu_us_per_event for r in runs)
                    raw_cpu = statistics.median(r.cpu_us_per_event for r in raws)
                    lat = [x for r in runs for x in r.latencies_ms]
                    latency = (
                        f"{percentile(lat, 50):.2f} / {percentile(lat, 99):.2f} (under load)"
                        if lat
                        else ""
                    )
                    print(
                        f"  {name + ' ' + mode:<24}{n:>7}{rate:>10,.0f}{raw:>9,.0f}{ratio:>7.2f}"
                        f"{rate / BUDGET:>9.2f}{cpu:>10.0f}{raw_cpu:>10.0f}  {latency}"
                    )
                    if name == "sqlite":
                        met = "met" if rate >= BUDGET else "NOT met"
                        verdicts.append(f"sqlite {mode} {rate:,.0f}/s: {met}")
                idle = await enqueue_latency(make)
                print(
                    f"  {name + ' one at a time':<24}{len(idle):>7}{'':>10}{'':>9}{'':>7}{'':>9}"
                    f"{'':>10}{'':>10}  {percentile(idle, 50):.2f} / {percentile(idle, 99):.2f}"
                )
        finally:
            if pg is not None:
                pg[1]()
    print(f"\n  load average {os.getloadavg()[0]:.2f} at the end")
    print("  every run: each event recorded succeeded exactly once, queue empty (else exit 1)")
    print(f"  budget ≥ {BUDGET:,} events/s on SQLite: {'; '.join(verdicts)}")


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
