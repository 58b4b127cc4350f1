"""Queue contract, part 2: attempts and dead-lettering, retention, long polling, competition."""

from __future__ import annotations

import asyncio
import time

import pytest

from skylet.store import SendEntry, Store
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio


async def _receive_and_expire(store: Store, clock: FakeClock, queue: str) -> list[int]:
    """Receive one message and let its lease lapse; return the attempts seen."""
    messages = await store.receive(queue)
    clock.advance(30)
    return [m.attempts for m in messages]


async def test_message_received_more_than_max_receive_count_moves_to_the_dlq(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs", max_receive_count=3, dead_letter_queue="dlq")
    message_id = await store.send("jobs", b"poison", attributes={"k": "v"})

    seen = [await _receive_and_expire(store, clock, "jobs") for _ in range(4)]

    assert seen == [[1], [2], [3], []]
    (dead,) = await store.receive("dlq")
    # SQS goes on counting receives in the dead-letter queue: 3 there, this one the 4th.
    assert (dead.id, dead.body, dead.attributes, dead.attempts, dead.origin) == (
        message_id,
        b"poison",
        {"k": "v"},
        4,
        "jobs",
    )
    assert (await store.queue_stats("jobs")).visible == 0


async def test_moving_to_the_dlq_does_not_starve_the_rest_of_the_batch(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs", max_receive_count=1, dead_letter_queue="dlq")
    await store.send("jobs", b"poison")
    await store.receive("jobs")
    clock.advance(30)
    await store.send("jobs", b"fresh")

    assert [m.body for m in await store.receive("jobs", max_messages=5)] == [b"fresh"]
    assert [m.body for m in await store.receive("dlq")] == [b"poison"]


async def test_max_receive_count_without_a_dlq_drops_the_message(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", max_receive_count=2)
    await store.send("jobs", b"x")
    seen = [await _receive_and_expire(store, clock, "jobs") for _ in range(3)]
    assert seen == [[1], [2], []]
    assert (await store.queue_stats("jobs")).visible == 0


async def test_stale_receipt_of_a_dead_lettered_message_deletes_nothing(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs", max_receive_count=1, dead_letter_queue="dlq")
    await store.send("jobs", b"x")
    (old,) = await store.receive("jobs")
    clock.advance(30)
    assert await store.receive("jobs") == []  # moved
    assert await store.delete("jobs", old.receipt) is False
    assert len(await store.receive("dlq")) == 1


async def test_messages_past_retention_are_not_delivered_and_are_purged(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", retention_s=3600)
    await store.send("jobs", b"old")
    clock.advance(1800)
    await store.send("jobs", b"young")
    clock.advance(1800)

    assert await store.purge() == 1
    assert [m.body for m in await store.receive("jobs", max_messages=10)] == [b"young"]
    assert await store.purge() == 0


async def test_expired_messages_are_skipped_even_before_a_purge(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", retention_s=60)
    await store.send("jobs", b"old")
    clock.advance(60)
    assert await store.receive("jobs") == []


async def test_long_poll_returns_as_soon_as_a_message_arrives(store: Store) -> None:
    await store.create_queue("jobs")

    async def send_later() -> None:
        await asyncio.sleep(0.2)
        await store.send("jobs", b"hello")

    started = time.monotonic()
    sender = asyncio.create_task(send_later())
    messages = await store.receive("jobs", wait_s=10)
    await sender

    assert [m.body for m in messages] == [b"hello"]
    assert time.monotonic() - started < 3


async def test_long_poll_on_an_empty_queue_returns_empty_after_the_wait(store: Store) -> None:
    await store.create_queue("jobs")
    started = time.monotonic()
    assert await store.receive("jobs", wait_s=0.3) == []
    assert 0.25 <= time.monotonic() - started < 3


async def test_wait_for_messages_wakes_on_send(store: Store) -> None:
    await store.create_queue("jobs")
    waiter = asyncio.create_task(store.wait_for_messages("jobs", 10))
    await asyncio.sleep(0.05)
    await store.send("jobs", b"x")
    assert await asyncio.wait_for(waiter, 5) is True
    assert await store.wait_for_messages("jobs", 0.05) is False


async def test_concurrent_consumers_never_share_a_message_within_its_lease(store: Store) -> None:
    await store.create_queue("jobs", visibility_timeout_s=600)
    count = 400
    await store.send_batch("jobs", [SendEntry(str(i).encode()) for i in range(count)])
    delivered: list[bytes] = []

    async def consume() -> None:
        # The fake clock stands still: no lease expires, so each message comes exactly once.
        while batch := await store.receive("jobs", max_messages=7):
            delivered.extend(m.body for m in batch)
            await store.delete_batch("jobs", [m.receipt for m in batch])

    await asyncio.gather(*(consume() for _ in range(8)))

    assert sorted(delivered) == sorted(str(i).encode() for i in range(count))
