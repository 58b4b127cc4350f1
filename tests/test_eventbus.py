"""The event bus SDK in process: handlers run concurrently, errors are gathered, an event type
without handlers is reported, as the seed's Publish does."""

from __future__ import annotations

import asyncio
import threading

import pytest

from skylet.eventbus import Event, EventBus, EventBusError


def test_every_handler_of_the_type_gets_the_event_concurrently() -> None:
    bus = EventBus()
    barrier = threading.Barrier(3, timeout=5)  # passes only if all three run at once
    seen: list[tuple[str, object]] = []
    for name in ("orders", "stock", "mail"):

        def handler(event: Event, name: str = name) -> None:
            barrier.wait()
            seen.append((name, event.data))

        bus.subscribe("order.created", handler)
    bus.subscribe("order.deleted", lambda event: seen.append(("deleted", event.data)))
    bus.publish(Event(type="order.created", source="api", data={"order_id": "ORD-001"}))
    assert sorted(seen) == [(n, {"order_id": "ORD-001"}) for n in ("mail", "orders", "stock")]
    bus.close()


def test_an_event_type_without_handlers_is_reported() -> None:
    with pytest.raises(EventBusError, match=r"^no handlers for event type: order\.created$"):
        EventBus().publish(Event(type="order.created"))


def test_errors_are_gathered_after_every_handler_ran() -> None:
    bus = EventBus()
    ran: list[str] = []

    def good(event: Event) -> None:
        ran.append("good")

    def bad(event: Event) -> None:
        raise ValueError("no stock")

    def worse(event: Event) -> None:
        raise KeyError("mail")

    for handler in (bad, good, worse):
        bus.subscribe("t", handler)
    with pytest.raises(EventBusError, match=r"^event processing errors: ") as caught:
        bus.publish(Event(type="t"))
    assert ran == ["good"]
    assert sorted(type(e).__name__ for e in caught.value.errors) == ["KeyError", "ValueError"]


def test_coroutine_handlers_run_concurrently_on_the_loop() -> None:
    bus = EventBus()
    started = 0
    both = asyncio.Event()

    async def handler(event: Event) -> None:
        nonlocal started
        started += 1
        if started == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)

    bus.subscribe("t", handler)
    bus.subscribe("t", handler)
    asyncio.run(bus.publish_async(Event(type="t")))
    assert started == 2


def test_an_event_is_a_cloudevent_with_its_metadata_as_extensions() -> None:
    event = Event(type="t", source="api", data=[1], metadata={"tenant": "a1"})
    document = event.cloud_event()
    assert document["specversion"] == "1.0" and document["id"] == event.id
    assert document["tenant"] == "a1" and document["data"] == [1]
    assert document["time"].endswith("Z")
    with pytest.raises(EventBusError, match="metadata key 'Tenant-Id'"):
        Event(type="t", metadata={"Tenant-Id": "x"}).cloud_event()


def test_the_environment_picks_the_broker_or_the_process() -> None:
    assert EventBus.from_environment({}).endpoint is None
    bus = EventBus.from_environment(
        {"SKYLET_EVENT_BUS": "orders", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}
    )
    assert bus.endpoint == "http://127.0.0.1:9000/_skylet/brokers/orders"
    with pytest.raises(EventBusError, match="subscribe with a trigger"):
        bus.subscribe("t", lambda event: None)


def test_an_unreachable_broker_is_an_error() -> None:
    bus = EventBus("http://127.0.0.1:1/_skylet/brokers/default", timeout_s=1)
    with pytest.raises(EventBusError, match="cannot be reached"):
        bus.publish(Event(type="t"))
