"""Queue contract, part 3: FIFO queues — message-group order and the deduplication window."""

from __future__ import annotations

import pytest

from skylet.errors import InvalidParameterValue
from skylet.store import DEDUP_WINDOW_S, SendEntry, Store
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio


async def test_a_group_waits_while_its_earlier_message_is_in_flight(store: Store) -> None:
    await store.create_queue("orders", fifo=True)
    await store.send_batch(
        "orders",
        [
            SendEntry(b"a1", group_id="a"),
            SendEntry(b"a2", group_id="a"),
            SendEntry(b"b1", group_id="b"),
        ],
    )

    (a1,) = await store.receive("orders")
    assert a1.body == b"a1"
    assert [m.body for m in await store.receive("orders", max_messages=10)] == [b"b1"]
    assert await store.receive("orders", max_messages=10) == []
    await store.delete("orders", a1.receipt)
    assert [m.body for m in await store.receive("orders", max_messages=10)] == [b"a2"]


async def test_one_receive_returns_a_groups_messages_in_order(store: Store) -> None:
    await store.create_queue("orders", fifo=True)
    for i in range(5):
        await store.send("orders", f"{i}".encode(), group_id="g")
    assert [m.body for m in await store.receive("orders", max_messages=10)] == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
    ]


async def test_an_expired_lease_redelivers_the_group_head_before_later_messages(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("orders", fifo=True, visibility_timeout_s=30)
    await store.send("orders", b"first", group_id="g")
    await store.receive("orders")
    clock.advance(10)
    await store.send("orders", b"second", group_id="g")
    clock.advance(20)

    (again,) = await store.receive("orders")
    assert (again.body, again.attempts) == (b"first", 2)


async def test_a_delayed_group_head_holds_back_the_group(store: Store, clock: FakeClock) -> None:
    await store.create_queue("orders", fifo=True, delay_s=60)
    await store.send("orders", b"first", group_id="g")
    await store.send("orders", b"second", group_id="g", delay_s=0)
    assert await store.receive("orders") == []
    clock.advance(60)
    assert [m.body for m in await store.receive("orders", max_messages=10)] == [
        b"first",
        b"second",
    ]


async def test_duplicate_send_inside_the_window_returns_the_first_id(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("orders", fifo=True)
    first = await store.send("orders", b"x", group_id="g", dedup_id="order-1")
    clock.advance(DEDUP_WINDOW_S - 1)
    again = await store.send("orders", b"x", group_id="g", dedup_id="order-1")

    assert again == first
    assert len(await store.receive("orders", max_messages=10)) == 1


async def test_dedup_id_is_remembered_after_the_message_is_deleted(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("orders", fifo=True)
    first = await store.send("orders", b"x", group_id="g", dedup_id="order-1")
    (message,) = await store.receive("orders")
    await store.delete("orders", message.receipt)
    clock.advance(60)
    assert await store.send("orders", b"x", group_id="g", dedup_id="order-1") == first
    assert await store.receive("orders") == []


async def test_send_after_the_window_stores_a_new_message(store: Store, clock: FakeClock) -> None:
    await store.create_queue("orders", fifo=True)
    first = await store.send("orders", b"x", group_id="g", dedup_id="order-1")
    clock.advance(DEDUP_WINDOW_S)
    await store.purge()  # dropping expired dedup ids must not change the answer
    second = await store.send("orders", b"x", group_id="g", dedup_id="order-1")

    assert second != first
    assert len(await store.receive("orders", max_messages=10)) == 2


async def test_duplicates_within_one_batch_store_one_message(store: Store) -> None:
    await store.create_queue("orders", fifo=True)
    ids = await store.send_batch(
        "orders",
        [SendEntry(b"x", group_id="g", dedup_id="d"), SendEntry(b"x", group_id="g", dedup_id="d")],
    )
    assert ids[0] == ids[1]
    assert len(await store.receive("orders", max_messages=10)) == 1


async def test_fifo_queue_requires_a_group_and_standard_refuses_dedup(store: Store) -> None:
    await store.create_queue("orders", fifo=True)
    await store.create_queue("plain")
    with pytest.raises(InvalidParameterValue):
        await store.send("orders", b"x")
    with pytest.raises(InvalidParameterValue):
        await store.send("plain", b"x", dedup_id="d")


async def test_fifo_dead_letter_queue_must_be_fifo(store: Store) -> None:
    await store.create_queue("plain-dlq")
    with pytest.raises(InvalidParameterValue):
        await store.create_queue(
            "orders", fifo=True, max_receive_count=2, dead_letter_queue="plain-dlq"
        )
