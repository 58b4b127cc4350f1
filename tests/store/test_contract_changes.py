"""Queue contract, part 4: queues that change: kept attributes, updates, purges, moves."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from skylet.errors import InvalidParameterValue, QueueNotFound, StoreConflict
from skylet.store import SendEntry, Store
from tests.store_fixtures import FakeClock, StoreMaker

pytestmark = pytest.mark.anyio


async def test_a_queues_own_attributes_are_kept_compared_and_survive_a_restart(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    await store.start()
    created = await store.create_queue("jobs", attributes={"Policy": "{}", "tag:team": "a"})
    assert await store.create_queue("jobs", attributes={"Policy": "{}", "tag:team": "a"})
    with pytest.raises(StoreConflict):
        await store.create_queue("jobs", attributes={"Policy": "{}"})
    await store.aclose()

    reopened = make_store()
    await reopened.start()
    try:
        found = await reopened.get_queue("jobs")
        assert found == created
        assert found is not None and dict(found.attributes) == {"Policy": "{}", "tag:team": "a"}
        assert found.modified_at == found.created_at
    finally:
        await reopened.aclose()


async def test_update_queue_changes_attributes_but_not_the_type_or_creation_time(
    store: Store, clock: FakeClock
) -> None:
    created = await store.create_queue("jobs")
    clock.advance(5)

    wanted = dataclasses.replace(created, visibility_timeout_s=60, attributes={"k": "v"})
    updated = await store.update_queue(wanted)

    assert updated == wanted
    assert (updated.created_at, updated.modified_at) == (created.created_at, created.created_at + 5)
    assert await store.get_queue("jobs") == updated
    found = await store.get_queue("jobs")
    assert found is not None and found.modified_at == created.created_at + 5
    with pytest.raises(InvalidParameterValue):
        await store.update_queue(dataclasses.replace(created, fifo=True))
    with pytest.raises(InvalidParameterValue):
        await store.update_queue(dataclasses.replace(created, delay_s=901))
    with pytest.raises(QueueNotFound):
        await store.update_queue(dataclasses.replace(created, name="missing"))


async def test_update_queue_applies_to_the_next_receive(store: Store, clock: FakeClock) -> None:
    created = await store.create_queue("jobs", visibility_timeout_s=300)
    await store.send("jobs", b"x")
    await store.update_queue(dataclasses.replace(created, visibility_timeout_s=5))

    assert len(await store.receive("jobs")) == 1
    clock.advance(5)
    assert [m.attempts for m in await store.receive("jobs")] == [2]


async def test_update_queue_can_add_a_dead_letter_queue_that_exists(
    store: Store, clock: FakeClock
) -> None:
    created = await store.create_queue("jobs")
    with_dlq = dataclasses.replace(created, max_receive_count=1, dead_letter_queue="dlq")
    with pytest.raises(InvalidParameterValue):
        await store.update_queue(with_dlq)  # the dead-letter queue does not exist yet
    await store.create_queue("dlq")
    await store.update_queue(with_dlq)
    await store.send("jobs", b"poison")

    await store.receive("jobs", visibility_timeout_s=0)
    assert await store.receive("jobs") == []
    assert [m.origin for m in await store.receive("dlq")] == ["jobs"]


async def test_purge_queue_deletes_every_message_in_flight_delayed_or_visible(
    store: Store,
) -> None:
    await store.create_queue("jobs")
    await store.create_queue("other")
    await store.send_batch("jobs", [SendEntry(b"a"), SendEntry(b"b"), SendEntry(b"c", delay_s=60)])
    await store.send("other", b"kept")
    (held,) = await store.receive("jobs")

    assert await store.purge_queue("jobs") == 3

    stats = await store.queue_stats("jobs")
    assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)
    assert await store.delete("jobs", held.receipt) is False
    assert [m.body for m in await store.receive("other")] == [b"kept"]
    with pytest.raises(QueueNotFound):
        await store.purge_queue("missing")


async def test_move_messages_to_a_queue_keeps_them_whole_and_counts_no_receives(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs")
    ids = await store.send_batch(
        "dlq", [SendEntry(f"m{i}".encode(), attributes={"i": str(i)}) for i in range(3)]
    )
    sent_at = clock()
    await store.receive("dlq", visibility_timeout_s=0)  # received once, visible again
    clock.advance(1)

    assert await store.move_messages("dlq", "jobs", max_messages=2) == 2

    moved = await store.receive("jobs", max_messages=10)
    assert [(m.id, m.body, m.attributes["i"]) for m in moved] == [
        (ids[0], b"m0", "0"),
        (ids[1], b"m1", "1"),
    ]
    assert [(m.attempts, m.sent_at, m.origin) for m in moved] == [(1, sent_at, None)] * 2
    assert [m.id for m in await store.receive("dlq", max_messages=10)] == [ids[2]]


async def test_move_messages_without_a_destination_sends_each_back_where_it_came_from(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("dlq")
    for name in ("orders", "invoices"):
        await store.create_queue(name, max_receive_count=1, dead_letter_queue="dlq")
        await store.send(name, name.encode())
        await store.receive(name, visibility_timeout_s=0)
        assert await store.receive(name) == []  # the second receive moves it to the DLQ
    await store.send("dlq", b"sent to the dlq itself")

    assert await store.move_messages("dlq", None, max_messages=10) == 2

    assert [m.body for m in await store.receive("orders")] == [b"orders"]
    assert [m.body for m in await store.receive("invoices")] == [b"invoices"]
    assert [m.body for m in await store.receive("dlq")] == [b"sent to the dlq itself"]


async def test_move_messages_leaves_messages_in_flight_and_refuses_missing_queues(
    store: Store,
) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs")
    await store.send_batch("dlq", [SendEntry(b"held"), SendEntry(b"free")])
    await store.receive("dlq")

    assert await store.move_messages("dlq", "jobs", max_messages=10) == 1
    assert [m.body for m in await store.receive("jobs")] == [b"free"]
    with pytest.raises(QueueNotFound):
        await store.move_messages("dlq", "missing", max_messages=10)
    with pytest.raises(QueueNotFound):
        await store.move_messages("missing", "jobs", max_messages=10)
    with pytest.raises(InvalidParameterValue):
        await store.move_messages("dlq", "jobs", max_messages=0)


async def test_a_move_wakes_a_receiver_waiting_on_the_destination(store: Store) -> None:
    await store.create_queue("dlq")
    await store.create_queue("jobs")
    await store.send("dlq", b"x")
    waiting = asyncio.ensure_future(store.receive("jobs", wait_s=10))
    await asyncio.sleep(0.05)

    await store.move_messages("dlq", "jobs", max_messages=1)

    assert [m.body for m in await asyncio.wait_for(waiting, 5)] == [b"x"]
