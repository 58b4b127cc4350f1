"""Log operations on a PostgreSQL connection.

``append`` bumps ``log_partitions.last_seq`` first: that row lock makes appends to one partition
commit in sequence order, so a reader never sees sequence 11 committed while 10 is still on its
way (and then skips 10 for good with ``after_sequence=11``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from skylet.errors import LogNotFound
from skylet.store import rules
from skylet.store.postgres.database import Connection
from skylet.store.types import AtTimestamp, LogConfig, LogRecord, Position, StartPosition


async def load_log(conn: Connection, name: str) -> LogConfig | None:
    cursor = await conn.execute(
        "SELECT name, partitions, created_at FROM logs WHERE name = %s", (name,)
    )
    row = await cursor.fetchone()
    return None if row is None else LogConfig(*row)


async def require_log(conn: Connection, name: str) -> LogConfig:
    config = await load_log(conn, name)
    if config is None:
        raise LogNotFound(f"log {name!r} does not exist")
    return config


async def list_logs(conn: Connection, prefix: str) -> list[LogConfig]:
    cursor = await conn.execute(
        "SELECT name, partitions, created_at FROM logs WHERE left(name, %s) = %s ORDER BY name",
        (len(prefix), prefix),
    )
    return [LogConfig(*row) for row in await cursor.fetchall()]


async def create_log(conn: Connection, wanted: LogConfig) -> LogConfig:
    cursor = await conn.execute(
        "INSERT INTO logs VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
        (wanted.name, wanted.partitions, wanted.created_at),
    )
    if cursor.rowcount:
        await conn.execute(
            "INSERT INTO log_partitions SELECT %s, p, 0 FROM generate_series(0, %s) AS p",
            (wanted.name, wanted.partitions - 1),
        )
        return wanted
    return rules.check_same_log(await require_log(conn, wanted.name), wanted)


async def delete_log(conn: Connection, name: str) -> bool:
    await conn.execute("DELETE FROM log_records WHERE log = %s", (name,))
    await conn.execute("DELETE FROM log_partitions WHERE log = %s", (name,))
    await conn.execute("DELETE FROM log_offsets WHERE log = %s", (name,))
    cursor = await conn.execute("DELETE FROM logs WHERE name = %s", (name,))
    return cursor.rowcount > 0


async def append(
    conn: Connection,
    log: str,
    records: Sequence[bytes],
    partition: int | None,
    key: str | None,
    attributes: Mapping[str, str] | None,
    now: float,
) -> list[int]:
    config = await require_log(conn, log)
    chosen = rules.choose_partition(config, partition, key)
    encoded = rules.encode_attributes(attributes)
    data = [rules.check_body(record) for record in records]
    cursor = await conn.execute(
        "UPDATE log_partitions SET last_seq = last_seq + %s WHERE log = %s AND partition = %s"
        " RETURNING last_seq",
        (len(data), log, chosen),
    )
    row = await cursor.fetchone()
    if row is None:
        raise LogNotFound(f"log {log!r} has no partition {chosen}")
    last = int(row[0])
    sequences = list(range(last - len(data) + 1, last + 1))
    await conn.execute(
        "INSERT INTO log_records (log, partition, seq, ts, data, attributes)"
        " SELECT %s, %s, u.seq, %s, u.data, %s"
        " FROM unnest(%s::bigint[], %b::bytea[]) AS u(seq, data)",
        (log, chosen, now, encoded, sequences, data),
    )
    return sequences


async def read(
    conn: Connection, log: str, partition: int, after_sequence: int, limit: int
) -> list[LogRecord]:
    rules.check_partition(await require_log(conn, log), partition)
    cursor = await conn.execute(
        "SELECT seq, ts, data, attributes FROM log_records"
        " WHERE log = %s AND partition = %s AND seq > %s ORDER BY seq LIMIT %s",
        (log, partition, after_sequence, limit),
    )
    return [
        LogRecord(partition, seq, ts, bytes(data), rules.decode_attributes(attributes))
        for seq, ts, data, attributes in await cursor.fetchall()
    ]


async def seek(conn: Connection, log: str, partition: int, position: StartPosition) -> int:
    rules.check_partition(await require_log(conn, log), partition)
    cursor = await conn.execute(
        "SELECT last_seq FROM log_partitions WHERE log = %s AND partition = %s", (log, partition)
    )
    row = await cursor.fetchone()
    last = 0 if row is None else int(row[0])
    if position is Position.LATEST:
        return last
    if isinstance(position, AtTimestamp):
        cursor = await conn.execute(
            "SELECT min(seq) FROM log_records WHERE log = %s AND partition = %s AND ts >= %s",
            (log, partition, position.timestamp),
        )
    else:
        cursor = await conn.execute(
            "SELECT min(seq) FROM log_records WHERE log = %s AND partition = %s",
            (log, partition),
        )
    first = await cursor.fetchone()
    # No such record: everything retained is older (or trimmed), so start after the last one.
    return last if first is None or first[0] is None else int(first[0]) - 1


async def commit(conn: Connection, consumer: str, log: str, partition: int, sequence: int) -> None:
    rules.check_partition(await require_log(conn, log), partition)
    await conn.execute(
        "INSERT INTO log_offsets VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (consumer, log, partition) DO UPDATE SET seq = excluded.seq",
        (consumer, log, partition, sequence),
    )


async def committed(conn: Connection, consumer: str, log: str, partition: int) -> int | None:
    rules.check_partition(await require_log(conn, log), partition)
    cursor = await conn.execute(
        "SELECT seq FROM log_offsets WHERE consumer = %s AND log = %s AND partition = %s",
        (consumer, log, partition),
    )
    row = await cursor.fetchone()
    return None if row is None else int(row[0])


async def trim(conn: Connection, log: str, older_than: float) -> int:
    await require_log(conn, log)
    cursor = await conn.execute(
        "DELETE FROM log_records WHERE log = %s AND ts < %s", (log, older_than)
    )
    return cursor.rowcount
