"""Invocation records in a store log: written in batches, read by stage, trimmed by policy."""

from __future__ import annotations

import pytest

from skylet.errors import InvalidParameterValue
from skylet.events.envelope import TryError
from skylet.events.records import (
    AsyncInvocation,
    RecordBook,
    RetentionPolicy,
    log_name,
    parse_status,
)
from skylet.store.base import Store
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio


def snap(rid: str, status: str, t: float, *, gen: int = 0, fn: str = "fn") -> AsyncInvocation:
    return AsyncInvocation(rid, fn, status, 1.0, t, generation=gen)  # type: ignore[arg-type]


async def test_query_lists_the_newest_changes_first_with_their_current_state(
    store: Store,
) -> None:
    book = RecordBook(store)
    await book.write([snap("a", "queued", 1), snap("b", "queued", 2)])
    await book.write([snap("a", "succeeded", 3)])
    await book.write([snap("c", "queued", 4)])

    listed = await book.query("fn")

    assert [(r.request_id, r.status) for r in listed] == [
        ("c", "queued"),
        ("a", "succeeded"),
        ("b", "queued"),
    ]
    assert [r.request_id for r in await book.query("fn", limit=2)] == ["c", "a"]
    assert [r.request_id for r in await book.query("fn", status="queued")] == ["c", "b"]
    assert await book.query("fn", status="failed") == []
    assert await book.query("other") == []


async def test_snapshots_written_together_share_one_log_entry(store: Store) -> None:
    book = RecordBook(store)
    await book.write([snap(f"r{n}", "queued", n) for n in range(100)])

    entries = await store.read(log_name("fn"), 0, after_sequence=0, limit=10)

    assert len(entries) == 1
    assert len(await book.query("fn", limit=1000)) == 100


async def test_a_later_stage_wins_over_an_entry_appended_after_it(store: Store) -> None:
    # Two nodes: one finishes the event before the other's "queued" entry lands.
    book = RecordBook(store)
    await book.write([snap("a", "succeeded", 2)])
    await book.write([snap("a", "queued", 1)])
    await book.write([snap("b", "succeeded", 1, gen=0), snap("b", "queued", 2, gen=1)])

    states = {r.request_id: (r.status, r.generation) for r in await book.query("fn")}

    assert states == {"a": ("succeeded", 0), "b": ("queued", 1)}
    got = await book.get("fn", "a")
    assert got is not None and got.status == "succeeded"
    assert await book.get("fn", "missing") is None


async def test_records_round_trip_every_field(store: Store) -> None:
    book = RecordBook(store)
    full = AsyncInvocation(
        request_id="r",
        function="fn",
        status="failed",
        enqueued_at=10.5,
        updated_at=20.25,
        generation=2,
        attempts=3,
        throttles=4,
        errors=(
            TryError.of("ValueError", "boom"),
            TryError.of("TooManyRequestsException", "x", 429),
        ),
        condition="RetriesExhausted",
        next_attempt_at=None,
        delivery_error="queue:gone: queue 'gone' does not exist",
    )
    await book.write([full])

    assert await book.get("fn", "r") == full
    assert full.to_json()["errors"][1] == {
        "type": "TooManyRequestsException",
        "message": "x",
        "status": 429,
    }


async def test_latest_since_reads_only_entries_written_after_the_time(
    store: Store, clock: FakeClock
) -> None:
    book = RecordBook(store, now=clock)
    await book.write([snap("old", "succeeded", 1)])
    clock.advance(100)
    since = clock()
    await book.write([snap("new", "running", 2), snap("x", "queued", 2)])
    await book.write([snap("new", "succeeded", 3)])

    found = await book.latest_since("fn", {"old", "new"}, since)

    assert {k: v.status for k, v in found.items()} == {"new": "succeeded"}
    assert await book.latest_since("nothing", {"old"}, 0.0) == {}


async def test_retention_trims_by_age_and_by_count_but_keeps_recent_entries(
    store: Store, clock: FakeClock
) -> None:
    # Entries two hours apart; the count cap wants the newest 3, but the last 5 h stay.
    policy = RetentionPolicy(
        max_age_s=7 * 86_400, max_entries_per_function=3, keep_at_least_s=5 * 3600
    )
    book = RecordBook(store, now=clock, retention=policy)
    await book.write([snap("ancient", "succeeded", 0)])
    clock.advance(8 * 86_400)
    for n in range(5):
        await book.write([snap(f"day{n}", "succeeded", 0)])
        clock.advance(7200)
    for n in range(2):
        await book.write([snap(f"now{n}", "succeeded", 0)])

    dropped = await book.apply_retention(["fn", "unknown"])

    kept = {r.request_id for r in await book.query("fn", limit=100)}
    assert dropped == 1 + 3
    assert kept == {"day3", "day4", "now0", "now1"}


def test_a_status_filter_is_one_of_the_five() -> None:
    assert parse_status("failed") == "failed"
    with pytest.raises(InvalidParameterValue, match="'done' is not one of queued, running"):
        parse_status("done")
