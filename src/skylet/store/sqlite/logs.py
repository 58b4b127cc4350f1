"""Log operations on a SQLite connection: plain synchronous functions.

Appends run in the writer's thread, so sequence numbers come from ``log_partitions.last_seq``
without any race; reads run on reader connections and see only committed appends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from skylet.errors import LogNotFound
from skylet.store import rules
from skylet.store.types import AtTimestamp, LogConfig, LogRecord, Position, StartPosition


def _config(row: Any) -> LogConfig:
    return LogConfig(name=row[0], partitions=row[1], created_at=row[2])


def load_log(conn: sqlite3.Connection, name: str) -> LogConfig | None:
    row = conn.execute(
        "SELECT name, partitions, created_at FROM logs WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else _config(row)


def require_log(conn: sqlite3.Connection, name: str) -> LogConfig:
    config = load_log(conn, name)
    if config is None:
        raise LogNotFound(f"log {name!r} does not exist")
    return config


def list_logs(conn: sqlite3.Connection, prefix: str) -> list[LogConfig]:
    rows = conn.execute(
        "SELECT name, partitions, created_at FROM logs WHERE substr(name, 1, ?) = ? ORDER BY name",
        (len(prefix), prefix),
    ).fetchall()
    return [_config(row) for row in rows]


def create_log(conn: sqlite3.Connection, wanted: LogConfig) -> LogConfig:
    existing = load_log(conn, wanted.name)
    if existing is not None:
        return rules.check_same_log(existing, wanted)
    conn.execute(
        "INSERT INTO logs VALUES (?, ?, ?)", (wanted.name, wanted.partitions, wanted.created_at)
    )
    conn.executemany(
        "INSERT INTO log_partitions VALUES (?, ?, 0)",
        [(wanted.name, partition) for partition in range(wanted.partitions)],
    )
    return wanted


def delete_log(conn: sqlite3.Connection, name: str) -> bool:
    for table in ("log_records", "log_partitions", "log_offsets"):
        conn.execute(f"DELETE FROM {table} WHERE log = ?", (name,))
    return conn.execute("DELETE FROM logs WHERE name = ?", (name,)).rowcount > 0


def append(
    conn: sqlite3.Connection,
    log: str,
    records: Sequence[bytes],
    partition: int | None,
    key: str | None,
    attributes: Mapping[str, str] | None,
    now: float,
) -> list[int]:
    config = require_log(conn, log)
    chosen = rules.choose_partition(config, partition, key)
    encoded = rules.encode_attributes(attributes)
    data = [rules.check_body(record) for record in records]
    (last,) = conn.execute(
        "UPDATE log_partitions SET last_seq = last_seq + ? WHERE log = ? AND partition = ?"
        " RETURNING last_seq",
        (len(data), log, chosen),
    ).fetchone()
    first = last - len(data) + 1
    conn.executemany(
        "INSERT INTO log_records VALUES (?, ?, ?, ?, ?, ?)",
        [(log, chosen, first + i, now, item, encoded) for i, item in enumerate(data)],
    )
    return list(range(first, last + 1))


def read(
    conn: sqlite3.Connection, log: str, partition: int, after_sequence: int, limit: int
) -> list[LogRecord]:
    rules.check_partition(require_log(conn, log), partition)
    rows = conn.execute(
        "SELECT seq, ts, data, attributes FROM log_records"
        " WHERE log = ? AND partition = ? AND seq > ? ORDER BY seq LIMIT ?",
        (log, partition, after_sequence, limit),
    ).fetchall()
    return [
        LogRecord(partition, seq, ts, bytes(data), rules.decode_attributes(attributes))
        for seq, ts, data, attributes in rows
    ]


def seek(conn: sqlite3.Connection, log: str, partition: int, position: StartPosition) -> int:
    rules.check_partition(require_log(conn, log), partition)
    (last,) = conn.execute(
        "SELECT last_seq FROM log_partitions WHERE log = ? AND partition = ?", (log, partition)
    ).fetchone()
    if position is Position.LATEST:
        return int(last)
    if isinstance(position, AtTimestamp):
        row = conn.execute(
            "SELECT min(seq) FROM log_records WHERE log = ? AND partition = ? AND ts >= ?",
            (log, partition, position.timestamp),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT min(seq) FROM log_records WHERE log = ? AND partition = ?", (log, partition)
        ).fetchone()
    # No such record: everything retained is older (or trimmed), so start after the last one.
    return int(last) if row[0] is None else int(row[0]) - 1


def commit(
    conn: sqlite3.Connection, consumer: str, log: str, partition: int, sequence: int
) -> None:
    rules.check_partition(require_log(conn, log), partition)
    conn.execute(
        "INSERT INTO log_offsets VALUES (?, ?, ?, ?)"
        " ON CONFLICT (consumer, log, partition) DO UPDATE SET seq = excluded.seq",
        (consumer, log, partition, sequence),
    )


def committed(conn: sqlite3.Connection, consumer: str, log: str, partition: int) -> int | None:
    rules.check_partition(require_log(conn, log), partition)
    row = conn.execute(
        "SELECT seq FROM log_offsets WHERE consumer = ? AND log = ? AND partition = ?",
        (consumer, log, partition),
    ).fetchone()
    return None if row is None else int(row[0])


def trim(conn: sqlite3.Connection, log: str, older_than: float) -> int:
    require_log(conn, log)
    return conn.execute(
        "DELETE FROM log_records WHERE log = ? AND ts < ?", (log, older_than)
    ).rowcount
