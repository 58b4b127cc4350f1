"""Function logs in the store: they outlive a restart, stay within their bounds and their
retention, and are readable before they are written. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from skylet.observe.archive import ArchiveLimits, LogArchive, StoredEntry
from skylet.store.base import Store
from tests.store_fixtures import FakeClock, StoreMaker

pytestmark = pytest.mark.anyio


def entry(n: int, at: float, *, function: str = "fn", text: str = "") -> StoredEntry:
    body = text or f"START RequestId: r-{n}\nline {n}\nREPORT RequestId: r-{n}\n"
    stream = "2026/12/08/[$LATEST]" + "a" * 32
    return StoredEntry(function, at, f"r-{n}", stream, f"/aws/lambda/{function}", body)


async def test_entries_outlive_a_restart(make_store: StoreMaker, clock: FakeClock) -> None:
    first = make_store()
    await first.start()
    archive = LogArchive(first, now=clock)
    archive.configure("fn", group="/custom/fn", retention_days=None)
    for n in range(3):
        archive.offer(entry(n, clock() + n))
    assert await archive.flush() == 3
    await first.aclose()
    again = make_store()
    await again.start()
    try:
        read = await LogArchive(again, now=clock).read("fn")
    finally:
        await again.aclose()
    assert [e.request_id for e in read] == ["r-0", "r-1", "r-2"]
    assert read[0].group == "/custom/fn"
    assert read[0].stream.startswith("2026/12/08/[$LATEST]")
    assert "line 1" in read[1].text


async def test_the_oldest_entries_go_past_the_count_bound(store: Store, clock: FakeClock) -> None:
    archive = LogArchive(store, limits=ArchiveLimits(max_entries_per_function=4), now=clock)
    for n in range(10):
        archive.offer(entry(n, clock()))
        await archive.flush()
        clock.advance(1.0)
    kept = [e.request_id for e in await archive.read("fn")]
    assert kept == ["r-6", "r-7", "r-8", "r-9"]


async def test_the_oldest_entries_go_past_the_byte_bound(store: Store, clock: FakeClock) -> None:
    archive = LogArchive(store, limits=ArchiveLimits(max_bytes_per_function=2500), now=clock)
    for n in range(6):
        archive.offer(entry(n, clock(), text="x" * 1000))
        await archive.flush()
        clock.advance(1.0)
    kept = [e.request_id for e in await archive.read("fn")]
    assert kept == ["r-4", "r-5"]


async def test_the_bound_holds_after_a_restart(make_store: StoreMaker, clock: FakeClock) -> None:
    limits = ArchiveLimits(max_entries_per_function=3)
    first = make_store()
    await first.start()
    archive = LogArchive(first, limits=limits, now=clock)
    for n in range(3):
        archive.offer(entry(n, clock()))
        await archive.flush()
        clock.advance(1.0)
    await first.aclose()
    again = make_store()
    await again.start()
    try:
        archive = LogArchive(again, limits=limits, now=clock)
        archive.offer(entry(3, clock()))
        await archive.flush()
        kept = [e.request_id for e in await archive.read("fn")]
    finally:
        await again.aclose()
    assert kept == ["r-1", "r-2", "r-3"]


async def test_retention_drops_entries_older_than_its_days(store: Store, clock: FakeClock) -> None:
    archive = LogArchive(store, now=clock)
    archive.configure("fn", group="/aws/lambda/fn", retention_days=1)
    archive.offer(entry(0, clock()))
    await archive.flush()
    clock.advance(2 * 86_400.0)
    archive.offer(entry(1, clock()))
    await archive.flush()
    assert [e.request_id for e in await archive.read("fn")] == ["r-1"]


async def test_reads_choose_by_time_and_match_and_see_unwritten_entries(
    store: Store, clock: FakeClock
) -> None:
    archive = LogArchive(store, now=clock)
    start = clock()
    for n in range(4):
        archive.offer(entry(n, start + n * 10))
    await archive.flush()
    archive.offer(entry(4, start + 40))  # not written yet
    archive.offer(entry(9, start + 40, function="other"))
    window = await archive.read("fn", since=start + 10, until=start + 40)
    assert [e.request_id for e in window] == ["r-1", "r-2", "r-3"]
    everything = await archive.read("fn", match=lambda e: "line 4" in e.text or "line 0" in e.text)
    assert [e.request_id for e in everything] == ["r-0", "r-4"]
    assert [e.request_id for e in await archive.read("fn", limit=2)] == ["r-3", "r-4"]
    assert await archive.functions() == ["fn", "other"]


async def test_pending_entries_past_the_bound_are_dropped_and_counted(store: Store) -> None:
    archive = LogArchive(store, limits=ArchiveLimits(max_pending_entries=3))
    for n in range(5):
        archive.offer(entry(n, 1000.0 + n))
    assert archive.dropped == 2
    await archive.flush()
    assert [e.request_id for e in await archive.read("fn")] == ["r-2", "r-3", "r-4"]


async def test_deleting_a_log_removes_it(store: Store) -> None:
    archive = LogArchive(store)
    archive.offer(entry(0, 1000.0))
    await archive.flush()
    assert await archive.delete("fn")
    assert await archive.read("fn") == []


async def test_expiry_drops_what_is_past_retention_without_new_writes(
    store: Store, clock: FakeClock
) -> None:
    archive = LogArchive(store, now=clock)
    archive.configure("fn", group="/aws/lambda/fn", retention_days=1)
    archive.offer(entry(0, clock()))
    await archive.flush()
    clock.advance(86_400.0 + 60)
    assert await archive.read("fn") == []  # past its retention: no longer read
    await archive.expire()
    archive.set_retention("fn", None)
    assert await archive.read("fn") == []  # and gone from the store
