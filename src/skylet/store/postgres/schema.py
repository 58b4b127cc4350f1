"""PostgreSQL schema: numbered migrations in the store's own schema, applied under a lock.

Every skylet node runs ``migrate`` at start. The whole run is one transaction holding a
transaction-scoped advisory lock derived from the schema name, so when several nodes start at
once one applies the migrations and the others wait, then find nothing to do. PostgreSQL's DDL is
transactional: a migration that fails leaves no half-made tables.
"""

from __future__ import annotations

import hashlib
import re

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from skylet.errors import ConfigError, StoreError

SCHEMA_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,47}")

# Times are double precision seconds from the store's clock (not the server's now(), so tests
# drive them and every node agrees with its own receipts). Same shapes as the SQLite schema.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE queues (
            name text PRIMARY KEY,
            visibility_timeout_s double precision NOT NULL,
            retention_s double precision NOT NULL,
            max_receive_count integer,
            dead_letter_queue text,
            fifo boolean NOT NULL,
            delay_s double precision NOT NULL,
            created_at double precision NOT NULL
        );
        CREATE TABLE messages (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL,
            queue text NOT NULL,
            body bytea NOT NULL,
            attributes text,
            group_id text,
            dedup_id text,
            sent_at double precision NOT NULL,
            visible_at double precision NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            first_received_at double precision,
            lease text
        );
        CREATE INDEX messages_ready ON messages (queue, visible_at, seq);
        CREATE INDEX messages_group ON messages (queue, group_id, seq)
            WHERE group_id IS NOT NULL;
        CREATE INDEX messages_age ON messages (queue, sent_at);
        CREATE TABLE dedup (
            queue text NOT NULL,
            dedup_id text NOT NULL,
            message_id text NOT NULL,
            expires_at double precision NOT NULL,
            PRIMARY KEY (queue, dedup_id)
        );
        CREATE TABLE logs (
            name text PRIMARY KEY,
            partitions integer NOT NULL,
            created_at double precision NOT NULL
        );
        CREATE TABLE log_partitions (
            log text NOT NULL,
            partition integer NOT NULL,
            last_seq bigint NOT NULL,
            PRIMARY KEY (log, partition)
        );
        CREATE TABLE log_records (
            log text NOT NULL,
            partition integer NOT NULL,
            seq bigint NOT NULL,
            ts double precision NOT NULL,
            data bytea NOT NULL,
            attributes text,
            PRIMARY KEY (log, partition, seq)
        );
        CREATE INDEX log_records_ts ON log_records (log, partition, ts);
        CREATE TABLE log_offsets (
            consumer text NOT NULL,
            log text NOT NULL,
            partition integer NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (consumer, log, partition)
        );
        """,
    ),
    (
        2,
        """
        ALTER TABLE queues ADD COLUMN attributes text;
        ALTER TABLE queues ADD COLUMN modified_at double precision;
        ALTER TABLE messages ADD COLUMN origin text;
        """,
    ),
    (
        3,
        """
        CREATE TABLE item_tables (
            name text PRIMARY KEY,
            attributes text NOT NULL,
            created_at double precision NOT NULL
        );
        CREATE TABLE items (
            tbl text NOT NULL,
            pk bytea NOT NULL,
            sk bytea NOT NULL,
            uq bytea NOT NULL,
            bucket integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (tbl, pk, sk, uq)
        );
        CREATE INDEX items_scan ON items (tbl, bucket, pk, sk, uq);
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]


def check_schema(schema: str) -> str:
    if not SCHEMA_PATTERN.fullmatch(schema):
        raise ConfigError(
            f"store schema {schema!r} is invalid: use 1-48 of a-z, 0-9 and _, not starting "
            "with a digit"
        )
    return schema


def lock_key(schema: str) -> int:
    """A signed 64-bit advisory-lock key, the same on every node for one schema."""
    digest = hashlib.sha256(f"skylet.store:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def migrate(conn: AsyncConnection[TupleRow], schema: str, now: float) -> list[int]:
    """Create ``schema`` and apply the migrations it lacks; return their numbers."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema),))
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, applied_at double precision NOT NULL)"
        )
        cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        row = await cursor.fetchone()
        current = int(row[0]) if row is not None else 0
        if current > LATEST_VERSION:
            raise StoreError(
                f"the store's schema {schema!r} is version {current}, newer than this skylet "
                f"knows ({LATEST_VERSION}); upgrade skylet"
            )
        applied = []
        for version, script in MIGRATIONS:
            if version > current:
                await conn.execute(script.encode())
                await conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, now))
                applied.append(version)
    return applied
