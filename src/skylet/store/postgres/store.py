"""``PostgresStore``: the store shared by many skylet nodes through one PostgreSQL database.

Nodes are stateless: queue work is claimed with ``SKIP LOCKED``, wake-ups travel by
LISTEN/NOTIFY, migrations run under an advisory lock. All times come from the injected clock of
the node that writes, so nodes' clocks should agree (NTP) to well under a visibility timeout.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from skylet.errors import SkyletError
from skylet.store import rules
from skylet.store.backend import StoreBackend
from skylet.store.base import Clock, Store
from skylet.store.postgres import logs, queues, tables
from skylet.store.postgres import schema as schema_module
from skylet.store.postgres.batcher import SendBatcher
from skylet.store.postgres.database import Connection, Database
from skylet.store.postgres.listener import Listener, channel_name
from skylet.store.rules import Lease
from skylet.store.types import (
    LogConfig,
    LogRecord,
    Message,
    QueueConfig,
    QueueStats,
    Row,
    RowKey,
    SendEntry,
    SortRange,
    StartPosition,
    TableConfig,
    TableWrite,
)
from skylet.store.wakeups import log_channel, queue_channel

P = ParamSpec("P")
T = TypeVar("T")


class PostgresStore(StoreBackend):
    """The ``Store`` in one schema of a PostgreSQL database. See ``skylet.store.base``.

    ``timeout_s`` bounds waiting for a connection; past it an operation raises
    ``StoreUnavailable``.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "skylet",
        now: Clock = time.time,
        max_connections: int = 10,
        timeout_s: float = 5.0,
        recheck_s: float = 1.0,
    ) -> None:
        super().__init__(now=now, recheck_s=recheck_s)
        self.schema = schema_name = schema_module.check_schema(schema)
        self._timeout_s = timeout_s
        self._db = Database(conninfo, schema_name, max_size=max_connections, timeout_s=timeout_s)
        self._channel = channel_name(schema_name)
        #: Tags this node's notifications, so its listener does not ring what it rang itself.
        self._origin = secrets.token_hex(8)
        self._listener: Listener | None = None
        # Half the connections for sends; receives and deletes keep the other half.
        self._sends = SendBatcher(self._write_sends, flushers=max(1, max_connections // 2))

    @property
    def commit_count(self) -> int:
        return self._db.commit_count

    async def start(self) -> None:
        await self._db.open()
        try:
            async with self._db.connection() as conn:
                await schema_module.migrate(conn, self.schema, self._now())
            listener = Listener(
                self._db.conninfo,
                self._db.connect_kwargs(),
                self._channel,
                self._wakeups,
                self._origin,
            )
            await listener.start(self._timeout_s)
            self._listener = listener
        except BaseException:
            await self._db.close()
            raise

    async def aclose(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.aclose()
        await self._sends.aclose()
        await self._db.close()

    async def purge(self) -> int:
        async with self._db.transaction() as conn:
            return await queues.purge(conn, self._now())

    async def _notify(self, conn: Connection, channel: str) -> None:
        """Queue a NOTIFY that PostgreSQL delivers to every node when the transaction commits;
        ``StoreBackend`` rings this node's own waiters after the commit."""
        await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, f"{self._origin} {channel}"))

    async def _reading(
        self,
        op: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``op(conn, *args)`` on a pooled connection, each statement committing on its own."""
        async with self._db.connection() as conn:
            return await op(conn, *args, **kwargs)

    async def _writing(
        self,
        op: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``op(conn, *args)`` in one transaction, committed (and counted) before it returns."""
        async with self._db.transaction() as conn:
            return await op(conn, *args, **kwargs)

    # --- queue primitives ---------------------------------------------------------------------

    async def _create_queue(self, wanted: QueueConfig) -> QueueConfig:
        return await self._writing(queues.create_queue, wanted)

    async def _update_queue(self, wanted: QueueConfig) -> QueueConfig:
        async with self._db.transaction() as conn:
            return await queues.update_queue(conn, wanted, self._now())

    async def _purge_queue(self, queue: str) -> int:
        return await self._writing(queues.purge_queue, queue)

    async def _move(
        self, source: str, destination: str | None, max_messages: int
    ) -> tuple[int, set[str]]:
        async with self._db.transaction() as conn:
            moved, woken = await queues.move(conn, source, destination, max_messages, self._now())
            for queue in sorted(woken):
                await self._notify(conn, queue_channel(queue))
        return moved, woken

    async def _load_queue(self, name: str) -> QueueConfig | None:
        return await self._reading(queues.load_queue, name)

    async def _list_queues(self, prefix: str) -> list[QueueConfig]:
        return await self._reading(queues.list_queues, prefix)

    async def _delete_queue(self, name: str) -> bool:
        return await self._writing(queues.delete_queue, name)

    async def _send(self, queue: str, entries: Sequence[SendEntry]) -> list[str]:
        return await self._sends.send(queue, entries)

    async def _write_sends(
        self, requests: Sequence[queues.SendRequest]
    ) -> list[list[str] | SkyletError]:
        """One transaction for every send the batcher gathered; one NOTIFY per queue."""
        async with self._db.transaction() as conn:
            return await queues.send_many(conn, requests, self._now(), self._channel, self._origin)

    async def _claim(
        self, queue: str, max_messages: int, visibility_timeout_s: float | None
    ) -> tuple[list[Message], str | None]:
        async with self._db.transaction() as conn:
            messages, moved_to = await queues.claim(
                conn, queue, max_messages, visibility_timeout_s, self._now()
            )
            if moved_to is not None:
                await self._notify(conn, queue_channel(moved_to))
        return messages, moved_to

    async def _delete(self, queue: str, leases: Sequence[Lease]) -> list[bool]:
        async with self._db.autocommit() as conn:
            return await queues.delete(conn, queue, leases)

    async def _change_visibility(self, queue: str, lease: Lease, timeout_s: float) -> bool:
        async with self._db.transaction() as conn:
            changed = await queues.change_visibility(conn, queue, lease, timeout_s, self._now())
            if changed and rules.releases(timeout_s):
                await self._notify(conn, queue_channel(queue))
        return changed

    async def _queue_stats(self, queue: str) -> QueueStats:
        async with self._db.connection() as conn:
            return await queues.stats(conn, queue, self._now())

    # --- log primitives -----------------------------------------------------------------------

    async def _create_log(self, wanted: LogConfig) -> LogConfig:
        return await self._writing(logs.create_log, wanted)

    async def _load_log(self, name: str) -> LogConfig | None:
        return await self._reading(logs.load_log, name)

    async def _list_logs(self, prefix: str) -> list[LogConfig]:
        return await self._reading(logs.list_logs, prefix)

    async def _delete_log(self, name: str) -> bool:
        return await self._writing(logs.delete_log, name)

    async def _append(
        self,
        log: str,
        records: Sequence[bytes],
        partition: int | None,
        key: str | None,
        attributes: Mapping[str, str] | None,
    ) -> list[int]:
        async with self._db.transaction() as conn:
            sequences = await logs.append(
                conn, log, records, partition, key, attributes, self._now()
            )
            await self._notify(conn, log_channel(log))
        return sequences

    async def _read(
        self, log: str, partition: int, after_sequence: int, limit: int
    ) -> list[LogRecord]:
        return await self._reading(logs.read, log, partition, after_sequence, limit)

    async def _seek(self, log: str, partition: int, position: StartPosition) -> int:
        return await self._reading(logs.seek, log, partition, position)

    async def _commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        await self._writing(logs.commit, consumer, log, partition, sequence)

    async def _committed(self, consumer: str, log: str, partition: int) -> int | None:
        return await self._reading(logs.committed, consumer, log, partition)

    async def _trim(self, log: str, older_than: float) -> int:
        return await self._writing(logs.trim, log, older_than)

    # --- table primitives ---------------------------------------------------------------------

    async def _create_table(self, wanted: TableConfig) -> TableConfig:
        return await self._writing(tables.create_table, wanted)

    async def _get_table(self, name: str) -> TableConfig | None:
        return await self._reading(tables.get_table, name)

    async def _list_tables(self, prefix: str) -> list[TableConfig]:
        return await self._reading(tables.list_tables, prefix)

    async def _update_table(self, name: str, attributes: str) -> TableConfig:
        return await self._writing(tables.update_table, name, attributes)

    async def _delete_table(self, name: str) -> bool:
        return await self._writing(tables.delete_table, name)

    async def _get_rows(self, keys: list[RowKey]) -> list[Row | None]:
        return await self._reading(tables.get_rows, keys)

    async def _query_rows(
        self,
        table: str,
        partition: bytes,
        sort: SortRange,
        forward: bool,
        after: tuple[bytes, bytes] | None,
        limit: int,
    ) -> list[Row]:
        return await self._reading(tables.query_rows, table, partition, sort, forward, after, limit)

    async def _scan_rows(
        self, table: str, after: RowKey | None, limit: int, low: int, high: int
    ) -> list[Row]:
        return await self._reading(tables.scan_rows, table, after, limit, low, high)

    async def _count_rows(self, table: str) -> tuple[int, int]:
        return await self._reading(tables.count_rows, table)

    async def _transact(
        self, reads: list[RowKey], decide: Callable[[list[Row | None]], TableWrite]
    ) -> None:
        async with self._db.transaction() as conn:
            write = await tables.transact(conn, reads, decide, self._now())
            for log in sorted({append.log for append in write.appends}):
                await self._notify(conn, log_channel(log))


def _conforms(store: PostgresStore) -> Store:
    """Static check (mypy): ``PostgresStore`` implements ``Store``."""
    return store
