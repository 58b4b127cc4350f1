"""PostgreSQL going away and coming back, through a proxy the test cuts: operations fail
promptly with ``StoreUnavailable``, and the store recovers by itself (pool and LISTEN)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from skylet.errors import StoreUnavailable
from skylet.store.postgres import PostgresStore
from tests.store_fixtures import FakeClock

from .proxy import TcpProxy, url_through

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

T = TypeVar("T")


@pytest.fixture
async def proxy(pg_schema: tuple[str, str]) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(pg_schema[0])
    opened = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await opened.start()
    yield opened
    await opened.aclose()


async def eventually(operation: Callable[[], Awaitable[T]], *, within_s: float = 30.0) -> T:
    """Run ``operation()`` until it stops raising ``StoreUnavailable``."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await operation()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_operations_fail_with_store_unavailable_while_the_database_is_cut_off(
    pg_schema: tuple[str, str], proxy: TcpProxy, clock: FakeClock
) -> None:
    url, schema = pg_schema
    store = PostgresStore(url_through(url, proxy.port), schema=schema, now=clock, timeout_s=1)
    await store.start()
    try:
        await store.create_queue("jobs")
        await store.create_log("records")
        await store.send("jobs", b"before")
        await proxy.cut()
        for operation in (
            lambda: store.send("jobs", b"during"),
            lambda: store.receive("jobs", wait_s=0.5),
            lambda: store.append("records", [b"during"]),
        ):
            with pytest.raises(StoreUnavailable, match="PostgreSQL"):
                # A guard against hanging, far above the store's own 1 s timeout.
                await asyncio.wait_for(operation(), 30)
    finally:
        await proxy.restore()
        await store.aclose()


async def test_the_store_reconnects_and_listens_again_once_the_database_is_back(
    pg_schema: tuple[str, str], proxy: TcpProxy, clock: FakeClock
) -> None:
    url, schema = pg_schema
    # recheck_s=30: only a NOTIFY through the re-established LISTEN can end the long poll soon.
    store = PostgresStore(
        url_through(url, proxy.port), schema=schema, now=clock, timeout_s=1, recheck_s=30
    )
    other = PostgresStore(url, schema=schema, now=clock, timeout_s=1)
    await asyncio.gather(store.start(), other.start())
    try:
        await store.create_queue("jobs")
        await proxy.cut()
        with pytest.raises(StoreUnavailable):
            await store.send("jobs", b"lost")
        await asyncio.sleep(3)  # an outage longer than the timeouts and the first backoffs
        await proxy.restore()

        await eventually(lambda: store.send("jobs", b"after"))
        assert [m.body for m in await eventually(lambda: store.receive("jobs"))] == [b"after"]

        async def woken(attempt: int) -> bool:
            queue = f"wake-{attempt}"  # a fresh queue: no message left by a missed attempt
            await other.create_queue(queue)
            polling = asyncio.create_task(store.receive(queue, wait_s=20))
            await asyncio.sleep(0.2)
            await other.send(queue, b"wake")
            done, _ = await asyncio.wait({polling}, timeout=10)
            if not done:
                polling.cancel()
                return False
            return [m.body for m in polling.result()] == [b"wake"]

        # The listener may still be in its backoff: a wake-up before it listens is lost, and
        # the long poll then sleeps for its 30 s recheck. Once it listens, one send wakes it.
        deadline = time.monotonic() + 30
        attempt = 0
        while not await woken(attempt):
            assert time.monotonic() < deadline, "the listener never listened again"
            attempt += 1
    finally:
        await asyncio.gather(store.aclose(), other.aclose())
