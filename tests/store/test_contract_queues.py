"""Queue contract, part 1: sending, receiving, leases, receipts, stats, errors."""

from __future__ import annotations

import pytest

from skylet.errors import InvalidParameterValue, InvalidReceipt, QueueNotFound, StoreConflict
from skylet.store import QueueConfig, QueueStats, SendEntry, Store
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio


async def test_send_receive_delete_round_trip(store: Store, clock: FakeClock) -> None:
    await store.create_queue("jobs")
    sent_at = clock()
    message_id = await store.send("jobs", b"\x00payload", attributes={"traceparent": "00-ab"})
    clock.advance(2)

    (message,) = await store.receive("jobs", max_messages=10)

    assert message.id == message_id
    assert message.body == b"\x00payload"
    assert message.attributes == {"traceparent": "00-ab"}
    assert message.attempts == 1
    assert message.sent_at == sent_at
    assert message.first_received_at == sent_at + 2
    assert await store.delete("jobs", message.receipt) is True
    assert await store.delete("jobs", message.receipt) is False  # idempotent
    assert await store.receive("jobs") == []


async def test_send_batch_returns_ids_in_order_and_all_arrive(store: Store) -> None:
    await store.create_queue("jobs")
    ids = await store.send_batch("jobs", [SendEntry(f"m{i}".encode()) for i in range(25)])

    messages = await store.receive("jobs", max_messages=100)

    assert len(set(ids)) == 25
    assert [m.id for m in messages] == ids
    assert [m.body for m in messages] == [f"m{i}".encode() for i in range(25)]


async def test_send_batch_is_all_or_nothing(store: Store) -> None:
    await store.create_queue("jobs")
    bad = SendEntry(b"x", delay_s=10_000)  # past SQS's 15 minutes
    with pytest.raises(InvalidParameterValue):
        await store.send_batch("jobs", [SendEntry(b"ok"), bad])
    assert await store.receive("jobs", max_messages=10) == []


async def test_receive_returns_at_most_max_messages(store: Store) -> None:
    await store.create_queue("jobs")
    await store.send_batch("jobs", [SendEntry(b"x") for _ in range(5)])
    assert len(await store.receive("jobs", max_messages=3)) == 3
    assert len(await store.receive("jobs", max_messages=3)) == 2


async def test_delayed_message_stays_hidden_until_its_delay_passes(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs")
    await store.send("jobs", b"later", delay_s=60)
    clock.advance(59)
    assert await store.receive("jobs") == []
    clock.advance(1)
    assert [m.body for m in await store.receive("jobs")] == [b"later"]


async def test_queue_default_delay_applies_unless_the_message_sets_one(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("slow", delay_s=30)
    await store.send("slow", b"default")
    await store.send("slow", b"now", delay_s=0)
    (now,) = await store.receive("slow", max_messages=10)
    assert now.body == b"now"
    await store.delete("slow", now.receipt)
    clock.advance(30)
    assert [m.body for m in await store.receive("slow", max_messages=10)] == [b"default"]


async def test_message_reappears_after_its_visibility_timeout(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", visibility_timeout_s=30)
    await store.send("jobs", b"x")
    first = (await store.receive("jobs"))[0]
    clock.advance(29)
    assert await store.receive("jobs") == []
    clock.advance(1)

    (again,) = await store.receive("jobs")

    assert again.id == first.id
    assert again.attempts == 2
    assert again.first_received_at == first.first_received_at
    assert again.receipt != first.receipt


async def test_receive_can_override_the_visibility_timeout(store: Store, clock: FakeClock) -> None:
    await store.create_queue("jobs", visibility_timeout_s=30)
    await store.send("jobs", b"x")
    await store.receive("jobs", visibility_timeout_s=5)
    clock.advance(5)
    assert len(await store.receive("jobs")) == 1


async def test_stale_receipt_cannot_delete_or_extend_after_another_receive(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", visibility_timeout_s=10)
    await store.send("jobs", b"x")
    (old,) = await store.receive("jobs")
    clock.advance(10)
    (new,) = await store.receive("jobs")

    assert await store.delete("jobs", old.receipt) is False
    assert await store.change_visibility("jobs", old.receipt, 600) is False
    assert await store.change_visibility("jobs", new.receipt, 600) is True
    assert await store.delete("jobs", new.receipt) is True


async def test_change_visibility_extends_or_releases_a_lease(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs", visibility_timeout_s=10)
    await store.send("jobs", b"x")
    (message,) = await store.receive("jobs")

    assert await store.change_visibility("jobs", message.receipt, 100)
    clock.advance(50)
    assert await store.receive("jobs") == []
    assert await store.change_visibility("jobs", message.receipt, 0)
    (released,) = await store.receive("jobs")
    assert released.attempts == 2


async def test_delete_batch_reports_each_receipt(store: Store) -> None:
    await store.create_queue("jobs")
    await store.send_batch("jobs", [SendEntry(b"a"), SendEntry(b"b")])
    a, b = await store.receive("jobs", max_messages=2)
    await store.delete("jobs", a.receipt)

    assert await store.delete_batch("jobs", [a.receipt, b.receipt]) == [False, True]
    assert await store.queue_stats("jobs") == QueueStats(0, 0, 0, None)


async def test_malformed_receipt_is_refused(store: Store) -> None:
    await store.create_queue("jobs")
    with pytest.raises(InvalidReceipt):
        await store.delete("jobs", "not-a-receipt")


async def test_receipt_of_another_queue_matches_nothing(store: Store) -> None:
    await store.create_queue("a")
    await store.create_queue("b")
    await store.send("a", b"x")
    (message,) = await store.receive("a")
    assert await store.delete("b", message.receipt) is False
    assert await store.delete("a", message.receipt) is True


async def test_queue_stats_count_visible_in_flight_and_delayed(
    store: Store, clock: FakeClock
) -> None:
    await store.create_queue("jobs")
    await store.send_batch("jobs", [SendEntry(b"a"), SendEntry(b"b"), SendEntry(b"c")])
    clock.advance(10)
    await store.send("jobs", b"later", delay_s=60)
    await store.receive("jobs")

    stats = await store.queue_stats("jobs")

    assert stats == QueueStats(visible=2, in_flight=1, delayed=1, oldest_age_s=10.0)


async def test_create_queue_is_idempotent_and_refuses_other_attributes(store: Store) -> None:
    first = await store.create_queue("jobs", visibility_timeout_s=60)
    again = await store.create_queue("jobs", visibility_timeout_s=60)
    assert first == again == QueueConfig("jobs", visibility_timeout_s=60)
    with pytest.raises(StoreConflict):
        await store.create_queue("jobs", visibility_timeout_s=61)


async def test_get_list_and_delete_queues(store: Store) -> None:
    await store.create_queue("app-a")
    await store.create_queue("app-b", fifo=True)
    await store.create_queue("other")
    await store.send("app-a", b"x")

    assert [q.name for q in await store.list_queues("app-")] == ["app-a", "app-b"]
    assert (await store.get_queue("app-b")) == QueueConfig("app-b", fifo=True)
    assert await store.delete_queue("app-a") is True
    assert await store.delete_queue("app-a") is False
    assert await store.get_queue("app-a") is None
    await store.create_queue("app-a")
    assert await store.receive("app-a") == []  # its old messages went with it


async def test_unknown_queue_is_not_found(store: Store) -> None:
    with pytest.raises(QueueNotFound):
        await store.send("nope", b"x")
    with pytest.raises(QueueNotFound):
        await store.receive("nope")
    with pytest.raises(QueueNotFound):
        await store.queue_stats("nope")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"visibility_timeout_s": -1}, id="negative visibility timeout"),
        pytest.param({"delay_s": 901}, id="delay over 15 minutes"),
        pytest.param({"max_receive_count": 0}, id="max receive count below one"),
        pytest.param({"dead_letter_queue": "dlq"}, id="dead letter queue without a count"),
        pytest.param({"max_receive_count": 3, "dead_letter_queue": "missing"}, id="missing dlq"),
    ],
)
async def test_create_queue_refuses_invalid_attributes(
    store: Store, arguments: dict[str, object]
) -> None:
    with pytest.raises(InvalidParameterValue):
        await store.create_queue("jobs", **arguments)  # type: ignore[arg-type]


async def test_receive_refuses_invalid_arguments(store: Store) -> None:
    await store.create_queue("jobs")
    with pytest.raises(InvalidParameterValue):
        await store.receive("jobs", max_messages=0)
    with pytest.raises(InvalidParameterValue):
        await store.send("jobs", "text, not bytes")  # type: ignore[arg-type]
