"""The SQL both backends run to read and write table rows, written once. Pure.

The backends differ only in their placeholders: SQLite's ``?`` for every value, psycopg's
``%s`` for text and numbers and ``%b`` for bytes; a :class:`Marks` carries them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from skylet.store import rules
from skylet.store.types import Row, RowKey, SortRange


class Marks(NamedTuple):
    value: str
    blob: str


SQLITE = Marks("?", "?")
POSTGRES = Marks("%s", "%b")


def query(
    marks: Marks,
    table: str,
    partition: bytes,
    sort: SortRange,
    forward: bool,
    after: tuple[bytes, bytes] | None,
    limit: int,
) -> tuple[str, tuple[Any, ...]]:
    """One partition's rows in sort order (reversed unless ``forward``), after ``after``'s
    (sort, unique) when paging: SELECT sk, uq, data."""
    v, b = marks
    where = [f"tbl = {v}", f"pk = {b}"]
    args: list[Any] = [table, partition]
    if sort.low is not None:
        where.append(f"sk >= {b}" if sort.low_inclusive else f"sk > {b}")
        args.append(sort.low)
    if sort.high is not None:
        where.append(f"sk <= {b}" if sort.high_inclusive else f"sk < {b}")
        args.append(sort.high)
    if after is not None:
        where.append(f"(sk, uq) {'>' if forward else '<'} ({b}, {b})")
        args.extend(after)
    direction = "ASC" if forward else "DESC"
    sql = (
        f"SELECT sk, uq, data FROM items WHERE {' AND '.join(where)}"
        f" ORDER BY sk {direction}, uq {direction} LIMIT {v}"
    )
    return sql, (*args, limit)


def scan(
    marks: Marks, table: str, after: RowKey | None, limit: int, low: int, high: int
) -> tuple[str, tuple[Any, ...]]:
    """The rows of buckets ``low`` to ``high`` (excluded), in bucket order, after ``after``:
    SELECT pk, sk, uq, data."""
    v, b = marks
    where = f"tbl = {v} AND bucket >= {v} AND bucket < {v}"
    args: list[Any] = [table, low, high]
    if after is not None:
        where += f" AND (bucket, pk, sk, uq) > ({v}, {b}, {b}, {b})"
        args.extend((rules.bucket(after.partition), after.partition, after.sort, after.unique))
    sql = f"SELECT pk, sk, uq, data FROM items WHERE {where} ORDER BY bucket, pk, sk, uq LIMIT {v}"
    return sql, (*args, limit)


def delete(marks: Marks) -> str:
    v, b = marks
    return f"DELETE FROM items WHERE tbl = {v} AND pk = {b} AND sk = {b} AND uq = {b}"


def put(marks: Marks) -> str:
    v, b = marks
    return (
        f"INSERT INTO items VALUES ({v}, {b}, {b}, {b}, {v}, {b}) ON CONFLICT (tbl, pk, sk, uq)"
        " DO UPDATE SET data = excluded.data"
    )


def key_args(key: RowKey) -> tuple[Any, ...]:
    return (key.table, key.partition, key.sort, key.unique)


def put_args(row: Row) -> tuple[Any, ...]:
    return (*key_args(row.key), rules.bucket(row.key.partition), row.data)
