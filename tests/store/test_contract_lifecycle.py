"""Lifecycle contract: migrations, restarts, several handles on one database."""

from __future__ import annotations

import asyncio

import pytest

from skylet.errors import InvalidParameterValue, QueueNotFound, StoreError
from skylet.store import SendEntry, Store
from tests.store_fixtures import FakeClock, StoreMaker

pytestmark = pytest.mark.anyio


async def test_data_survives_close_and_reopen(make_store: StoreMaker, clock: FakeClock) -> None:
    first = make_store()
    await first.start()
    await first.create_queue("jobs", visibility_timeout_s=60)
    await first.send_batch("jobs", [SendEntry(b"a"), SendEntry(b"b")])
    (leased,) = await first.receive("jobs")
    await first.create_log("stream")
    await first.append("stream", [b"r1"])
    await first.commit("c", "stream", 0, 1)
    await first.aclose()

    second = make_store()
    await second.start()
    try:
        (waiting,) = await second.receive("jobs", max_messages=10)
        assert waiting.body == b"b"  # the lease on "a" survived the restart too
        clock.advance(60)
        (again,) = await second.receive("jobs")
        assert (again.id, again.attempts) == (leased.id, 2)
        assert [r.data for r in await second.read("stream", 0, after_sequence=0)] == [b"r1"]
        assert await second.committed("c", "stream", 0) == 1
    finally:
        await second.aclose()


async def test_starting_twice_applies_migrations_once(make_store: StoreMaker) -> None:
    for _ in range(2):
        store = make_store()
        await store.start()
        await store.create_queue("jobs")  # idempotent, and the schema is intact
        await store.aclose()


async def test_concurrent_starts_are_safe(make_store: StoreMaker) -> None:
    stores = [make_store() for _ in range(3)]
    await asyncio.gather(*(s.start() for s in stores))
    try:
        await stores[0].create_queue("jobs")
        await stores[1].send("jobs", b"x")
        assert len(await stores[2].receive("jobs")) == 1
    finally:
        await asyncio.gather(*(s.aclose() for s in stores))


async def test_close_is_idempotent_and_a_closed_store_refuses_work(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    await store.start()
    await store.aclose()
    await store.aclose()
    with pytest.raises(StoreError):
        await store.create_queue("jobs")


async def test_commit_count_grows_with_writes(make_store: StoreMaker) -> None:
    store = make_store()
    await store.start()
    try:
        before = store.commit_count
        await store.create_queue("jobs")
        await store.send("jobs", b"x")
        assert store.commit_count >= before + 2
    finally:
        await store.aclose()


async def test_concurrent_sends_share_commits(store: Store) -> None:
    await store.create_queue("jobs")
    before = store.commit_count
    ids = await asyncio.gather(*(store.send("jobs", b"x") for _ in range(1000)))
    commits = store.commit_count - before
    assert len(set(ids)) == 1000
    # One commit per send would be 1,000; the writer batches whatever is queued meanwhile.
    assert commits <= 100, f"1000 concurrent sends took {commits} commits"


async def test_a_failing_send_does_not_spoil_the_others_in_its_commit(store: Store) -> None:
    await store.create_queue("jobs")
    results = await asyncio.gather(
        store.send("jobs", b"ok"),
        store.send("missing", b"lost"),
        store.send("jobs", b"bad", delay_s=-1),
        store.send("jobs", b"ok too"),
        return_exceptions=True,
    )
    assert isinstance(results[1], QueueNotFound)
    assert isinstance(results[2], InvalidParameterValue)
    received = await store.receive("jobs", max_messages=10)
    assert sorted(m.body for m in received) == [b"ok", b"ok too"]
