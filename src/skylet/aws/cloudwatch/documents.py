"""JSON documents by name in a store table (alarms, dashboards), and each alarm's history."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from skylet.errors import StoreConflict
from skylet.store.base import Store
from skylet.store.types import Row, RowKey, SortRange, TableWrite

_PARTITION = b"-"


class Documents:
    """Named JSON documents in the table ``table``, listed in name order."""

    def __init__(self, store: Store, table: str) -> None:
        self.store = store
        self.table = table

    async def start(self) -> None:
        if await self.store.get_table(self.table) is None:
            with contextlib.suppress(StoreConflict):
                await self.store.create_table(self.table, attributes="{}")

    def _key(self, name: str) -> RowKey:
        return RowKey(self.table, _PARTITION, name.encode())

    async def get(self, name: str) -> dict[str, Any] | None:
        [row] = await self.store.get_rows([self._key(name)])
        return None if row is None else dict(json.loads(row.data))

    async def put(self, name: str, document: dict[str, Any]) -> None:
        row = Row(self._key(name), json.dumps(document).encode())

        def decide(_: list[Row | None]) -> tuple[TableWrite, None]:
            return TableWrite(puts=(row,)), None

        await self.store.transact([], decide)

    async def delete(self, names: list[str]) -> None:
        keys = tuple(self._key(n) for n in names)

        def decide(_: list[Row | None]) -> tuple[TableWrite, None]:
            return TableWrite(deletes=keys), None

        await self.store.transact([], decide)

    async def all(self, prefix: str = "") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: tuple[bytes, bytes] | None = None
        low = prefix.encode() if prefix else None
        while True:
            rows = await self.store.query_rows(
                self.table, _PARTITION, SortRange(low), after=after, limit=500
            )
            for row in rows:
                if not row.key.sort.startswith(prefix.encode()):
                    return found
                found.append(json.loads(row.data))
            if len(rows) < 500:
                return found
            after = (rows[-1].key.sort, rows[-1].key.unique)


class History:
    """Each alarm's history items, newest last; the partition is the alarm's name."""

    def __init__(self, store: Store, table: str) -> None:
        self.store = store
        self.table = table
        self._sequence = 0

    async def start(self) -> None:
        if await self.store.get_table(self.table) is None:
            with contextlib.suppress(StoreConflict):
                await self.store.create_table(self.table, attributes="{}")

    async def add(self, alarm: str, at: float, item: dict[str, Any]) -> None:
        self._sequence += 1
        sort = int(at * 1000).to_bytes(8, "big") + self._sequence.to_bytes(8, "big")
        row = Row(RowKey(self.table, alarm.encode(), sort), json.dumps(item).encode())

        def decide(_: list[Row | None]) -> tuple[TableWrite, None]:
            return TableWrite(puts=(row,)), None

        await self.store.transact([], decide)

    async def items(self, alarm: str, *, newest_first: bool = True) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: tuple[bytes, bytes] | None = None
        while True:
            rows = await self.store.query_rows(
                self.table, alarm.encode(), SortRange(), forward=not newest_first, after=after
            )
            found.extend(json.loads(row.data) for row in rows)
            if len(rows) < 100:
                return found
            after = (rows[-1].key.sort, rows[-1].key.unique)

    async def alarms(self) -> list[str]:
        names: set[str] = set()
        after: RowKey | None = None
        while True:
            rows = await self.store.scan_rows(self.table, after=after, limit=500)
            names.update(row.key.partition.decode() for row in rows)
            if len(rows) < 500:
                return sorted(names)
            after = rows[-1].key

    async def trim(self, older_than: float) -> int:
        """Drop items from before ``older_than`` (epoch seconds); returns how many."""
        cutoff = int(older_than * 1000).to_bytes(8, "big")
        removed = 0
        for alarm in await self.alarms():
            old = await self.store.query_rows(
                self.table,
                alarm.encode(),
                SortRange(None, cutoff, high_inclusive=False),
                limit=1000,
            )
            if old:
                keys = tuple(row.key for row in old)

                def decide(
                    _: list[Row | None], keys: tuple[RowKey, ...] = keys
                ) -> tuple[TableWrite, None]:
                    return TableWrite(deletes=keys), None

                await self.store.transact([], decide)
                removed += len(old)
        return removed
