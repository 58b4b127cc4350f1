"""Table operations on a SQLite connection: plain synchronous functions.

Rows are keyed by (table, partition, sort, unique), BLOBs that SQLite compares with memcmp,
which is DynamoDB's order of the key bytes; ``bucket`` (a hash of the partition) orders scans
and splits them into segments. Writes run in the writer's thread inside its savepoint, so a
transaction's read, decision and write see no other writer between them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from skylet.errors import ResourceNotFound, StoreConflict
from skylet.store import table_sql
from skylet.store.sqlite import logs
from skylet.store.table_sql import SQLITE
from skylet.store.types import Row, RowKey, SortRange, TableConfig, TableWrite


def _config(row: Any) -> TableConfig:
    return TableConfig(name=row[0], attributes=row[1], created_at=row[2])


def get_table(conn: sqlite3.Connection, name: str) -> TableConfig | None:
    row = conn.execute(
        "SELECT name, attributes, created_at FROM item_tables WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else _config(row)


def list_tables(conn: sqlite3.Connection, prefix: str) -> list[TableConfig]:
    rows = conn.execute(
        "SELECT name, attributes, created_at FROM item_tables WHERE substr(name, 1, ?) = ?"
        " ORDER BY name",
        (len(prefix), prefix),
    ).fetchall()
    return [_config(row) for row in rows]


def create_table(conn: sqlite3.Connection, wanted: TableConfig) -> TableConfig:
    if get_table(conn, wanted.name) is not None:
        raise StoreConflict(f"table {wanted.name!r} exists")
    conn.execute(
        "INSERT INTO item_tables VALUES (?, ?, ?)",
        (wanted.name, wanted.attributes, wanted.created_at),
    )
    return wanted


def update_table(conn: sqlite3.Connection, name: str, attributes: str) -> TableConfig:
    row = conn.execute(
        "UPDATE item_tables SET attributes = ? WHERE name = ? RETURNING name, attributes,"
        " created_at",
        (attributes, name),
    ).fetchone()
    if row is None:
        raise ResourceNotFound(f"table {name!r} does not exist")
    return _config(row)


def delete_table(conn: sqlite3.Connection, name: str) -> bool:
    conn.execute("DELETE FROM items WHERE tbl = ?", (name,))
    return conn.execute("DELETE FROM item_tables WHERE name = ?", (name,)).rowcount > 0


def get_rows(conn: sqlite3.Connection, keys: list[RowKey]) -> list[Row | None]:
    found: list[Row | None] = []
    for key in keys:
        row = conn.execute(
            "SELECT data FROM items WHERE tbl = ? AND pk = ? AND sk = ? AND uq = ?",
            (key.table, key.partition, key.sort, key.unique),
        ).fetchone()
        found.append(None if row is None else Row(key, bytes(row[0])))
    return found


def query_rows(
    conn: sqlite3.Connection,
    table: str,
    partition: bytes,
    sort: SortRange,
    forward: bool,
    after: tuple[bytes, bytes] | None,
    limit: int,
) -> list[Row]:
    sql, args = table_sql.query(SQLITE, table, partition, sort, forward, after, limit)
    rows = conn.execute(sql, args).fetchall()
    return [Row(RowKey(table, partition, bytes(sk), bytes(uq)), bytes(d)) for sk, uq, d in rows]


def scan_rows(
    conn: sqlite3.Connection, table: str, after: RowKey | None, limit: int, low: int, high: int
) -> list[Row]:
    sql, args = table_sql.scan(SQLITE, table, after, limit, low, high)
    rows = conn.execute(sql, args).fetchall()
    return [Row(RowKey(table, bytes(pk), bytes(sk), bytes(uq)), bytes(d)) for pk, sk, uq, d in rows]


def count_rows(conn: sqlite3.Connection, table: str) -> tuple[int, int]:
    count, size = conn.execute(
        "SELECT count(*), coalesce(sum(length(data)), 0) FROM items WHERE tbl = ?", (table,)
    ).fetchone()
    return int(count), int(size)


def transact(
    conn: sqlite3.Connection,
    reads: list[RowKey],
    decide: Callable[[list[Row | None]], TableWrite],
    now: float,
) -> None:
    write = decide(get_rows(conn, reads))
    conn.executemany(table_sql.delete(SQLITE), [table_sql.key_args(k) for k in write.deletes])
    conn.executemany(table_sql.put(SQLITE), [table_sql.put_args(r) for r in write.puts])
    for append in write.appends:
        logs.append(conn, append.log, append.records, append.partition, None, None, now)
