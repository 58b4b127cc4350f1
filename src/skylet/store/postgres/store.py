"""``PostgresStore``: the store shared by many skylet nodes through one PostgreSQL database.

Nodes are stateless: queue work is claimed with ``SKIP LOCKED``, wake-ups travel by
LISTEN/NOTIFY, migrations run under an advisory lock. All times come from the injected clock of
the node that writes, so nodes' clocks should agree (NTP) to well under a visibility timeout.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence

from skylet.errors import SkyletError
from skylet.store import rules
from skylet.store.base import Clock, Store
from skylet.store.postgres import logs, queues
from skylet.store.postgres import schema as schema_module
from skylet.store.postgres.batcher import SendBatcher
from skylet.store.postgres.database import Connection, Database
from skylet.store.postgres.listener import Listener, channel_name
from skylet.store.types import (
    DEFAULT_RETENTION_S,
    DEFAULT_VISIBILITY_TIMEOUT_S,
    LogConfig,
    LogRecord,
    Message,
    QueueConfig,
    QueueStats,
    SendEntry,
    StartPosition,
)
from skylet.store.wakeups import Wakeups, log_channel, long_poll, queue_channel


class PostgresStore:
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
        self.schema = schema_name = schema_module.check_schema(schema)
        self._now = now
        self._timeout_s = timeout_s
        self._recheck_s = recheck_s
        self._db = Database(conninfo, schema_name, max_size=max_connections, timeout_s=timeout_s)
        self._channel = channel_name(schema_name)
        #: Tags this node's notifications, so its listener does not ring what it rang itself.
        self._origin = secrets.token_hex(8)
        self._wakeups = Wakeups()
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
        the caller rings this node's own waiters after the commit."""
        await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, f"{self._origin} {channel}"))

    # --- queues ---------------------------------------------------------------------------

    async def create_queue(
        self,
        name: str,
        *,
        visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S,
        retention_s: float = DEFAULT_RETENTION_S,
        max_receive_count: int | None = None,
        dead_letter_queue: str | None = None,
        fifo: bool = False,
        delay_s: float = 0.0,
    ) -> QueueConfig:
        wanted = rules.queue_config(
            name,
            visibility_timeout_s=visibility_timeout_s,
            retention_s=retention_s,
            max_receive_count=max_receive_count,
            dead_letter_queue=dead_letter_queue,
            fifo=fifo,
            delay_s=delay_s,
            created_at=self._now(),
        )
        async with self._db.transaction() as conn:
            return await queues.create_queue(conn, wanted)

    async def get_queue(self, name: str) -> QueueConfig | None:
        async with self._db.connection() as conn:
            return await queues.load_queue(conn, name)

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        async with self._db.connection() as conn:
            return await queues.list_queues(conn, prefix)

    async def delete_queue(self, name: str) -> bool:
        async with self._db.transaction() as conn:
            return await queues.delete_queue(conn, name)

    async def send(
        self,
        queue: str,
        body: bytes,
        *,
        delay_s: float | None = None,
        attributes: Mapping[str, str] | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> str:
        entry = SendEntry(body, delay_s, attributes, group_id, dedup_id)
        (message_id,) = await self.send_batch(queue, [entry])
        return message_id

    async def send_batch(self, queue: str, entries: Sequence[SendEntry]) -> list[str]:
        return await self._sends.send(queue, entries)

    async def _write_sends(
        self, requests: Sequence[queues.SendRequest]
    ) -> list[list[str] | SkyletError]:
        """One transaction for every send the batcher gathered; one NOTIFY per queue."""
        async with self._db.transaction() as conn:
            outcomes = await queues.send_many(
                conn, requests, self._now(), self._channel, self._origin
            )
        for (queue, _), outcome in zip(requests, outcomes, strict=True):
            if not isinstance(outcome, SkyletError):
                self._wakeups.ring(queue_channel(queue))
        return outcomes

    async def receive(
        self,
        queue: str,
        *,
        max_messages: int = 1,
        visibility_timeout_s: float | None = None,
        wait_s: float = 0.0,
    ) -> list[Message]:
        rules.check_receive(max_messages, visibility_timeout_s, wait_s)

        async def attempt() -> list[Message]:
            async with self._db.transaction() as conn:
                messages, moved_to = await queues.claim(
                    conn, queue, max_messages, visibility_timeout_s, self._now()
                )
                if moved_to is not None:
                    await self._notify(conn, queue_channel(moved_to))
            if moved_to is not None:
                self._wakeups.ring(queue_channel(moved_to))
            return messages

        channel = queue_channel(queue)
        return list(await long_poll(self._wakeups, channel, attempt, wait_s, self._recheck_s))

    async def delete(self, queue: str, receipt: str) -> bool:
        (deleted,) = await self.delete_batch(queue, [receipt])
        return deleted

    async def delete_batch(self, queue: str, receipts: Sequence[str]) -> list[bool]:
        async with self._db.autocommit() as conn:
            return await queues.delete(conn, queue, receipts)

    async def change_visibility(self, queue: str, receipt: str, timeout_s: float) -> bool:
        rules.check_visibility(timeout_s)
        async with self._db.transaction() as conn:
            changed = await queues.change_visibility(conn, queue, receipt, timeout_s, self._now())
            if changed and timeout_s == 0:
                await self._notify(conn, queue_channel(queue))
        if changed and timeout_s == 0:
            self._wakeups.ring(queue_channel(queue))
        return changed

    async def queue_stats(self, queue: str) -> QueueStats:
        async with self._db.connection() as conn:
            return await queues.stats(conn, queue, self._now())

    async def wait_for_messages(self, queue: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(queue_channel(queue), timeout_s)

    # --- logs -------------------------------------------------------------------------------

    async def create_log(self, name: str, *, partitions: int = 1) -> LogConfig:
        rules.check_name("log", name)
        wanted = LogConfig(name, rules.check_partitions(partitions), self._now())
        async with self._db.transaction() as conn:
            return await logs.create_log(conn, wanted)

    async def get_log(self, name: str) -> LogConfig | None:
        async with self._db.connection() as conn:
            return await logs.load_log(conn, name)

    async def list_logs(self, prefix: str = "") -> list[LogConfig]:
        async with self._db.connection() as conn:
            return await logs.list_logs(conn, prefix)

    async def delete_log(self, name: str) -> bool:
        async with self._db.transaction() as conn:
            return await logs.delete_log(conn, name)

    async def append(
        self,
        log: str,
        records: Sequence[bytes],
        *,
        partition: int | None = None,
        key: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> list[int]:
        channel = log_channel(log)
        async with self._db.transaction() as conn:
            sequences = await logs.append(
                conn, log, records, partition, key, attributes, self._now()
            )
            await self._notify(conn, channel)
        self._wakeups.ring(channel)
        return sequences

    async def read(
        self, log: str, partition: int, *, after_sequence: int, limit: int = 100
    ) -> list[LogRecord]:
        rules.check_limit(limit)
        async with self._db.connection() as conn:
            return await logs.read(conn, log, partition, after_sequence, limit)

    async def seek(self, log: str, partition: int, position: StartPosition) -> int:
        async with self._db.connection() as conn:
            return await logs.seek(conn, log, partition, position)

    async def commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        rules.check_name("consumer", consumer)
        async with self._db.transaction() as conn:
            await logs.commit(conn, consumer, log, partition, sequence)

    async def committed(self, consumer: str, log: str, partition: int) -> int | None:
        async with self._db.connection() as conn:
            return await logs.committed(conn, consumer, log, partition)

    async def trim(self, log: str, older_than: float) -> int:
        async with self._db.transaction() as conn:
            return await logs.trim(conn, log, older_than)

    async def wait_for_records(self, log: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(log_channel(log), timeout_s)


def _conforms(store: PostgresStore) -> Store:
    """Static check (mypy): ``PostgresStore`` implements ``Store``."""
    return store
