"""SQLite schema: numbered migrations, applied once each, recorded in ``schema_migrations``.

A migration is never edited after release; a change is a new number. ``migrate`` runs in one
``BEGIN IMMEDIATE`` transaction, which takes SQLite's write lock first, so two processes starting
on one file apply each migration once: the second waits, then finds nothing left to do.
"""

from __future__ import annotations

import sqlite3

from skylet.errors import StoreError

# Times are REAL seconds since the epoch from the store's clock. ``seq`` orders messages and
# names them in receipts; ``id`` is the public UUID, kept when a message moves to a DLQ.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE queues (
            name TEXT PRIMARY KEY,
            visibility_timeout_s REAL NOT NULL,
            retention_s REAL NOT NULL,
            max_receive_count INTEGER,
            dead_letter_queue TEXT,
            fifo INTEGER NOT NULL,
            delay_s REAL NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL,
            queue TEXT NOT NULL,
            body BLOB NOT NULL,
            attributes TEXT,
            group_id TEXT,
            dedup_id TEXT,
            sent_at REAL NOT NULL,
            visible_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            first_received_at REAL,
            lease TEXT
        );
        -- Receive scans visible messages oldest-visible first and stops after the batch.
        CREATE INDEX messages_ready ON messages (queue, visible_at, seq);
        -- FIFO: "is an earlier message of this group still hidden?"
        CREATE INDEX messages_group ON messages (queue, group_id, seq)
            WHERE group_id IS NOT NULL;
        CREATE INDEX messages_age ON messages (queue, sent_at);
        CREATE TABLE dedup (
            queue TEXT NOT NULL,
            dedup_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (queue, dedup_id)
        ) WITHOUT ROWID;
        CREATE TABLE logs (
            name TEXT PRIMARY KEY,
            partitions INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        -- last_seq survives trims, so sequence numbers never repeat within a partition.
        CREATE TABLE log_partitions (
            log TEXT NOT NULL,
            partition INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            PRIMARY KEY (log, partition)
        ) WITHOUT ROWID;
        CREATE TABLE log_records (
            log TEXT NOT NULL,
            partition INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            ts REAL NOT NULL,
            data BLOB NOT NULL,
            attributes TEXT,
            PRIMARY KEY (log, partition, seq)
        );
        CREATE INDEX log_records_ts ON log_records (log, partition, ts);
        CREATE TABLE log_offsets (
            consumer TEXT NOT NULL,
            log TEXT NOT NULL,
            partition INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (consumer, log, partition)
        ) WITHOUT ROWID;
        """,
    ),
    (
        2,
        """
        -- What a service keeps with a queue (JSON text), and when it last changed.
        ALTER TABLE queues ADD COLUMN attributes TEXT;
        ALTER TABLE queues ADD COLUMN modified_at REAL;
        -- The queue a dead-lettered message came from.
        ALTER TABLE messages ADD COLUMN origin TEXT;
        """,
    ),
    (
        3,
        """
        -- DynamoDB's tables and their indexes: rows by key bytes, memcmp order.
        CREATE TABLE item_tables (
            name TEXT PRIMARY KEY,
            attributes TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE items (
            tbl TEXT NOT NULL,
            pk BLOB NOT NULL,
            sk BLOB NOT NULL,
            uq BLOB NOT NULL,
            bucket INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (tbl, pk, sk, uq)
        ) WITHOUT ROWID;
        CREATE INDEX items_scan ON items (tbl, bucket, pk, sk, uq);
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]


def migrate(conn: sqlite3.Connection, now: float) -> list[int]:
    """Apply the migrations this file lacks; return their numbers (empty when up to date)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        current = row[0] or 0
        if current > LATEST_VERSION:
            raise StoreError(
                f"the store's schema is version {current}, newer than this skylet knows "
                f"({LATEST_VERSION}); upgrade skylet"
            )
        applied = []
        for version, script in MIGRATIONS:
            if version <= current:
                continue
            # executescript() would COMMIT first; run statement by statement inside our lock.
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, now))
            applied.append(version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
