"""Queue operations on a SQLite connection: plain synchronous functions.

Writes run in the group-commit writer's thread, inside its transaction; reads run on a reader
connection. Only one writer exists, so a claim's SELECT-then-UPDATE cannot race another claim.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from skylet.errors import QueueNotFound
from skylet.store import rules
from skylet.store.types import DEDUP_WINDOW_S, Message, QueueConfig, QueueStats, SendEntry

_QUEUE_COLUMNS = (
    "name, visibility_timeout_s, retention_s, max_receive_count, dead_letter_queue, fifo,"
    " delay_s, attributes, created_at, modified_at"
)


def _config(row: Any) -> QueueConfig:
    name, vt, retention, max_count, dlq, fifo, delay, attributes, created, modified = row
    return QueueConfig(
        name,
        vt,
        retention,
        max_count,
        dlq,
        bool(fifo),
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
        int(config.fifo),
        config.delay_s,
        rules.encode_attributes(config.attributes),
        config.created_at,
        config.modified_at,
    )


def load_queue(conn: sqlite3.Connection, name: str) -> QueueConfig | None:
    row = conn.execute(f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE name = ?", (name,)).fetchone()
    return None if row is None else _config(row)


def require_queue(conn: sqlite3.Connection, name: str) -> QueueConfig:
    config = load_queue(conn, name)
    if config is None:
        raise QueueNotFound(f"queue {name!r} does not exist")
    return config


def list_queues(conn: sqlite3.Connection, prefix: str) -> list[QueueConfig]:
    rows = conn.execute(
        f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE substr(name, 1, ?) = ? ORDER BY name",
        (len(prefix), prefix),
    ).fetchall()
    return [_config(row) for row in rows]


def create_queue(conn: sqlite3.Connection, wanted: QueueConfig) -> QueueConfig:
    existing = load_queue(conn, wanted.name)
    if existing is not None:
        return rules.check_same_queue(existing, wanted)
    if wanted.dead_letter_queue is not None:
        rules.check_dead_letter_queue(wanted, load_queue(conn, wanted.dead_letter_queue))
    conn.execute(
        f"INSERT INTO queues ({_QUEUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _config_row(wanted),
    )
    return wanted


def update_queue(conn: sqlite3.Connection, wanted: QueueConfig, now: float) -> QueueConfig:
    updated = rules.updated_queue(require_queue(conn, wanted.name), wanted, now)
    if updated.dead_letter_queue is not None:
        rules.check_dead_letter_queue(updated, load_queue(conn, updated.dead_letter_queue))
    conn.execute(
        f"REPLACE INTO queues ({_QUEUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _config_row(updated),
    )
    return updated


def purge_queue(conn: sqlite3.Connection, queue: str) -> int:
    require_queue(conn, queue)
    return conn.execute("DELETE FROM messages WHERE queue = ?", (queue,)).rowcount


def move(
    conn: sqlite3.Connection, source: str, destination: str | None, limit: int, now: float
) -> tuple[int, set[str]]:
    """Move visible messages (``QueueStore.move_messages``): one UPDATE per target queue."""
    config = require_queue(conn, source)
    if destination is not None:
        require_queue(conn, destination)
    rows = conn.execute(
        "SELECT seq, origin FROM messages WHERE queue = ? AND visible_at <= ? AND sent_at > ?"
        " AND (? IS NOT NULL OR origin IS NOT NULL) ORDER BY visible_at, seq LIMIT ?",
        (source, now, now - config.retention_s, destination, limit),
    ).fetchall()
    targets: dict[str, list[int]] = {}
    for seq, origin in rows:
        target = destination or origin
        if target == source or (destination is None and load_queue(conn, target) is None):
            continue
        targets.setdefault(target, []).append(seq)
    for target, seqs in targets.items():
        conn.execute(
            f"UPDATE messages SET queue = ?, visible_at = ?, attempts = 0,"
            f" first_received_at = NULL, lease = NULL, origin = NULL"
            f" WHERE seq IN ({','.join('?' * len(seqs))})",
            (target, now, *seqs),
        )
    return sum(len(seqs) for seqs in targets.values()), set(targets)


def delete_queue(conn: sqlite3.Connection, name: str) -> bool:
    conn.execute("DELETE FROM messages WHERE queue = ?", (name,))
    conn.execute("DELETE FROM dedup WHERE queue = ?", (name,))
    return conn.execute("DELETE FROM queues WHERE name = ?", (name,)).rowcount > 0


def send(
    conn: sqlite3.Connection, queue: str, entries: Sequence[SendEntry], now: float
) -> list[str]:
    config = require_queue(conn, queue)
    ids = []
    for entry in entries:
        delay_s = rules.send_delay(config, entry)
        body = rules.check_body(entry.body)
        attributes = rules.encode_attributes(entry.attributes)
        message_id = rules.new_message_id()
        if entry.dedup_id is not None:
            seen = conn.execute(
                "SELECT message_id FROM dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?",
                (queue, entry.dedup_id, now),
            ).fetchone()
            if seen is not None:
                ids.append(str(seen[0]))
                continue
            conn.execute(
                "INSERT OR REPLACE INTO dedup VALUES (?, ?, ?, ?)",
                (queue, entry.dedup_id, message_id, now + DEDUP_WINDOW_S),
            )
        conn.execute(
            "INSERT INTO messages (id, queue, body, attributes, group_id, dedup_id, sent_at,"
            " visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message_id,
                queue,
                body,
                attributes,
                entry.group_id,
                entry.dedup_id,
                now,
                now + delay_s,
            ),
        )
        ids.append(message_id)
    return ids


_STANDARD_CANDIDATES = """
    SELECT seq, id, body, attributes, group_id, dedup_id, sent_at, attempts, first_received_at,
           origin
    FROM messages WHERE queue = ? AND visible_at <= ? AND sent_at > ?
    ORDER BY visible_at, seq LIMIT ?"""

# FIFO: a message is eligible only while no earlier message of its group is hidden (in flight
# or delayed); in order of sending, so a batch holds a group's messages in order.
_FIFO_CANDIDATES = """
    SELECT m.seq, m.id, m.body, m.attributes, m.group_id, m.dedup_id, m.sent_at, m.attempts,
           m.first_received_at, m.origin
    FROM messages AS m WHERE m.queue = ? AND m.visible_at <= ? AND m.sent_at > ?
    AND NOT EXISTS (
        SELECT 1 FROM messages AS e WHERE e.queue = m.queue AND e.group_id = m.group_id
        AND e.seq < m.seq AND e.visible_at > ?)
    ORDER BY m.seq LIMIT ?"""


def claim(
    conn: sqlite3.Connection,
    queue: str,
    max_messages: int,
    visibility_timeout_s: float | None,
    now: float,
) -> tuple[list[Message], str | None]:
    """Lease up to ``max_messages``; return them and the DLQ name if any message moved there."""
    config = require_queue(conn, queue)
    timeout_s = (
        config.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
    )
    limit, dlq = _retirement(conn, config)
    lease = rules.new_lease()
    delivered: list[Message] = []
    moved_to = None
    while len(delivered) < max_messages:
        want = max_messages - len(delivered)
        oldest = now - config.retention_s
        if config.fifo:
            rows = conn.execute(_FIFO_CANDIDATES, (queue, now, oldest, now, want)).fetchall()
        else:
            rows = conn.execute(_STANDARD_CANDIDATES, (queue, now, oldest, want)).fetchall()
        if not rows:
            break
        spent = [row[0] for row in rows if limit is not None and row[7] >= limit]
        fresh = [row for row in rows if limit is None or row[7] < limit]
        if fresh:
            conn.execute(
                f"UPDATE messages SET visible_at = ?, lease = ?, attempts = attempts + 1,"
                f" first_received_at = coalesce(first_received_at, ?)"
                f" WHERE seq IN ({','.join('?' * len(fresh))})",
                (now + timeout_s, lease, now, *(row[0] for row in fresh)),
            )
            delivered.extend(_message(row, lease, now) for row in fresh)
        if not spent:
            break
        _retire(conn, spent, queue, dlq, now)
        moved_to = dlq or moved_to
    return delivered, moved_to


def _retirement(conn: sqlite3.Connection, config: QueueConfig) -> tuple[int | None, str | None]:
    """The receive count past which messages leave the queue, and the queue they go to."""
    dlq = config.dead_letter_queue
    if dlq is not None and load_queue(conn, dlq) is None:
        # The DLQ was deleted after this queue was made: keep delivering rather than drop
        # messages the user meant to keep.
        return None, None
    return config.max_receive_count, dlq


def _retire(
    conn: sqlite3.Connection, seqs: list[int], queue: str, dlq: str | None, now: float
) -> None:
    """Move messages past ``max_receive_count`` to the DLQ (same id, receive count and first
    receive, ``origin`` this queue), or drop them."""
    marks = ",".join("?" * len(seqs))
    if dlq is None:
        conn.execute(f"DELETE FROM messages WHERE seq IN ({marks})", seqs)
        return
    conn.execute(
        f"UPDATE messages SET queue = ?, visible_at = ?, lease = NULL, origin = ?"
        f" WHERE seq IN ({marks})",
        (dlq, now, queue, *seqs),
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


def delete(conn: sqlite3.Connection, queue: str, leases: Sequence[rules.Lease]) -> list[bool]:
    """Delete by receipt; a receipt only matches while its lease is the message's latest."""
    results = [
        conn.execute(
            "DELETE FROM messages WHERE seq = ? AND queue = ? AND lease = ?", (seq, queue, token)
        ).rowcount
        > 0
        for seq, token in leases
    ]
    if not all(results):
        require_queue(conn, queue)  # a missing queue is an error, not a stale receipt
    return results


def change_visibility(
    conn: sqlite3.Connection, queue: str, lease: rules.Lease, timeout_s: float, now: float
) -> bool:
    seq, token = lease
    changed = conn.execute(
        "UPDATE messages SET visible_at = ? WHERE seq = ? AND queue = ? AND lease = ?",
        (now + timeout_s, seq, queue, token),
    ).rowcount
    if not changed:
        require_queue(conn, queue)
    return changed > 0


def stats(conn: sqlite3.Connection, queue: str, now: float) -> QueueStats:
    require_queue(conn, queue)
    # One pass over the queue's rows: exact, not approximate, and O(depth); fine for a scrape
    # every few seconds up to a few hundred thousand messages.
    visible, in_flight, delayed, oldest = conn.execute(
        "SELECT coalesce(sum(visible_at <= ?1), 0),"
        " coalesce(sum(visible_at > ?1 AND attempts > 0), 0),"
        " coalesce(sum(visible_at > ?1 AND attempts = 0), 0), min(sent_at)"
        " FROM messages WHERE queue = ?2",
        (now, queue),
    ).fetchone()
    return QueueStats(visible, in_flight, delayed, None if oldest is None else now - oldest)


def purge(conn: sqlite3.Connection, now: float) -> int:
    """Drop messages past retention (by send time, kept across a DLQ move, as SQS does)."""
    dropped = 0
    for name, retention_s in conn.execute("SELECT name, retention_s FROM queues").fetchall():
        dropped += conn.execute(
            "DELETE FROM messages WHERE queue = ? AND sent_at <= ?", (name, now - retention_s)
        ).rowcount
    conn.execute("DELETE FROM dedup WHERE expires_at <= ?", (now,))
    return dropped
