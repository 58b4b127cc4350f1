"""Metered usage on the store: one row per function, hour, memory size and architecture.

The table ``cost/usage``: the partition is the function's name, the sort key the hour's start
(epoch seconds, 8 bytes big-endian) then ``|memory|architecture``, the data a
:class:`Counts` as JSON. :meth:`Ledger.add` merges counts into their rows in one transaction,
so several nodes (PostgreSQL) add into the same hours. Rows older than ``RETENTION_S`` (400
days: a year and the month before it) go with :meth:`Ledger.expire`. Both store backends run
it (tests/store/test_contract_cost.py).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import NamedTuple

from skylet.errors import StoreConflict
from skylet.store.base import Store
from skylet.store.types import Row, RowKey, SortRange, TableWrite

USAGE = "cost/usage"
HOUR_S = 3600
RETENTION_S = 400 * 24 * 3600
PAGE = 500


@dataclass(slots=True)
class Counts:
    """One bucket's usage. ``billed_ms``: billed duration (init and restore hooks included,
    each invocation rounded up to 1 ms); ``init_ms``: the inits' time in it (unrounded);
    ``gb_seconds``: billed x memory; ``provisioned_s``: seconds x provisioned instances kept,
    ``provisioned_gb_seconds`` that x memory."""

    requests: int = 0
    billed_ms: int = 0
    init_ms: float = 0.0
    cold_starts: int = 0
    errors: int = 0
    gb_seconds: float = 0.0
    provisioned_s: float = 0.0
    provisioned_gb_seconds: float = 0.0
    #: The part of ``gb_seconds`` that provisioned instances served.
    provisioned_compute_gb_seconds: float = 0.0

    def merge(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, float]) -> Counts:
        made = cls()
        for f in fields(cls):
            if f.name in data:
                kind = int if isinstance(getattr(made, f.name), int) else float
                setattr(made, f.name, kind(data[f.name]))
        return made


class Bucket(NamedTuple):
    """Where counts are kept: a function, an hour (its start, epoch seconds), a memory size
    and an architecture."""

    function: str
    hour: int
    memory_mb: int
    architecture: str

    def key(self) -> RowKey:
        sort = _stamp(self.hour) + f"|{self.memory_mb}|{self.architecture}".encode()
        return RowKey(USAGE, self.function.encode(), sort)

    @classmethod
    def of_key(cls, key: RowKey) -> Bucket:
        hour = int.from_bytes(key.sort[:8], "big")
        _, memory, arch = key.sort[8:].decode().split("|")
        return cls(key.partition.decode(), hour, int(memory), arch)


def hour_of(at: float) -> int:
    return int(at // HOUR_S) * HOUR_S


def _stamp(at: int) -> bytes:
    return max(at, 0).to_bytes(8, "big")


class Ledger:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self) -> None:
        if await self.store.get_table(USAGE) is None:
            with contextlib.suppress(StoreConflict):  # another node made it meanwhile
                await self.store.create_table(USAGE, attributes="{}")

    async def add(self, counts: Mapping[Bucket, Counts]) -> None:
        """Merge ``counts`` into their rows, at once. Not idempotent: a call that raised may
        have been applied."""
        if not counts:
            return
        buckets = list(counts)
        keys = [b.key() for b in buckets]

        def decide(rows: list[Row | None]) -> tuple[TableWrite, None]:
            puts = []
            for bucket, key, row in zip(buckets, keys, rows, strict=True):
                merged = Counts()
                if row is not None:
                    merged = Counts.from_json(json.loads(row.data))
                merged.merge(counts[bucket])
                puts.append(Row(key, json.dumps(merged.to_json()).encode()))
            return TableWrite(puts=tuple(puts)), None

        await self.store.transact(keys, decide)

    async def read(
        self, start: float, end: float, function: str | None = None
    ) -> dict[Bucket, Counts]:
        """The buckets whose hour starts in [hour_of(start), end), of ``function`` or all."""
        low, high = _stamp(hour_of(start)), _stamp(int(end))
        found: dict[Bucket, Counts] = {}
        if function is not None:
            after: tuple[bytes, bytes] | None = None
            while True:
                rows = await self.store.query_rows(
                    USAGE,
                    function.encode(),
                    SortRange(low, high, high_inclusive=False),
                    after=after,
                    limit=PAGE,
                )
                found.update(_entries(rows))
                if len(rows) < PAGE:
                    return found
                after = (rows[-1].key.sort, rows[-1].key.unique)
        scanned: RowKey | None = None
        while True:
            rows = list(await self.store.scan_rows(USAGE, after=scanned, limit=PAGE))
            found.update(_entries(r for r in rows if low <= r.key.sort[:8] < high))
            if len(rows) < PAGE:
                return found
            scanned = rows[-1].key

    async def expire(self, now: float, retention_s: float = RETENTION_S) -> int:
        """Delete the buckets older than ``retention_s``; returns how many went."""
        cutoff = _stamp(hour_of(now - retention_s))
        old: list[RowKey] = []
        scanned: RowKey | None = None
        while True:
            rows = list(await self.store.scan_rows(USAGE, after=scanned, limit=PAGE))
            old.extend(r.key for r in rows if r.key.sort[:8] < cutoff)
            if len(rows) < PAGE:
                break
            scanned = rows[-1].key
        if old:
            doomed = tuple(old)

            def decide(_: list[Row | None]) -> tuple[TableWrite, None]:
                return TableWrite(deletes=doomed), None

            await self.store.transact([], decide)
        return len(old)


def _entries(rows: Iterable[Row]) -> dict[Bucket, Counts]:
    out: dict[Bucket, Counts] = {}
    for row in rows:
        out[Bucket.of_key(row.key)] = Counts.from_json(json.loads(row.data))
    return out
