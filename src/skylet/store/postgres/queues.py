"""Queue operations on a PostgreSQL connection (async, one transaction each, opened by caller).

Standard queues claim with ``SELECT … FOR UPDATE SKIP LOCKED``: concurrent receivers on any
number of nodes take disjoint rows without waiting for each other. FIFO queues first lock their
``queues`` row, so FIFO receives of one queue run one at a time across all nodes; that is what
makes "no message of a group while an earlier one is in flight" hold (SQS caps FIFO throughput
for the same reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skylet.errors import QueueNotFound, SkyletError
from skylet.store import rules
from skylet.store.postgres.database import Connection
from skylet.store.types import DEDUP_WINDOW_S, Message, QueueConfig, QueueStats, SendEntry
from skylet.store.wakeups import queue_channel

_QUEUE_COLUMNS = (
    "name, visibility_timeout_s, retention_s, max_receive_count, dead_letter_queue, fifo,"
    " delay_s, attributes, created_at, modified_at"
)
_MESSAGE_COLUMNS = (
    "seq, id, body, attributes, group_id, dedup_id, sent_at, attempts, first_received_at, origin"
)


def _config(row: Any) -> QueueConfig:
    name, vt, retention, max_count, dlq, fifo, delay, attributes, created, modified = row
    return QueueConfig(
        name,
        vt,
        retention,
        max_count,
        dlq,
        fifo,
        delay,
        rules.decode_attributes(attributes),
        created,
        created if modified is None else modified,
    )


def _config_row(config: QueueConfig) -> tuple[Any, ...]:
    return (
        config.name,
        config.visibility_timeout_s,
        config.retention_s,
        config.max_receive_count,
        config.dead_letter_queue,
        config.fifo,
        config.delay_s,
        rules.encode_attributes(config.attributes),
        config.created_at,
        config.modified_at,
    )


async def load_queue(conn: Connection, name: str, *, lock: bool = False) -> QueueConfig | None:
    query = f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE name = %s"
    cursor = await conn.execute((query + " FOR UPDATE") if lock else query, (name,))
    row = await cursor.fetchone()
    return None if row is None else _config(row)


async def require_queue(conn: Connection, name: str, *, lock: bool = False) -> QueueConfig:
    config = await load_queue(conn, name, lock=lock)
    if config is None:
        raise QueueNotFound(f"queue {name!r} does not exist")
    return config


async def list_queues(conn: Connection, prefix: str) -> list[QueueConfig]:
    cursor = await conn.execute(
        f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE left(name, %s) = %s ORDER BY name",
        (len(prefix), prefix),
    )
    return [_config(row) for row in await cursor.fetchall()]


async def create_queue(conn: Connection, wanted: QueueConfig) -> QueueConfig:
    if wanted.dead_letter_queue is not None:
        rules.check_dead_letter_queue(wanted, await load_queue(conn, wanted.dead_letter_queue))
    # ON CONFLICT: two nodes creating the same queue at once both succeed, and both compare.
    await conn.execute(
        f"INSERT INTO queues ({_QUEUE_COLUMNS})"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING",
        _config_row(wanted),
    )
    return rules.check_same_queue(await require_queue(conn, wanted.name), wanted)


async def update_queue(conn: Connection, wanted: QueueConfig, now: float) -> QueueConfig:
    existing = await require_queue(conn, wanted.name, lock=True)
    updated = rules.updated_queue(existing, wanted, now)
    if updated.dead_letter_queue is not None:
        rules.check_dead_letter_queue(updated, await load_queue(conn, updated.dead_letter_queue))
    row = _config_row(updated)
    await conn.execute(
        "UPDATE queues SET visibility_timeout_s = %s, retention_s = %s, max_receive_count = %s,"
        " dead_letter_queue = %s, delay_s = %s, attributes = %s, modified_at = %s"
        " WHERE name = %s",
        (*row[1:5], row[6], row[7], row[9], row[0]),
    )
    return updated


async def purge_queue(conn: Connection, queue: str) -> int:
    await require_queue(conn, queue)
    cursor = await conn.execute("DELETE FROM messages WHERE queue = %s", (queue,))
    return cursor.rowcount


async def move(
    conn: Connection, source: str, destination: str | None, limit: int, now: float
) -> tuple[int, set[str]]:
    """Move visible messages (``QueueStore.move_messages``), skipping rows other movers or
    receivers hold: one UPDATE per target queue."""
    config = await require_queue(conn, source)
    if destination is not None:
        await require_queue(conn, destination)
    cursor = await conn.execute(
        "SELECT seq, origin FROM messages WHERE queue = %s AND visible_at <= %s"
        " AND sent_at > %s AND (%s::text IS NOT NULL OR origin IS NOT NULL)"
        " ORDER BY visible_at, seq LIMIT %s FOR UPDATE SKIP LOCKED",
        (source, now, now - config.retention_s, destination, limit),
    )
    targets: dict[str, list[int]] = {}
    for seq, origin in await cursor.fetchall():
        target = destination or origin
        if target == source or (destination is None and await load_queue(conn, target) is None):
            continue
        targets.setdefault(target, []).append(seq)
    for target, seqs in targets.items():
        await conn.execute(
            "UPDATE messages SET queue = %s, visible_at = %s, attempts = 0,"
            " first_received_at = NULL, lease = NULL, origin = NULL WHERE seq = ANY(%s)",
            (target, now, seqs),
        )
    return sum(len(seqs) for seqs in targets.values()), set(targets)


async def delete_queue(conn: Connection, name: str) -> bool:
    await conn.execute("DELETE FROM messages WHERE queue = %s", (name,))
    await conn.execute("DELETE FROM dedup WHERE queue = %s", (name,))
    cursor = await conn.execute("DELETE FROM queues WHERE name = %s", (name,))
    return cursor.rowcount > 0


SendRequest = tuple[str, Sequence[SendEntry]]


async def send_many(
    conn: Connection,
    requests: Sequence[SendRequest],
    now: float,
    notify_channel: str,
    origin: str,
) -> list[list[str] | SkyletError]:
    """Store several ``send_batch`` requests in the caller's transaction, and NOTIFY
    ``notify_channel`` once per queue that received messages, tagged with ``origin``.

    Each request is checked whole before anything is written, so a bad request fails alone
    (its outcome is the error) and the others still commit: all or nothing per request.
    """
    cursor = await conn.execute(
        f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE name = ANY(%s)",
        (sorted({queue for queue, _ in requests}),),
    )
    configs = {row[0]: _config(row) for row in await cursor.fetchall()}
    outcomes: list[list[str] | SkyletError] = []
    rows: list[tuple[Any, ...]] = []
    for queue, entries in requests:
        try:
            checked = _check_entries(configs.get(queue), queue, entries)
        except SkyletError as error:
            outcomes.append(error)
            continue
        ids: list[str] = []
        for entry, (delay_s, body, attributes) in zip(entries, checked, strict=True):
            message_id = rules.new_message_id()
            if entry.dedup_id is not None:
                earlier = await _remember_dedup(conn, queue, entry.dedup_id, message_id, now)
                if earlier is not None:
                    ids.append(earlier)
                    continue
            ids.append(message_id)
            row = (message_id, queue, body, attributes, entry.group_id, entry.dedup_id)
            rows.append((*row, now, now + delay_s))
        outcomes.append(ids)
    # Every existing queue of the batch; a queue whose only request failed gets a harmless
    # spurious wake-up.
    woken = sorted({f"{origin} {queue_channel(q)}" for q, _ in requests if q in configs})
    # One statement, one round trip: the rows as arrays, and the NOTIFY (PostgreSQL runs a
    # data-modifying WITH even though the outer query does not read it).
    await conn.execute(
        "WITH stored AS (INSERT INTO messages (id, queue, body, attributes, group_id, dedup_id,"
        " sent_at, visible_at) SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[],"
        " %s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[]))"
        " SELECT pg_notify(%s, c) FROM unnest(%s::text[]) AS c",
        (*(list(column) for column in _columns(rows, 8)), notify_channel, woken),
    )
    return outcomes


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Rows as columns (for ``unnest``), ``width`` empty columns when there are no rows."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def _check_entries(
    config: QueueConfig | None, queue: str, entries: Sequence[SendEntry]
) -> list[tuple[float, bytes, str | None]]:
    if config is None:
        raise QueueNotFound(f"queue {queue!r} does not exist")
    return [
        (
            rules.send_delay(config, entry),
            rules.check_body(entry.body),
            rules.encode_attributes(entry.attributes),
        )
        for entry in entries
    ]


async def _remember_dedup(
    conn: Connection, queue: str, dedup_id: str, message_id: str, now: float
) -> str | None:
    """Record ``dedup_id`` for ``message_id``; if a live record exists, return its message id.

    A concurrent send of the same dedup_id waits on the unique key until the first commits,
    then takes the first's id: duplicates racing from two nodes still store one message.
    """
    cursor = await conn.execute(
        "INSERT INTO dedup VALUES (%s, %s, %s, %s) ON CONFLICT (queue, dedup_id) DO UPDATE"
        " SET message_id = excluded.message_id, expires_at = excluded.expires_at"
        " WHERE dedup.expires_at <= %s RETURNING message_id",
        (queue, dedup_id, message_id, now + DEDUP_WINDOW_S, now),
    )
    if await cursor.fetchone() is not None:
        return None
    cursor = await conn.execute(
        "SELECT message_id FROM dedup WHERE queue = %s AND dedup_id = %s", (queue, dedup_id)
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


_STANDARD_CANDIDATES = f"""
    SELECT {_MESSAGE_COLUMNS} FROM messages
    WHERE queue = %s AND visible_at <= %s AND sent_at > %s
    ORDER BY visible_at, seq LIMIT %s FOR UPDATE SKIP LOCKED"""

# FIFO (run under the queue's row lock): eligible while no earlier message of the group is
# hidden; FOR UPDATE still waits out a concurrent delete of a candidate by a stale receipt.
_FIFO_CANDIDATES = """
    SELECT m.seq, m.id, m.body, m.attributes, m.group_id, m.dedup_id, m.sent_at, m.attempts,
           m.first_received_at, m.origin
    FROM messages AS m WHERE m.queue = %s AND m.visible_at <= %s AND m.sent_at > %s
    AND NOT EXISTS (
        SELECT 1 FROM messages AS e WHERE e.queue = m.queue AND e.group_id = m.group_id
        AND e.seq < m.seq AND e.visible_at > %s)
    ORDER BY m.seq LIMIT %s FOR UPDATE OF m"""


async def claim(
    conn: Connection,
    queue: str,
    max_messages: int,
    visibility_timeout_s: float | None,
    now: float,
) -> tuple[list[Message], str | None]:
    """Lease up to ``max_messages``; return them and the DLQ name if any message moved there."""
    config = await require_queue(conn, queue)
    if config.fifo:
        await require_queue(conn, queue, lock=True)  # one FIFO receive per queue at a time
    timeout_s = (
        config.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
    )
    limit, dlq = await _retirement(conn, config)
    lease = rules.new_lease()
    delivered: list[Message] = []
    moved_to = None
    while len(delivered) < max_messages:
        want = max_messages - len(delivered)
        oldest = now - config.retention_s
        if config.fifo:
            cursor = await conn.execute(_FIFO_CANDIDATES, (queue, now, oldest, now, want))
        else:
            cursor = await conn.execute(_STANDARD_CANDIDATES, (queue, now, oldest, want))
        rows = await cursor.fetchall()
        if not rows:
            break
        spent = [row[0] for row in rows if limit is not None and row[7] >= limit]
        fresh = [row for row in rows if limit is None or row[7] < limit]
        if fresh:
            await conn.execute(
                "UPDATE messages SET visible_at = %s, lease = %s, attempts = attempts + 1,"
                " first_received_at = coalesce(first_received_at, %s) WHERE seq = ANY(%s)",
                (now + timeout_s, lease, now, [row[0] for row in fresh]),
            )
            delivered.extend(_message(row, lease, now) for row in fresh)
        if not spent:
            break
        await _retire(conn, spent, queue, dlq, now)
        moved_to = dlq or moved_to
    return delivered, moved_to


async def _retirement(conn: Connection, config: QueueConfig) -> tuple[int | None, str | None]:
    """The receive count past which messages leave the queue, and the queue they go to."""
    dlq = config.dead_letter_queue
    if dlq is not None and await load_queue(conn, dlq) is None:
        return None, None  # the DLQ was deleted: keep delivering rather than drop (as SQLite)
    return config.max_receive_count, dlq


async def _retire(
    conn: Connection, seqs: list[int], queue: str, dlq: str | None, now: float
) -> None:
    if dlq is None:
        await conn.execute("DELETE FROM messages WHERE seq = ANY(%s)", (seqs,))
        return
    await conn.execute(
        "UPDATE messages SET queue = %s, visible_at = %s, lease = NULL, origin = %s"
        " WHERE seq = ANY(%s)",
        (dlq, now, queue, seqs),
    )


def _message(row: Any, lease: str, now: float) -> Message:
    seq, message_id, body, attributes, group_id, dedup_id, sent_at, attempts, first, origin = row
    return Message(
        id=message_id,
        body=bytes(body),
        attributes=rules.decode_attributes(attributes),
        receipt=rules.format_receipt(seq, lease),
        attempts=attempts + 1,
        sent_at=sent_at,
        first_received_at=now if first is None else first,
        group_id=group_id,
        dedup_id=dedup_id,
        origin=origin,
    )


async def delete(conn: Connection, queue: str, leases: Sequence[rules.Lease]) -> list[bool]:
    """Delete by receipt in one statement; a receipt matches only its message's latest lease."""
    cursor = await conn.execute(
        "DELETE FROM messages AS m USING unnest(%s::bigint[], %s::text[]) AS r(seq, lease)"
        " WHERE m.seq = r.seq AND m.lease = r.lease AND m.queue = %s RETURNING m.seq, m.lease",
        ([seq for seq, _ in leases], [token for _, token in leases], queue),
    )
    gone = {(row[0], row[1]) for row in await cursor.fetchall()}
    results = [lease in gone for lease in leases]
    if not all(results):
        await require_queue(conn, queue)  # a missing queue is an error, not a stale receipt
    return results


async def change_visibility(
    conn: Connection, queue: str, lease: rules.Lease, timeout_s: float, now: float
) -> bool:
    seq, token = lease
    cursor = await conn.execute(
        "UPDATE messages SET visible_at = %s WHERE seq = %s AND queue = %s AND lease = %s",
        (now + timeout_s, seq, queue, token),
    )
    if cursor.rowcount == 0:
        await require_queue(conn, queue)
    return cursor.rowcount > 0


async def stats(conn: Connection, queue: str, now: float) -> QueueStats:
    await require_queue(conn, queue)
    cursor = await conn.execute(
        "SELECT count(*) FILTER (WHERE visible_at <= %(now)s),"
        " count(*) FILTER (WHERE visible_at > %(now)s AND attempts > 0),"
        " count(*) FILTER (WHERE visible_at > %(now)s AND attempts = 0), min(sent_at)"
        " FROM messages WHERE queue = %(queue)s",
        {"now": now, "queue": queue},
    )
    row = await cursor.fetchone()
    if row is None:  # an aggregate always returns one row
        return QueueStats(0, 0, 0, None)
    visible, in_flight, delayed, oldest = row
    return QueueStats(visible, in_flight, delayed, None if oldest is None else now - oldest)


async def purge(conn: Connection, now: float) -> int:
    """Drop messages past retention (by send time, kept across a DLQ move, as SQS does)."""
    cursor = await conn.execute(
        "DELETE FROM messages AS m USING queues AS q"
        " WHERE m.queue = q.name AND m.sent_at <= %s - q.retention_s",
        (now,),
    )
    await conn.execute("DELETE FROM dedup WHERE expires_at <= %s", (now,))
    return cursor.rowcount
