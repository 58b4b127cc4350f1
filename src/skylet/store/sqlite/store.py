"""``SqliteStore``: the embedded store, one file (``.skylet/state.db``) used by one process.

Writes go through the group-commit writer thread, reads through reader threads; coroutines only
await futures, so the event loop never blocks on SQLite. Wake-ups are in-process events: a
second process writing the same file would not wake this one (its waiters still re-check every
``recheck_s``); use PostgreSQL for several nodes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from skylet.errors import StoreError
from skylet.store import rules
from skylet.store.base import Clock, Store
from skylet.store.sqlite import logs, queues, schema
from skylet.store.sqlite.connections import ReaderPool, Synchronous, connect
from skylet.store.sqlite.writer import GroupWriter
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


class SqliteStore:
    """The ``Store`` over one SQLite file. See ``skylet.store.base`` for every contract."""

    def __init__(
        self,
        path: Path,
        *,
        now: Clock = time.time,
        synchronous: Synchronous = "NORMAL",
        readers: int = 2,
        recheck_s: float = 1.0,
    ) -> None:
        self.path = path
        self._now = now
        self._synchronous: Synchronous = synchronous
        self._recheck_s = recheck_s
        self._writer = GroupWriter(partial(connect, path, synchronous, reader=False))
        self._readers = ReaderPool(path, synchronous, readers)
        self._wakeups = Wakeups()

    @property
    def commit_count(self) -> int:
        return self._writer.commit_count

    async def start(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the store's directory {self.path.parent}") from error
        await self._writer.start(lambda conn: schema.migrate(conn, self._now()))
        self._readers.start()

    async def aclose(self) -> None:
        await self._writer.aclose()
        await self._readers.aclose()

    async def purge(self) -> int:
        return await self._writer.submit(partial(queues.purge, now=self._now()))

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
        return await self._writer.submit(partial(queues.create_queue, wanted=wanted))

    async def get_queue(self, name: str) -> QueueConfig | None:
        return await self._readers.run(partial(queues.load_queue, name=name))

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        return await self._readers.run(partial(queues.list_queues, prefix=prefix))

    async def delete_queue(self, name: str) -> bool:
        return await self._writer.submit(partial(queues.delete_queue, name=name))

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
        ids = await self._writer.submit(
            partial(queues.send, queue=queue, entries=entries, now=self._now())
        )
        self._wakeups.ring(queue_channel(queue))
        return ids

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
            messages, moved_to = await self._writer.submit(
                partial(
                    queues.claim,
                    queue=queue,
                    max_messages=max_messages,
                    visibility_timeout_s=visibility_timeout_s,
                    now=self._now(),
                )
            )
            if moved_to is not None:
                self._wakeups.ring(queue_channel(moved_to))
            return messages

        channel = queue_channel(queue)
        return list(await long_poll(self._wakeups, channel, attempt, wait_s, self._recheck_s))

    async def delete(self, queue: str, receipt: str) -> bool:
        (deleted,) = await self.delete_batch(queue, [receipt])
        return deleted

    async def delete_batch(self, queue: str, receipts: Sequence[str]) -> list[bool]:
        return await self._writer.submit(partial(queues.delete, queue=queue, receipts=receipts))

    async def change_visibility(self, queue: str, receipt: str, timeout_s: float) -> bool:
        rules.check_visibility(timeout_s)
        changed = await self._writer.submit(
            partial(
                queues.change_visibility,
                queue=queue,
                receipt=receipt,
                timeout_s=timeout_s,
                now=self._now(),
            )
        )
        if changed and timeout_s == 0:
            self._wakeups.ring(queue_channel(queue))
        return changed

    async def queue_stats(self, queue: str) -> QueueStats:
        return await self._readers.run(partial(queues.stats, queue=queue, now=self._now()))

    async def wait_for_messages(self, queue: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(queue_channel(queue), timeout_s)

    # --- logs -------------------------------------------------------------------------------

    async def create_log(self, name: str, *, partitions: int = 1) -> LogConfig:
        rules.check_name("log", name)
        wanted = LogConfig(name, rules.check_partitions(partitions), self._now())
        return await self._writer.submit(partial(logs.create_log, wanted=wanted))

    async def get_log(self, name: str) -> LogConfig | None:
        return await self._readers.run(partial(logs.load_log, name=name))

    async def list_logs(self, prefix: str = "") -> list[LogConfig]:
        return await self._readers.run(partial(logs.list_logs, prefix=prefix))

    async def delete_log(self, name: str) -> bool:
        return await self._writer.submit(partial(logs.delete_log, name=name))

    async def append(
        self,
        log: str,
        records: Sequence[bytes],
        *,
        partition: int | None = None,
        key: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> list[int]:
        sequences = await self._writer.submit(
            partial(
                logs.append,
                log=log,
                records=records,
                partition=partition,
                key=key,
                attributes=attributes,
                now=self._now(),
            )
        )
        self._wakeups.ring(log_channel(log))
        return sequences

    async def read(
        self, log: str, partition: int, *, after_sequence: int, limit: int = 100
    ) -> list[LogRecord]:
        rules.check_limit(limit)
        return await self._readers.run(
            partial(
                logs.read, log=log, partition=partition, after_sequence=after_sequence, limit=limit
            )
        )

    async def seek(self, log: str, partition: int, position: StartPosition) -> int:
        return await self._readers.run(
            partial(logs.seek, log=log, partition=partition, position=position)
        )

    async def commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        rules.check_name("consumer", consumer)
        await self._writer.submit(
            partial(logs.commit, consumer=consumer, log=log, partition=partition, sequence=sequence)
        )

    async def committed(self, consumer: str, log: str, partition: int) -> int | None:
        return await self._readers.run(
            partial(logs.committed, consumer=consumer, log=log, partition=partition)
        )

    async def trim(self, log: str, older_than: float) -> int:
        return await self._writer.submit(partial(logs.trim, log=log, older_than=older_than))

    async def wait_for_records(self, log: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(log_channel(log), timeout_s)


def _conforms(store: SqliteStore) -> Store:
    """Static check (mypy): ``SqliteStore`` implements ``Store``."""
    return store
