"""Accepting Event invocations: Lambda's checks, durable before the id is returned, recorded."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from skylet.config import FunctionConfig
from skylet.errors import InvalidRequestContent, RequestTooLarge, ResourceNotFound
from skylet.events.async_invoke import (
    MAX_EVENT_PAYLOAD_BYTES,
    AsyncInvoker,
    UuidPool,
    check_event_payload,
)
from skylet.events.envelope import queue_name, unpack
from skylet.events.records import RecordBook
from skylet.store.base import Store

pytestmark = pytest.mark.anyio


class Functions:
    """The invoker's lookup, for one function that also answers to an alias."""

    def __init__(self) -> None:
        self.fn = FunctionConfig("orders", "h.handler", Path(), aliases=("svc-orders",))

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        if name not in ("orders", "svc-orders") or qualifier not in (None, "$LATEST"):
            raise ResourceNotFound(f"Function not found: {name}")
        return self.fn


def invoker(store: Store) -> tuple[AsyncInvoker, RecordBook]:
    records = RecordBook(store)
    return AsyncInvoker(store, records, Functions()), records


async def test_an_accepted_event_is_on_the_queue_and_recorded_queued(store: Store) -> None:
    async_invoker, records = invoker(store)

    request_id = await async_invoker.enqueue("svc-orders", b'{"id": 1}')

    (message,) = await store.receive(queue_name("orders"))
    ((envelope, payload),) = unpack(message, "orders")
    assert (envelope.request_id, payload) == (request_id, b'{"id": 1}')
    (record,) = await records.query("orders")
    assert (record.request_id, record.status, record.attempts) == (request_id, "queued", 0)


async def test_a_batch_is_stored_in_packs_in_order(store: Store) -> None:
    async_invoker, records = invoker(store)
    commits = store.commit_count

    ids = await async_invoker.enqueue_batch("orders", [b'{"n": %d}' % n for n in range(150)])

    assert len(set(ids)) == 150
    assert store.commit_count - commits <= 4  # queue, send, log, record: not one per event
    messages = await store.receive(queue_name("orders"), max_messages=10)
    events = [event for m in messages for event in unpack(m, "orders")]
    assert len(messages) == 2  # 100 events a pack
    assert [e.request_id for e, _ in events] == ids
    assert [p for _, p in events] == [b'{"n": %d}' % n for n in range(150)]
    assert {r.request_id for r in await records.query("orders", limit=200)} == set(ids)


async def test_concurrent_single_events_share_a_pack(store: Store) -> None:
    async_invoker, _ = invoker(store)

    ids = await asyncio.gather(*(async_invoker.enqueue("orders", b"{}") for _ in range(30)))

    messages = await store.receive(queue_name("orders"), max_messages=30)
    assert len(messages) < 30
    assert sorted(e.request_id for m in messages for e, _ in unpack(m, "orders")) == sorted(ids)


async def test_a_payload_of_exactly_one_megabyte_is_accepted(store: Store) -> None:
    async_invoker, _ = invoker(store)
    payload = b'"' + b"x" * (MAX_EVENT_PAYLOAD_BYTES - 2) + b'"'

    assert await async_invoker.enqueue("orders", payload)


async def test_a_payload_over_one_megabyte_is_refused_with_lambdas_message(store: Store) -> None:
    async_invoker, _ = invoker(store)
    payload = b'"' + b"x" * (MAX_EVENT_PAYLOAD_BYTES - 1) + b'"'

    with pytest.raises(RequestTooLarge) as caught:
        await async_invoker.enqueue("orders", payload)

    assert caught.value.message == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    assert caught.value.status == 413
    assert await store.get_queue(queue_name("orders")) is None


async def test_a_payload_that_is_not_json_is_refused(store: Store) -> None:
    async_invoker, _ = invoker(store)

    with pytest.raises(InvalidRequestContent, match=r"^Could not parse request body into json"):
        await async_invoker.enqueue("orders", b"{not json")


@pytest.mark.parametrize(
    ("name", "qualifier"),
    [
        pytest.param("nope", None, id="an unknown function"),
        pytest.param("orders", "7", id="a version that does not exist"),
    ],
)
async def test_an_unknown_function_or_version_is_not_found(
    store: Store, name: str, qualifier: str | None
) -> None:
    async_invoker, _ = invoker(store)

    with pytest.raises(ResourceNotFound):
        await async_invoker.enqueue(name, b"{}", qualifier=qualifier)


async def test_an_empty_payload_and_latest_qualifier_are_accepted(store: Store) -> None:
    async_invoker, _ = invoker(store)

    await async_invoker.enqueue("orders", b"", qualifier="$LATEST")

    (message,) = await store.receive(queue_name("orders"))
    ((envelope, payload),) = unpack(message, "orders")
    assert (envelope.qualifier, payload) == ("$LATEST", b"")


@pytest.mark.parametrize(
    ("payload", "accepted"),
    [
        pytest.param(b'{"n": 1}', True, id="an object"),
        pytest.param(b'[1, "two", null]', True, id="an array"),
        pytest.param(b'"text"', True, id="a string"),
        pytest.param(b"42", True, id="a number"),
        pytest.param(b'{"a": 1}\r\n \t', True, id="trailing JSON whitespace"),
        pytest.param(b' \n{"a": 1}', True, id="leading whitespace"),
        pytest.param('{"é": "ü"}'.encode(), True, id="UTF-8 beyond ASCII"),
        pytest.param('{"a": 1}'.encode("utf-16"), True, id="UTF-16 with a byte order mark"),
        pytest.param(b"NaN", False, id="NaN, which Python's json accepts and Lambda refuses"),
        pytest.param(b"   ", True, id="only whitespace, as an empty event"),
        pytest.param(b"{not json", False, id="broken JSON"),
        pytest.param(b'{"a": 1} {"b": 2}', False, id="two values"),
        pytest.param(b'{"a": 1}\x0c', False, id="a form feed after the value"),
        pytest.param(b'"\xff"', False, id="bytes that are not UTF-8"),
        pytest.param(b"{'a': 1}", False, id="single quotes"),
    ],
)
def test_event_payloads_are_checked_as_lambda_reads_json(payload: bytes, accepted: bool) -> None:
    if accepted:
        check_event_payload(payload)
    else:
        with pytest.raises(InvalidRequestContent, match="Could not parse payload into json"):
            check_event_payload(payload)


def test_request_ids_are_distinct_version_4_uuids_across_refills() -> None:
    ids = UuidPool()
    taken = [i for _ in range(300) for i in ids.take(1)] + ids.take(500) + ids.take(3)

    assert len(set(taken)) == len(taken)
    for request_id in taken:
        parsed = uuid.UUID(request_id)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, request_id)
