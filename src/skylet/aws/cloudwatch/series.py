"""CloudWatch's metrics on the store: datapoints aggregated per minute in memory, flushed to
store tables, rolled up to 5 minutes, and expired.

A series is a namespace, a metric name and its dimensions (sorted by name). Its datapoints are
rows of the table ``cloudwatch/datapoints``: the partition is the series and its resolution
(60 or 300 seconds), the sort key the datapoint's start (epoch seconds, 8 bytes big-endian),
the data a :class:`~skylet.aws.cloudwatch.stats.StatSet` as JSON. A flush merges each minute's
set into its 1-minute row and into the 5-minute row that holds it, in one transaction with the
series' row in the catalog (``cloudwatch/metrics``, for ListMetrics). Retention: 1-minute rows
for ``MINUTE_RETENTION_S`` (24 h), 5-minute rows for ``FIVE_MINUTE_RETENTION_S`` (15 days);
:meth:`MetricSeries.expire` deletes older rows. Both store backends run it
(tests/store/test_contract_metrics.py).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from skylet.aws.cloudwatch.stats import StatSet
from skylet.errors import StoreConflict
from skylet.store.base import Store
from skylet.store.types import Row, RowKey, SortRange, TableWrite

DATAPOINTS = "cloudwatch/datapoints"
CATALOG = "cloudwatch/metrics"
MINUTE_RETENTION_S = 24 * 3600
FIVE_MINUTE_RETENTION_S = 15 * 24 * 3600
RESOLUTIONS = (60, 300)

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, order=True)
class SeriesKey:
    namespace: str
    metric: str
    dimensions: Dimensions = ()

    @classmethod
    def of(
        cls, namespace: str, metric: str, dimensions: dict[str, str] | Dimensions = ()
    ) -> SeriesKey:
        items = dimensions.items() if isinstance(dimensions, dict) else dimensions
        return cls(namespace, metric, tuple(sorted(items)))

    def partition(self, resolution: int) -> bytes:
        body = json.dumps([self.namespace, self.metric, self.dimensions], separators=(",", ":"))
        return f"{body}|{resolution}".encode()

    def catalog_key(self) -> RowKey:
        sort = json.dumps([self.metric, self.dimensions], separators=(",", ":")).encode()
        return RowKey(CATALOG, self.namespace.encode(), sort)


def _stamp(ts: int) -> bytes:
    return max(ts, 0).to_bytes(8, "big")


def _unstamp(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


#: The series-minutes one flush holds at most: a function printing EMF lines with ever new
#: dimension values (or a PutMetricData loop) costs this much memory at most between flushes.
MAX_PENDING_SERIES = 20_000


class Aggregator:
    """Datapoints of the minute they fall in, in memory, until :meth:`drain`. Pure. Past
    ``max_series`` series-minutes, values of new ones are not kept (``dropped`` counts them)."""

    def __init__(self, max_series: int = MAX_PENDING_SERIES) -> None:
        self.points: dict[tuple[SeriesKey, int], StatSet] = {}
        self.max_series = max_series
        self.dropped = 0

    def add(
        self, key: SeriesKey, at: float, value: float, count: float = 1.0, unit: str = "None"
    ) -> StatSet:
        found = self.at(key, at, unit)
        found.add(value, count)
        return found

    def at(self, key: SeriesKey, at: float, unit: str = "None") -> StatSet:
        """The set of ``key``'s minute at ``at``, made empty if there is none yet (a set
        kept nowhere when the aggregator is full)."""
        minute = int(at // 60) * 60
        found = self.points.get((key, minute))
        if found is None:
            if len(self.points) >= self.max_series:
                self.dropped += 1
                return StatSet(unit=unit)
            found = self.points[(key, minute)] = StatSet(unit=unit)
        return found

    def drain(self) -> dict[tuple[SeriesKey, int], StatSet]:
        points, self.points = self.points, {}
        return {k: v for k, v in points.items() if v.count > 0}


class MetricSeries:
    """The metrics' store tables. ``write`` is idempotent only per call: a flush that raised
    may have been applied (then its points count twice if written again)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self) -> None:
        for table in (DATAPOINTS, CATALOG):
            if await self.store.get_table(table) is None:
                with contextlib.suppress(StoreConflict):  # another node made it meanwhile
                    await self.store.create_table(table, attributes="{}")

    async def write(self, points: dict[tuple[SeriesKey, int], StatSet]) -> None:
        """Merge per-minute sets into their 1- and 5-minute rows, and the catalog, at once."""
        if not points:
            return
        merged: dict[RowKey, StatSet] = {}
        latest: dict[SeriesKey, int] = {}
        for (key, minute), stats in points.items():
            for resolution in RESOLUTIONS:
                start = minute - minute % resolution
                row = RowKey(DATAPOINTS, key.partition(resolution), _stamp(start))
                into = merged.get(row)
                if into is None:
                    into = merged[row] = StatSet(unit=stats.unit)
                into.merge(stats)
            latest[key] = max(latest.get(key, 0), minute)
        keys = list(merged)
        catalog = {key.catalog_key(): (key, at) for key, at in latest.items()}
        reads = keys + list(catalog)

        def decide(rows: list[Row | None]) -> tuple[TableWrite, None]:
            puts = []
            for key, row in zip(keys, rows, strict=False):
                stats = merged[key]
                if row is not None:
                    stats = StatSet.from_json(json.loads(row.data))
                    stats.merge(merged[key])
                puts.append(Row(key, json.dumps(stats.to_json()).encode()))
            for row_key, row in zip(catalog, rows[len(keys) :], strict=True):
                series, at = catalog[row_key]
                if row is not None:
                    at = max(at, int(json.loads(row.data)["t"]))
                data = {"t": at, "d": [list(d) for d in series.dimensions]}
                puts.append(Row(row_key, json.dumps(data).encode()))
            return TableWrite(puts=tuple(puts)), None

        await self.store.transact(reads, decide)

    async def read(
        self, key: SeriesKey, start: float, end: float, resolution: int
    ) -> list[tuple[int, StatSet]]:
        """The datapoints of ``key`` at ``resolution`` that start in [start, end)."""
        low = int(start // resolution) * resolution
        found: list[tuple[int, StatSet]] = []
        after: tuple[bytes, bytes] | None = None
        sort = SortRange(_stamp(low), _stamp(int(end)), high_inclusive=False)
        while True:
            rows = await self.store.query_rows(
                DATAPOINTS, key.partition(resolution), sort, after=after, limit=500
            )
            for row in rows:
                at = _unstamp(row.key.sort)
                if start - resolution < at < end:
                    found.append((at, StatSet.from_json(json.loads(row.data))))
            if len(rows) < 500:
                return found
            after = (rows[-1].key.sort, rows[-1].key.unique)

    async def metrics(self, namespace: str | None = None) -> list[tuple[SeriesKey, int]]:
        """Every series in the catalog (of ``namespace``), with its latest minute."""
        found: list[tuple[SeriesKey, int]] = []
        rows: Sequence[Row]
        if namespace is not None:
            after: tuple[bytes, bytes] | None = None
            while True:
                rows = await self.store.query_rows(
                    CATALOG, namespace.encode(), SortRange(), after=after, limit=500
                )
                found.extend(_catalog_entry(row) for row in rows)
                if len(rows) < 500:
                    return found
                after = (rows[-1].key.sort, rows[-1].key.unique)
        scanned: RowKey | None = None
        while True:
            rows = await self.store.scan_rows(CATALOG, after=scanned, limit=500)
            found.extend(_catalog_entry(row) for row in rows)
            if len(rows) < 500:
                return found
            scanned = rows[-1].key

    async def expire(self, now: float) -> int:
        """Delete 1-minute rows older than a day and 5-minute rows older than 15 days (and
        the catalog rows of series with neither); returns how many rows went."""
        removed = 0
        for key, latest in await self.metrics():
            for resolution, keep in ((60, MINUTE_RETENTION_S), (300, FIVE_MINUTE_RETENTION_S)):
                cutoff = _stamp(int(now - keep))
                old = await self.store.query_rows(
                    DATAPOINTS,
                    key.partition(resolution),
                    SortRange(None, cutoff, high_inclusive=False),
                    limit=1000,
                )
                if old:
                    await self._delete(tuple(row.key for row in old))
                    removed += len(old)
            if latest < now - FIVE_MINUTE_RETENTION_S:
                await self._delete((key.catalog_key(),))
        return removed

    async def _delete(self, keys: tuple[RowKey, ...]) -> None:
        def decide(_: list[Row | None]) -> tuple[TableWrite, None]:
            return TableWrite(deletes=keys), None

        await self.store.transact([], decide)


def _catalog_entry(row: Row) -> tuple[SeriesKey, int]:
    metric, dimensions = json.loads(row.key.sort)
    data: dict[str, Any] = json.loads(row.data)
    return SeriesKey(row.key.partition.decode(), metric, tuple(tuple(d) for d in dimensions)), int(
        data["t"]
    )
