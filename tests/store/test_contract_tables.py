"""Table contract: rows by key, one partition's range in key order, scans in segments, and
transactions that decide on what they read and append to logs in the same commit."""

from __future__ import annotations

import asyncio

import pytest

from skylet.errors import ResourceNotFound, StoreConflict
from skylet.store import Store
from skylet.store.types import LogAppend, Row, RowKey, SortRange, TableWrite

pytestmark = pytest.mark.anyio


def put(*rows: Row) -> TableWrite:
    return TableWrite(puts=rows)


async def write(store: Store, *rows: Row) -> None:
    await store.transact([], lambda _: (put(*rows), None))


async def test_tables_are_created_listed_updated_and_deleted_with_their_rows(
    store: Store,
) -> None:
    await store.create_table("b", attributes="{}")
    await store.create_table("a", attributes='{"x": 1}')
    with pytest.raises(StoreConflict):
        await store.create_table("a", attributes="{}")
    await write(store, Row(RowKey("a", b"p"), b"item"))

    assert [t.name for t in await store.list_tables()] == ["a", "b"]
    assert (await store.update_table("a", attributes="{}")).attributes == "{}"
    assert await store.delete_table("a") is True
    assert await store.delete_table("a") is False
    with pytest.raises(ResourceNotFound):
        await store.update_table("a", attributes="{}")
    await store.create_table("a", attributes="{}")
    assert await store.get_rows([RowKey("a", b"p")]) == [None]


async def test_a_query_reads_one_partitions_range_in_unsigned_byte_order(store: Store) -> None:
    await store.create_table("t", attributes="{}")
    sorts = [b"\x00", b"a", b"ab", b"b", b"\x7f", b"\x80", b"\xff"]
    await write(store, *(Row(RowKey("t", b"p", s), s) for s in sorts))
    await write(store, Row(RowKey("t", b"q", b"a"), b"other partition"))

    everything = await store.query_rows("t", b"p", SortRange())
    middle = await store.query_rows("t", b"p", SortRange(b"a", b"\x80", False, True))
    backwards = await store.query_rows("t", b"p", SortRange(), forward=False, limit=2)

    assert [r.key.sort for r in everything] == sorted(sorts)
    assert [r.key.sort for r in middle] == [b"ab", b"b", b"\x7f", b"\x80"]
    assert [r.key.sort for r in backwards] == [b"\xff", b"\x80"]
    after = await store.query_rows("t", b"p", SortRange(), after=(b"b", b""), limit=2)
    assert [r.key.sort for r in after] == [b"\x7f", b"\x80"]


async def test_rows_of_equal_keys_are_told_apart_by_unique(store: Store) -> None:
    await store.create_table("t/index", attributes="{}")
    await write(
        store,
        Row(RowKey("t/index", b"p", b"s", b"2"), b"two"),
        Row(RowKey("t/index", b"p", b"s", b"1"), b"one"),
    )
    rows = await store.query_rows("t/index", b"p", SortRange(b"s", b"s"))
    assert [r.data for r in rows] == [b"one", b"two"]


async def test_scan_segments_partition_the_table_and_page(store: Store) -> None:
    await store.create_table("t", attributes="{}")
    await write(store, *(Row(RowKey("t", str(i).encode()), b"x") for i in range(50)))

    seen: list[bytes] = []
    for segment in range(3):
        after = None
        while True:
            page = await store.scan_rows("t", after=after, limit=7, segment=segment, segments=3)
            if not page:
                break
            seen.extend(r.key.partition for r in page)
            after = page[-1].key
    assert sorted(seen) == sorted(str(i).encode() for i in range(50))
    assert await store.count_rows("t") == (50, 50)


async def test_a_transaction_decides_on_what_it_read_and_appends_in_the_same_commit(
    store: Store,
) -> None:
    await store.create_table("t", attributes="{}")
    await store.create_log("t-stream")
    key = RowKey("t", b"counter")

    def increment(rows: list[Row | None]) -> tuple[TableWrite, int]:
        current = int(rows[0].data) if rows[0] is not None else 0
        new = str(current + 1).encode()
        return TableWrite(puts=(Row(key, new),), appends=(LogAppend("t-stream", (new,)),)), current

    results = await asyncio.gather(*(store.transact([key], increment) for _ in range(20)))

    assert sorted(results) == list(range(20))
    assert (await store.get_rows([key]))[0] == Row(key, b"20")
    records = await store.read("t-stream", 0, after_sequence=0)
    assert [r.data for r in records] == [str(i).encode() for i in range(1, 21)]


async def test_a_decision_that_raises_writes_nothing(store: Store) -> None:
    await store.create_table("t", attributes="{}")
    await store.create_log("t-stream")
    key = RowKey("t", b"k")

    def refuse(rows: list[Row | None]) -> tuple[TableWrite, None]:
        raise ValueError("condition failed")

    with pytest.raises(ValueError, match="condition failed"):
        await store.transact([key], refuse)
    assert await store.get_rows([key]) == [None]
    assert await store.read("t-stream", 0, after_sequence=0) == []


async def test_deletes_remove_rows(store: Store) -> None:
    await store.create_table("t", attributes="{}")
    key = RowKey("t", b"k", b"s")
    await write(store, Row(key, b"v"))
    await store.transact([key], lambda rows: (TableWrite(deletes=(key,)), None))
    assert await store.get_rows([key]) == [None]
