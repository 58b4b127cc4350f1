"""CloudWatch's metric series on every store backend: per-minute sets flushed and merged,
rolled up to five minutes, listed, and expired after their retention."""

from __future__ import annotations

import pytest

from skylet.aws.cloudwatch.documents import Documents, History
from skylet.aws.cloudwatch.series import (
    FIVE_MINUTE_RETENTION_S,
    MINUTE_RETENTION_S,
    Aggregator,
    MetricSeries,
    SeriesKey,
)
from skylet.store import Store

pytestmark = pytest.mark.anyio

T0 = 1_700_000_100  # a multiple of 300 (and of 60)
ERRORS = SeriesKey.of("AWS/Lambda", "Errors", {"FunctionName": "f"})


async def series(store: Store) -> MetricSeries:
    made = MetricSeries(store)
    await made.start()
    await made.start()  # idempotent
    return made


async def test_two_flushes_of_one_minute_merge_into_one_datapoint(store: Store) -> None:
    metrics = await series(store)
    first, second = Aggregator(), Aggregator()
    first.add(ERRORS, T0 + 1, 1.0)
    first.add(ERRORS, T0 + 2, 3.0)
    second.add(ERRORS, T0 + 59, 8.0)
    await metrics.write(first.drain())
    await metrics.write(second.drain())

    [(at, stats)] = await metrics.read(ERRORS, T0, T0 + 60, 60)
    assert at == T0
    assert (stats.sum, stats.count, stats.minimum, stats.maximum) == (12.0, 3.0, 1.0, 8.0)


async def test_minutes_roll_up_into_their_five_minute_datapoint(store: Store) -> None:
    metrics = await series(store)
    points = Aggregator()
    for minute in range(7):  # five minutes in the first 5-minute period, two in the next
        points.add(ERRORS, T0 + 60 * minute, float(minute))
    await metrics.write(points.drain())

    minutes = await metrics.read(ERRORS, T0, T0 + 600, 60)
    assert [at for at, _ in minutes] == [T0 + 60 * m for m in range(7)]
    rolled = await metrics.read(ERRORS, T0, T0 + 600, 300)
    assert [(at, s.sum, s.count) for at, s in rolled] == [(T0, 10.0, 5.0), (T0 + 300, 11.0, 2.0)]


async def test_a_percentile_survives_the_store_within_one_percent(store: Store) -> None:
    metrics = await series(store)
    points = Aggregator()
    duration = SeriesKey.of("AWS/Lambda", "Duration", {"FunctionName": "f"})
    for value in range(1, 1001):
        points.add(duration, T0, float(value), unit="Milliseconds")
    await metrics.write(points.drain())

    [(_, stats)] = await metrics.read(duration, T0, T0 + 60, 60)
    p99 = stats.percentile(99)
    assert p99 is not None and abs(p99 - 990) / 990 < 0.01
    assert stats.unit == "Milliseconds"


async def test_the_catalog_lists_series_by_namespace(store: Store) -> None:
    metrics = await series(store)
    points = Aggregator()
    points.add(ERRORS, T0, 1.0)
    points.add(SeriesKey.of("Shop", "Orders", {"Region": "eu", "Tier": "gold"}), T0 + 120, 2.0)
    await metrics.write(points.drain())

    assert await metrics.metrics("Shop") == [
        (SeriesKey("Shop", "Orders", (("Region", "eu"), ("Tier", "gold"))), T0 + 120)
    ]
    assert {key.namespace for key, _ in await metrics.metrics()} == {"AWS/Lambda", "Shop"}


async def test_rows_past_their_retention_are_expired(store: Store) -> None:
    metrics = await series(store)
    points = Aggregator()
    points.add(ERRORS, T0, 1.0)
    await metrics.write(points.drain())

    assert await metrics.expire(T0 + MINUTE_RETENTION_S - 60) == 0
    assert await metrics.expire(T0 + MINUTE_RETENTION_S + 60) == 1
    assert await metrics.read(ERRORS, T0, T0 + 60, 60) == []
    assert len(await metrics.read(ERRORS, T0, T0 + 300, 300)) == 1
    assert await metrics.expire(T0 + FIVE_MINUTE_RETENTION_S + 600) == 1
    assert await metrics.read(ERRORS, T0, T0 + 300, 300) == []
    assert await metrics.metrics() == []


async def test_documents_are_kept_by_name_listed_by_prefix_and_deleted(store: Store) -> None:
    alarms = Documents(store, "cloudwatch/alarms")
    await alarms.start()
    await alarms.start()
    for name in ("orders-high", "orders-low", "payments"):
        await alarms.put(name, {"AlarmName": name})
    await alarms.put("orders-low", {"AlarmName": "orders-low", "StateValue": "OK"})

    assert await alarms.get("orders-low") == {"AlarmName": "orders-low", "StateValue": "OK"}
    assert [a["AlarmName"] for a in await alarms.all("orders")] == ["orders-high", "orders-low"]
    await alarms.delete(["orders-high", "payments"])
    assert [a["AlarmName"] for a in await alarms.all()] == ["orders-low"]
    assert await alarms.get("payments") is None


async def test_history_is_ordered_by_time_and_trimmed(store: Store) -> None:
    history = History(store, "cloudwatch/alarm-history")
    await history.start()
    await history.add("a", T0 + 2, {"n": 2})
    await history.add("a", T0 + 1, {"n": 1})
    await history.add("b", T0 + 3, {"n": 3})

    assert await history.items("a") == [{"n": 2}, {"n": 1}]
    assert await history.items("a", newest_first=False) == [{"n": 1}, {"n": 2}]
    assert await history.alarms() == ["a", "b"]
    assert await history.trim(T0 + 2.5) == 2
    assert await history.items("a") == []
    assert await history.items("b") == [{"n": 3}]
