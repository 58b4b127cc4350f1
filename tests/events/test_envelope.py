"""Packs of events on a function's queue, each event with its state between tries."""

from __future__ import annotations

import json

import pytest

from skylet.events.envelope import (
    MAGIC,
    MAX_ERRORS_KEPT,
    MAX_PACK_BYTES,
    MAX_PACK_EVENTS,
    Envelope,
    TryError,
    pack,
    queue_name,
    unpack,
)
from skylet.store.types import Message


def message(body: bytes, *, sent_at: float = 100.0) -> Message:
    return Message("m-1", body, {}, "1-0123456789abcdef", 1, sent_at, sent_at)


def test_first_tries_carry_only_their_ids_and_take_the_packs_send_time() -> None:
    events = [(Envelope("a", "fn", 0.0), b'{"n": 1}'), (Envelope("b", "fn", 0.0, "7"), b"")]

    (body,) = pack(events)

    assert body.startswith(MAGIC)
    assert json.loads(body.split(b"\n")[1]) == [["a", 8], ["b", 0, "7"]]
    assert unpack(message(body, sent_at=55.0), "fn") == [
        (Envelope("a", "fn", 55.0), b'{"n": 1}'),
        (Envelope("b", "fn", 55.0, "7"), b""),
    ]


def test_a_retry_carries_its_request_id_age_and_tries() -> None:
    tried = (
        Envelope("req", "fn", 50.0)
        .after_run(TryError.of("ValueError", "boom"))
        .after_deferral(TryError.of("TooManyRequestsException", "Rate Exceeded.", 429))
        .next_generation()
    )

    ((back, payload),) = unpack(message(pack([(tried, b"\x00raw\xff")])[0], sent_at=120.0), "fn")

    assert back == tried
    assert payload == b"\x00raw\xff"  # the caller's bytes, never re-encoded
    assert (back.enqueued_at, back.generation, back.runs, back.deferrals) == (50.0, 1, 1, 1)
    assert [e.status for e in back.errors] == [200, 429]


@pytest.mark.parametrize(
    ("count", "size", "packs"),
    [
        pytest.param(250, 10, [100, 100, 50], id="at most 100 events a pack"),
        pytest.param(3, MAX_PACK_BYTES // 2, [2, 1], id="about a megabyte of payload a pack"),
        pytest.param(2, MAX_PACK_BYTES + 5, [1, 1], id="a big event travels alone"),
    ],
)
def test_events_are_packed_in_order_within_the_limits(
    count: int, size: int, packs: list[int]
) -> None:
    events = [(Envelope(f"r{n}", "fn", 0.0), b"x" * size) for n in range(count)]

    bodies = pack(events)

    assert [len(unpack(message(b), "fn")) for b in bodies] == packs
    ids = [e.request_id for b in bodies for e, _ in unpack(message(b), "fn")]
    assert ids == [f"r{n}" for n in range(count)]
    assert MAX_PACK_EVENTS == 100


def test_errors_keep_the_latest_three_and_the_first_kilobyte_of_each() -> None:
    envelope = Envelope("req", "fn", 0.0)
    for n in range(5):
        envelope = envelope.after_run(TryError.of("E", str(n) * 5000))

    assert len(envelope.errors) == MAX_ERRORS_KEPT
    assert [e.message[0] for e in envelope.errors] == ["2", "3", "4"]
    assert all(len(e.message) == 1024 for e in envelope.errors)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"plain": "event"}', id="a body without the pack header"),
        pytest.param(MAGIC + b"[", id="a header that is no JSON"),
        pytest.param(MAGIC + b'[["a", 5]]\nabc', id="payloads shorter than announced"),
        pytest.param(MAGIC + b'[["a", 1]]\nabc', id="bytes beyond the payloads"),
        pytest.param(MAGIC + b"[]\n", id="no events"),
        pytest.param(MAGIC + b'[{"a": 1}]\n', id="a header entry that is no list"),
        pytest.param(MAGIC + b'[["a", 0, null, 1, 1, 0]]\n', id="a retry header cut short"),
    ],
)
def test_bodies_skylet_did_not_write_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a pack of asynchronous invocations"):
        unpack(message(body), "fn")


def test_queue_names_cannot_collide_with_sqs_names() -> None:
    assert queue_name("orders") == "skylet:async:orders"


def test_the_callers_trace_travels_with_the_event_and_its_retries() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    first = Envelope("a", "fn", 0.0, trace=traceparent)
    retry = first.after_run(TryError.of("ValueError", "boom")).next_generation()

    (body,) = pack([(first, b"{}"), (Envelope("b", "fn", 0.0, "3", trace=traceparent), b"")])
    ((again, _),) = unpack(message(pack([(retry, b"{}")])[0]), "fn")

    assert json.loads(body.split(b"\n")[1]) == [
        ["a", 2, None, traceparent],
        ["b", 0, "3", traceparent],
    ]
    assert [e.trace for e, _ in unpack(message(body), "fn")] == [traceparent, traceparent]
    assert [e.qualifier for e, _ in unpack(message(body), "fn")] == [None, "3"]
    assert again == retry
    assert again.trace == traceparent
