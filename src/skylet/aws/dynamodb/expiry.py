"""Time to live: items whose TTL attribute is past are deleted in the background, as
DynamoDB's TTL process deletes them.

    sweeper = ExpirySweeper(tables)          # no I/O
    sweeper.start()                          # a task: one bounded sweep per tick
    await sweeper.aclose()

Which items are due is pure (``expired``, ``due``: the clock passed in). An item is due when
its table's TTL attribute is a Number of epoch seconds at or before now and at most five years
ago (DynamoDB leaves older values alone: they are taken as not being expiry times); an
attribute of another type, or none, never expires. Each tick reads at most ``batch_rows`` rows
of each TTL table, going on from where the last tick stopped, so a large table costs a bounded
amount of work per tick and is swept in full over several. A deletion re-reads its item in
the write transaction and deletes only if it is still due, so a concurrent update that moved
the TTL (or another node's sweeper) wins; its stream record is a REMOVE whose ``userIdentity``
is DynamoDB's service identity. Until the sweep reaches an expired item, reads still return
it, as DynamoDB's do (filter on the attribute to hide them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from skylet.aws.dynamodb.schema import Table, decode_item
from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.values import Item
from skylet.aws.dynamodb.writes import change
from skylet.errors import SkyletError
from skylet.store.types import Row, RowKey, TableWrite

log = logging.getLogger(__name__)

#: DynamoDB does not delete items whose TTL value is more than five years in the past.
HORIZON_S = 5 * 365 * 24 * 3600
TICK_S = 1.0
BATCH_ROWS = 500


def expired(item: Item, attribute: str, now: float) -> bool:
    """Whether ``item`` is due for deletion under TTL ``attribute`` at ``now`` (epoch s)."""
    value = item.get(attribute)
    if value is None or "N" not in value:
        return False
    try:
        at = Decimal(value["N"])
    except InvalidOperation:
        return False
    return now - HORIZON_S <= at <= Decimal(repr(now))


def due(items: Iterable[Item], attribute: str, now: float) -> list[Item]:
    """The items of ``items`` due for deletion at ``now``, in their order."""
    return [i for i in items if expired(i, attribute, now)]


def ttl_attribute(table: Table) -> str | None:
    """The table's TTL attribute when TTL is enabled, else None."""
    setting = table.description.get("TimeToLive") or {}
    if setting.get("TimeToLiveStatus") != "ENABLED":
        return None
    name = setting.get("AttributeName")
    return str(name) if name else None


def region_of(table: Table) -> str:
    return str(table.description["TableArn"]).split(":")[3]


class ExpirySweeper:
    """Deletes the expired items of every table with TTL enabled, a bounded batch per tick."""

    def __init__(
        self,
        tables: Tables,
        *,
        now: Callable[[], float] = time.time,
        tick_s: float = TICK_S,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._tables = tables
        self._store = tables.store
        self._now = now
        self._tick_s = tick_s
        self._batch_rows = batch_rows
        self._cursors: dict[str, RowKey | None] = {}
        self._task: asyncio.Task[None] | None = None
        self.deleted = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except SkyletError as error:  # the store away for now: try again next tick
                log.warning("TTL sweep: %s", error)
            await asyncio.sleep(self._tick_s)

    async def sweep(self) -> int:
        """One tick over every TTL table; returns how many items it deleted."""
        deleted = 0
        names = [t.name for t in await self._store.list_tables() if "/" not in t.name]
        for name in names:
            try:
                table = await self._tables.table(name)
            except SkyletError:
                continue  # deleted meanwhile
            attribute = ttl_attribute(table)
            if attribute is None:
                self._cursors.pop(name, None)
                continue
            deleted += await self._sweep_table(table, attribute)
        self.deleted += deleted
        return deleted

    async def _sweep_table(self, table: Table, attribute: str) -> int:
        after = self._cursors.get(table.name)
        rows = await self._store.scan_rows(table.name, after=after, limit=self._batch_rows)
        # A short page is the end of the table: the next tick starts from its beginning.
        self._cursors[table.name] = rows[-1].key if len(rows) == self._batch_rows else None
        now = self._now()
        deleted = 0
        for item in due((decode_item(r.data) for r in rows), attribute, now):
            if await self._delete(table, item, attribute, now):
                deleted += 1
        return deleted

    async def _delete(self, table: Table, item: Item, attribute: str, now: float) -> bool:
        region = region_of(table)

        def deciding(rows: list[Row | None]) -> tuple[TableWrite, bool]:
            current = decode_item(rows[0].data) if rows[0] is not None else None
            if current is None or not expired(current, attribute, now):
                return TableWrite(), False
            write = change(table, current, None, now=now, region=region, service_identity=True)
            return write, True

        done: bool = await self._store.transact([table.row_key(table.key_of(item))], deciding)
        return done
