"""Metered usage on every store backend: counts merged into their function's hour, read by
period and function, and expired after their retention."""

from __future__ import annotations

import pytest

from skylet.cost.ledger import HOUR_S, Bucket, Counts, Ledger
from skylet.store import Store

pytestmark = pytest.mark.anyio

T0 = 1_700_002_800  # an hour's start


async def ledger(store: Store) -> Ledger:
    made = Ledger(store)
    await made.start()
    await made.start()  # idempotent
    return made


async def test_two_adds_to_one_bucket_merge(store: Store) -> None:
    usage = await ledger(store)
    bucket = Bucket("f", T0, 512, "x86_64")
    await usage.add({bucket: Counts(requests=2, billed_ms=10, gb_seconds=0.005, init_ms=1.5)})
    await usage.add({bucket: Counts(requests=1, billed_ms=4, gb_seconds=0.002, errors=1)})
    found = await usage.read(T0, T0 + HOUR_S)
    assert found == {
        bucket: Counts(requests=3, billed_ms=14, gb_seconds=0.007, init_ms=1.5, errors=1)
    }


async def test_a_read_takes_the_hours_of_its_period_and_its_function(store: Store) -> None:
    usage = await ledger(store)
    buckets = [
        Bucket("f", T0 - HOUR_S, 128, "x86_64"),
        Bucket("f", T0, 128, "x86_64"),
        Bucket("f", T0, 1024, "arm64"),
        Bucket("g", T0, 128, "x86_64"),
        Bucket("f", T0 + HOUR_S, 128, "x86_64"),
    ]
    await usage.add({b: Counts(requests=i + 1) for i, b in enumerate(buckets)})
    # From the middle of T0's hour: that hour is in, the one before it and the next are not.
    hour = await usage.read(T0 + 1800, T0 + HOUR_S)
    assert sorted(hour) == sorted(buckets[1:4])
    only_f = await usage.read(T0 + 1800, T0 + HOUR_S, "f")
    assert {b: c.requests for b, c in only_f.items()} == {buckets[1]: 2, buckets[2]: 3}
    assert await usage.read(T0, T0 + HOUR_S, "nobody") == {}
    every = await usage.read(0, T0 + 2 * HOUR_S)
    assert len(every) == 5


async def test_buckets_past_their_retention_expire(store: Store) -> None:
    usage = await ledger(store)
    old, new = Bucket("f", T0 - 10 * HOUR_S, 128, "x86_64"), Bucket("f", T0, 128, "x86_64")
    await usage.add({old: Counts(requests=1), new: Counts(requests=1)})
    assert await usage.expire(T0 + 60, retention_s=5 * HOUR_S) == 1
    assert list(await usage.read(0, T0 + HOUR_S)) == [new]
    assert await usage.expire(T0 + 60, retention_s=5 * HOUR_S) == 0


async def test_many_buckets_read_past_a_page(store: Store) -> None:
    usage = await ledger(store)
    buckets = {Bucket(f"f{i:04d}", T0, 128, "x86_64"): Counts(requests=i) for i in range(620)}
    await usage.add(buckets)
    assert len(await usage.read(T0, T0 + HOUR_S)) == 620
