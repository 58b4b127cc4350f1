"""PostgreSQL-only behaviour: several nodes, wake-ups between them, an unreachable or
restarting database, the advisory-locked migrations."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from skylet.errors import StoreError, StoreUnavailable
from skylet.store import SendEntry
from skylet.store.postgres import PostgresStore
from skylet.store.postgres.schema import LATEST_VERSION
from tests.store_fixtures import FakeClock

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


def _node(pg_schema: tuple[str, str], clock: FakeClock) -> PostgresStore:
    url, schema = pg_schema
    return PostgresStore(url, schema=schema, now=clock, recheck_s=30, timeout_s=3)


def _terminate_backends(url: str, schema: str) -> int:
    """Kill the store's connections (only this test's schema), as a server restart would."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"skylet-store-{schema}",),
        ).fetchall()
    return len(rows)


async def test_a_send_on_one_node_wakes_a_long_poll_on_another(
    pg_schema: tuple[str, str], clock: FakeClock
) -> None:
    # recheck_s=30: only a NOTIFY can end this long poll within the test's 5 seconds.
    sender, receiver = _node(pg_schema, clock), _node(pg_schema, clock)
    await asyncio.gather(sender.start(), receiver.start())
    try:
        await sender.create_queue("jobs")
        started = time.monotonic()
        polling = asyncio.create_task(receiver.receive("jobs", wait_s=20))
        await asyncio.sleep(0.2)
        await sender.send("jobs", b"cross-node")
        messages = await asyncio.wait_for(polling, 5)
        assert [m.body for m in messages] == [b"cross-node"]
        assert time.monotonic() - started < 5
    finally:
        await asyncio.gather(sender.aclose(), receiver.aclose())


async def test_two_nodes_competing_never_share_a_message(
    pg_schema: tuple[str, str], clock: FakeClock
) -> None:
    nodes = [_node(pg_schema, clock) for _ in range(2)]
    await asyncio.gather(*(n.start() for n in nodes))
    try:
        await nodes[0].create_queue("jobs", visibility_timeout_s=600)
        await nodes[0].send_batch("jobs", [SendEntry(str(i).encode()) for i in range(300)])
        seen: list[bytes] = []

        async def consume(node: PostgresStore) -> None:
            while batch := await node.receive("jobs", max_messages=5):
                seen.extend(m.body for m in batch)
                await node.delete_batch("jobs", [m.receipt for m in batch])

        await asyncio.gather(*(consume(n) for n in nodes for _ in range(4)))
        assert sorted(seen) == sorted(str(i).encode() for i in range(300))
    finally:
        await asyncio.gather(*(n.aclose() for n in nodes))


async def test_unreachable_database_raises_store_unavailable() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test", schema="nowhere", timeout_s=1)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await store.start()
    assert time.monotonic() - started < 10
    await store.aclose()


async def test_store_recovers_after_its_connections_are_killed(
    pg_schema: tuple[str, str], clock: FakeClock
) -> None:
    store, other = _node(pg_schema, clock), _node(pg_schema, clock)
    await asyncio.gather(store.start(), other.start())
    try:
        await store.create_queue("jobs")
        assert _terminate_backends(*pg_schema) >= 4  # two pools and two listeners
        # The first operations may meet dead connections; they fail clearly, then succeed.
        for _ in range(20):
            try:
                await store.send("jobs", b"after")
                break
            except StoreUnavailable:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the store did not recover after its connections were killed")
        assert [m.body for m in await store.receive("jobs")] == [b"after"]

        # The listener reconnected too: another node's send still wakes a long poll here.
        await asyncio.sleep(0.5)
        polling = asyncio.create_task(store.receive("jobs", wait_s=20))
        await asyncio.sleep(0.2)
        for _ in range(20):
            try:
                await other.send("jobs", b"wake")
                break
            except StoreUnavailable:
                await asyncio.sleep(0.1)
        assert [m.body for m in await asyncio.wait_for(polling, 5)] == [b"wake"]
    finally:
        await asyncio.gather(store.aclose(), other.aclose())


async def test_migrations_are_recorded_once_after_concurrent_starts(
    pg_schema: tuple[str, str], clock: FakeClock
) -> None:
    nodes = [_node(pg_schema, clock) for _ in range(4)]
    await asyncio.gather(*(n.start() for n in nodes))
    await asyncio.gather(*(n.aclose() for n in nodes))
    url, schema = pg_schema
    with psycopg.connect(url) as conn:
        rows = conn.execute(f'SELECT version FROM "{schema}".schema_migrations').fetchall()
    assert [row[0] for row in rows] == list(range(1, LATEST_VERSION + 1))


async def test_a_schema_from_a_newer_skylet_is_refused(
    pg_schema: tuple[str, str], clock: FakeClock
) -> None:
    store = _node(pg_schema, clock)
    await store.start()
    await store.aclose()
    url, schema = pg_schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{schema}".schema_migrations VALUES (%s, 0)', (LATEST_VERSION + 1,)
        )
    with pytest.raises(StoreError, match="newer"):
        await _node(pg_schema, clock).start()
