"""Log contract: append and read per partition, offsets, trimming, start positions, wake-ups."""

from __future__ import annotations

import asyncio

import pytest

from skylet.errors import InvalidParameterValue, LogNotFound, StoreConflict
from skylet.store import AT_TIMESTAMP, LATEST, TRIM_HORIZON, LogConfig, Store
from skylet.store.rules import partition_for_key
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio


async def test_append_returns_consecutive_sequences_and_read_returns_records_in_order(
    store: Store, clock: FakeClock
) -> None:
    await store.create_log("stream")
    first = await store.append("stream", [b"a", b"b"], attributes={"event": "INSERT"})
    clock.advance(1)
    second = await store.append("stream", [b"c"])

    records = await store.read("stream", 0, after_sequence=0)

    assert (first, second) == ([1, 2], [3])
    assert [(r.sequence, r.data, r.partition) for r in records] == [
        (1, b"a", 0),
        (2, b"b", 0),
        (3, b"c", 0),
    ]
    assert records[0].attributes == {"event": "INSERT"}
    assert records[2].attributes == {}
    assert records[2].timestamp == records[0].timestamp + 1


async def test_read_after_a_sequence_with_a_limit_pages_through(store: Store) -> None:
    await store.create_log("stream")
    await store.append("stream", [str(i).encode() for i in range(10)])
    page = await store.read("stream", 0, after_sequence=3, limit=4)
    assert [r.sequence for r in page] == [4, 5, 6, 7]
    assert await store.read("stream", 0, after_sequence=10) == []


async def test_partitions_keep_their_own_sequences(store: Store) -> None:
    await store.create_log("stream", partitions=4)
    key = "user-42"
    home = partition_for_key(key, 4)

    assert await store.append("stream", [b"x", b"y"], key=key) == [1, 2]
    assert await store.append("stream", [b"z"], partition=(home + 1) % 4) == [1]
    assert await store.append("stream", [b"w"], key=key) == [3]
    assert [r.data for r in await store.read("stream", home, after_sequence=0)] == [
        b"x",
        b"y",
        b"w",
    ]


async def test_partition_out_of_range_is_refused(store: Store) -> None:
    await store.create_log("stream", partitions=2)
    with pytest.raises(InvalidParameterValue):
        await store.append("stream", [b"x"], partition=2)
    with pytest.raises(InvalidParameterValue):
        await store.read("stream", -1, after_sequence=0)


async def test_consumer_offsets_are_per_consumer_and_partition(store: Store) -> None:
    await store.create_log("stream", partitions=2)
    assert await store.committed("mapper", "stream", 0) is None
    await store.commit("mapper", "stream", 0, 5)
    await store.commit("mapper", "stream", 0, 7)
    await store.commit("other", "stream", 0, 1)
    assert await store.committed("mapper", "stream", 0) == 7
    assert await store.committed("mapper", "stream", 1) is None
    assert await store.committed("other", "stream", 0) == 1


async def test_trim_drops_old_records_and_sequences_keep_growing(
    store: Store, clock: FakeClock
) -> None:
    await store.create_log("stream")
    await store.append("stream", [b"old1", b"old2"])
    clock.advance(100)
    await store.append("stream", [b"new"])

    assert await store.trim("stream", older_than=clock() - 50) == 2

    assert await store.seek("stream", 0, TRIM_HORIZON) == 2
    assert [r.data for r in await store.read("stream", 0, after_sequence=0)] == [b"new"]
    assert await store.append("stream", [b"next"]) == [4]


async def test_trim_horizon_of_a_fully_trimmed_partition_is_its_end(
    store: Store, clock: FakeClock
) -> None:
    await store.create_log("stream")
    await store.append("stream", [b"a", b"b"])
    clock.advance(10)
    await store.trim("stream", older_than=clock())
    assert await store.seek("stream", 0, TRIM_HORIZON) == 2


async def test_latest_reads_only_records_appended_after_the_seek(store: Store) -> None:
    await store.create_log("stream")
    await store.append("stream", [b"before"])
    cursor = await store.seek("stream", 0, LATEST)
    assert await store.read("stream", 0, after_sequence=cursor) == []
    await store.append("stream", [b"after"])
    assert [r.data for r in await store.read("stream", 0, after_sequence=cursor)] == [b"after"]


async def test_at_timestamp_starts_at_the_first_record_at_or_after_it(
    store: Store, clock: FakeClock
) -> None:
    await store.create_log("stream")
    start = clock()
    for name in (b"t0", b"t10", b"t20"):
        await store.append("stream", [name])
        clock.advance(10)

    cursor = await store.seek("stream", 0, AT_TIMESTAMP(start + 10))
    assert [r.data for r in await store.read("stream", 0, after_sequence=cursor)] == [
        b"t10",
        b"t20",
    ]
    assert await store.seek("stream", 0, AT_TIMESTAMP(start + 1000)) == 3


async def test_wait_for_records_wakes_on_append(store: Store) -> None:
    await store.create_log("stream")
    waiter = asyncio.create_task(store.wait_for_records("stream", 10))
    await asyncio.sleep(0.05)
    await store.append("stream", [b"x"])
    assert await asyncio.wait_for(waiter, 5) is True


async def test_create_log_is_idempotent_and_list_get_delete(store: Store) -> None:
    assert await store.create_log("s1", partitions=2) == LogConfig("s1", 2)
    assert await store.create_log("s1", partitions=2) == LogConfig("s1", 2)
    with pytest.raises(StoreConflict):
        await store.create_log("s1", partitions=3)
    await store.create_log("s2")
    await store.append("s1", [b"x"])
    await store.commit("c", "s1", 0, 1)

    assert [log.name for log in await store.list_logs("s")] == ["s1", "s2"]
    assert await store.delete_log("s1") is True
    assert await store.get_log("s1") is None
    assert await store.delete_log("s1") is False
    await store.create_log("s1", partitions=2)
    assert await store.read("s1", 0, after_sequence=0) == []
    assert await store.committed("c", "s1", 0) is None
    assert await store.append("s1", [b"y"], partition=0) == [1]


async def test_unknown_log_is_not_found(store: Store) -> None:
    with pytest.raises(LogNotFound):
        await store.append("nope", [b"x"])
    with pytest.raises(LogNotFound):
        await store.read("nope", 0, after_sequence=0)
