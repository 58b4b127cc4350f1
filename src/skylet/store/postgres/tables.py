"""Table operations on a PostgreSQL connection (the same shapes as ``sqlite/tables.py``).

``bytea`` compares bytewise, so key order is DynamoDB's. A transaction takes a
transaction-scoped advisory lock per key it reads before reading it, so two conditional
writes of one key (present or not) run one after the other on every node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from skylet.errors import ResourceNotFound, StoreConflict
from skylet.store import table_sql
from skylet.store.postgres import logs
from skylet.store.postgres.database import Connection
from skylet.store.table_sql import POSTGRES
from skylet.store.types import Row, RowKey, SortRange, TableConfig, TableWrite


def _config(row: Any) -> TableConfig:
    return TableConfig(name=row[0], attributes=row[1], created_at=row[2])


async def get_table(conn: Connection, name: str) -> TableConfig | None:
    cursor = await conn.execute(
        "SELECT name, attributes, created_at FROM item_tables WHERE name = %s", (name,)
    )
    row = await cursor.fetchone()
    return None if row is None else _config(row)


async def list_tables(conn: Connection, prefix: str) -> list[TableConfig]:
    cursor = await conn.execute(
        "SELECT name, attributes, created_at FROM item_tables WHERE left(name, %s) = %s"
        ' ORDER BY name COLLATE "C"',
        (len(prefix), prefix),
    )
    return [_config(row) for row in await cursor.fetchall()]


async def create_table(conn: Connection, wanted: TableConfig) -> TableConfig:
    cursor = await conn.execute(
        "INSERT INTO item_tables VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
        (wanted.name, wanted.attributes, wanted.created_at),
    )
    if cursor.rowcount == 0:
        raise StoreConflict(f"table {wanted.name!r} exists")
    return wanted


async def update_table(conn: Connection, name: str, attributes: str) -> TableConfig:
    cursor = await conn.execute(
        "UPDATE item_tables SET attributes = %s WHERE name = %s"
        " RETURNING name, attributes, created_at",
        (attributes, name),
    )
    row = await cursor.fetchone()
    if row is None:
        raise ResourceNotFound(f"table {name!r} does not exist")
    return _config(row)


async def delete_table(conn: Connection, name: str) -> bool:
    await conn.execute("DELETE FROM items WHERE tbl = %s", (name,))
    cursor = await conn.execute("DELETE FROM item_tables WHERE name = %s", (name,))
    return cursor.rowcount > 0


async def get_rows(conn: Connection, keys: list[RowKey]) -> list[Row | None]:
    found: list[Row | None] = []
    for key in keys:
        cursor = await conn.execute(
            "SELECT data FROM items WHERE tbl = %s AND pk = %b AND sk = %b AND uq = %b",
            (key.table, key.partition, key.sort, key.unique),
        )
        row = await cursor.fetchone()
        found.append(None if row is None else Row(key, bytes(row[0])))
    return found


async def query_rows(
    conn: Connection,
    table: str,
    partition: bytes,
    sort: SortRange,
    forward: bool,
    after: tuple[bytes, bytes] | None,
    limit: int,
) -> list[Row]:
    sql, args = table_sql.query(POSTGRES, table, partition, sort, forward, after, limit)
    cursor = await conn.execute(sql, args)
    rows = await cursor.fetchall()
    return [Row(RowKey(table, partition, bytes(sk), bytes(uq)), bytes(d)) for sk, uq, d in rows]


async def scan_rows(
    conn: Connection, table: str, after: RowKey | None, limit: int, low: int, high: int
) -> list[Row]:
    sql, args = table_sql.scan(POSTGRES, table, after, limit, low, high)
    cursor = await conn.execute(sql, args)
    return [
        Row(RowKey(table, bytes(pk), bytes(sk), bytes(uq)), bytes(d))
        for pk, sk, uq, d in await cursor.fetchall()
    ]


async def count_rows(conn: Connection, table: str) -> tuple[int, int]:
    cursor = await conn.execute(
        "SELECT count(*), coalesce(sum(length(data)), 0) FROM items WHERE tbl = %s", (table,)
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _lock_id(key: RowKey) -> int:
    digest = hashlib.blake2b(
        b"\0".join((key.table.encode(), key.partition, key.sort, key.unique)), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


async def transact(
    conn: Connection,
    reads: list[RowKey],
    decide: Callable[[list[Row | None]], TableWrite],
    now: float,
) -> TableWrite:
    # Locks in one order, so two transactions over the same keys cannot deadlock.
    for lock in sorted({_lock_id(key) for key in reads}):
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
    write = decide(await get_rows(conn, reads))
    for key in write.deletes:
        await conn.execute(table_sql.delete(POSTGRES), table_sql.key_args(key))
    for r in write.puts:
        await conn.execute(table_sql.put(POSTGRES), table_sql.put_args(r))
    for append in write.appends:
        await logs.append(conn, append.log, append.records, append.partition, None, None, now)
    return write
