"""``SqliteStore``: the embedded store, one file (``.skylet/state.db``) used by one process.

Writes go through the group-commit writer thread, reads through reader threads; coroutines only
await futures, so the event loop never blocks on SQLite. Wake-ups are in-process events: a
second process writing the same file would not wake this one (its waiters still re-check every
``recheck_s``); use PostgreSQL for several nodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from skylet.errors import StoreError
from skylet.store.backend import StoreBackend
from skylet.store.base import Clock, Store
from skylet.store.rules import Lease
from skylet.store.sqlite import logs, queues, schema, tables
from skylet.store.sqlite.connections import ReaderPool, Synchronous, connect
from skylet.store.sqlite.writer import GroupWriter
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


class SqliteStore(StoreBackend):
    """The ``Store`` over one SQLite file. See ``skylet.store.base`` for every contract.

    Its primitives (``StoreBackend``) write through the group-commit writer and read through
    the reader pool, each one a plain function of ``queues`` or ``logs`` on a connection.
    """

    def __init__(
        self,
        path: Path,
        *,
        now: Clock = time.time,
        synchronous: Synchronous = "NORMAL",
        readers: int = 2,
        recheck_s: float = 1.0,
    ) -> None:
        super().__init__(now=now, recheck_s=recheck_s)
        self.path = path
        self._synchronous: Synchronous = synchronous
        self._writer = GroupWriter(partial(connect, path, synchronous, reader=False))
        self._readers = ReaderPool(path, synchronous, readers)

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

    # --- queue primitives ---------------------------------------------------------------------

    async def _create_queue(self, wanted: QueueConfig) -> QueueConfig:
        return await self._writer.submit(partial(queues.create_queue, wanted=wanted))

    async def _update_queue(self, wanted: QueueConfig) -> QueueConfig:
        return await self._writer.submit(
            partial(queues.update_queue, wanted=wanted, now=self._now())
        )

    async def _purge_queue(self, queue: str) -> int:
        return await self._writer.submit(partial(queues.purge_queue, queue=queue))

    async def _move(
        self, source: str, destination: str | None, max_messages: int
    ) -> tuple[int, set[str]]:
        return await self._writer.submit(
            partial(
                queues.move,
                source=source,
                destination=destination,
                limit=max_messages,
                now=self._now(),
            )
        )

    async def _load_queue(self, name: str) -> QueueConfig | None:
        return await self._readers.run(partial(queues.load_queue, name=name))

    async def _list_queues(self, prefix: str) -> list[QueueConfig]:
        return await self._readers.run(partial(queues.list_queues, prefix=prefix))

    async def _delete_queue(self, name: str) -> bool:
        return await self._writer.submit(partial(queues.delete_queue, name=name))

    async def _send(self, queue: str, entries: Sequence[SendEntry]) -> list[str]:
        return await self._writer.submit(
            partial(queues.send, queue=queue, entries=entries, now=self._now())
        )

    async def _claim(
        self, queue: str, max_messages: int, visibility_timeout_s: float | None
    ) -> tuple[list[Message], str | None]:
        return await self._writer.submit(
            partial(
                queues.claim,
                queue=queue,
                max_messages=max_messages,
                visibility_timeout_s=visibility_timeout_s,
                now=self._now(),
            )
        )

    async def _delete(self, queue: str, leases: Sequence[Lease]) -> list[bool]:
        return await self._writer.submit(partial(queues.delete, queue=queue, leases=leases))

    async def _change_visibility(self, queue: str, lease: Lease, timeout_s: float) -> bool:
        return await self._writer.submit(
            partial(
                queues.change_visibility,
                queue=queue,
                lease=lease,
                timeout_s=timeout_s,
                now=self._now(),
            )
        )

    async def _queue_stats(self, queue: str) -> QueueStats:
        return await self._readers.run(partial(queues.stats, queue=queue, now=self._now()))

    # --- log primitives -----------------------------------------------------------------------

    async def _create_log(self, wanted: LogConfig) -> LogConfig:
        return await self._writer.submit(partial(logs.create_log, wanted=wanted))

    async def _load_log(self, name: str) -> LogConfig | None:
        return await self._readers.run(partial(logs.load_log, name=name))

    async def _list_logs(self, prefix: str) -> list[LogConfig]:
        return await self._readers.run(partial(logs.list_logs, prefix=prefix))

    async def _delete_log(self, name: str) -> bool:
        return await self._writer.submit(partial(logs.delete_log, name=name))

    async def _append(
        self,
        log: str,
        records: Sequence[bytes],
        partition: int | None,
        key: str | None,
        attributes: Mapping[str, str] | None,
    ) -> list[int]:
        return await self._writer.submit(
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

    async def _read(
        self, log: str, partition: int, after_sequence: int, limit: int
    ) -> list[LogRecord]:
        return await self._readers.run(
            partial(
                logs.read, log=log, partition=partition, after_sequence=after_sequence, limit=limit
            )
        )

    async def _seek(self, log: str, partition: int, position: StartPosition) -> int:
        return await self._readers.run(
            partial(logs.seek, log=log, partition=partition, position=position)
        )

    async def _commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        await self._writer.submit(
            partial(logs.commit, consumer=consumer, log=log, partition=partition, sequence=sequence)
        )

    async def _committed(self, consumer: str, log: str, partition: int) -> int | None:
        return await self._readers.run(
            partial(logs.committed, consumer=consumer, log=log, partition=partition)
        )

    async def _trim(self, log: str, older_than: float) -> int:
        return await self._writer.submit(partial(logs.trim, log=log, older_than=older_than))

    # --- table primitives ---------------------------------------------------------------------

    async def _create_table(self, wanted: TableConfig) -> TableConfig:
        return await self._writer.submit(partial(tables.create_table, wanted=wanted))

    async def _get_table(self, name: str) -> TableConfig | None:
        return await self._readers.run(partial(tables.get_table, name=name))

    async def _list_tables(self, prefix: str) -> list[TableConfig]:
        return await self._readers.run(partial(tables.list_tables, prefix=prefix))

    async def _update_table(self, name: str, attributes: str) -> TableConfig:
        return await self._writer.submit(
            partial(tables.update_table, name=name, attributes=attributes)
        )

    async def _delete_table(self, name: str) -> bool:
        return await self._writer.submit(partial(tables.delete_table, name=name))

    async def _get_rows(self, keys: list[RowKey]) -> list[Row | None]:
        return await self._readers.run(partial(tables.get_rows, keys=keys))

    async def _query_rows(
        self,
        table: str,
        partition: bytes,
        sort: SortRange,
        forward: bool,
        after: tuple[bytes, bytes] | None,
        limit: int,
    ) -> list[Row]:
        return await self._readers.run(
            partial(
                tables.query_rows,
                table=table,
                partition=partition,
                sort=sort,
                forward=forward,
                after=after,
                limit=limit,
            )
        )

    async def _scan_rows(
        self, table: str, after: RowKey | None, limit: int, low: int, high: int
    ) -> list[Row]:
        return await self._readers.run(
            partial(tables.scan_rows, table=table, after=after, limit=limit, low=low, high=high)
        )

    async def _count_rows(self, table: str) -> tuple[int, int]:
        return await self._readers.run(partial(tables.count_rows, table=table))

    async def _transact(
        self, reads: list[RowKey], decide: Callable[[list[Row | None]], TableWrite]
    ) -> None:
        await self._writer.submit(
            partial(tables.transact, reads=reads, decide=decide, now=self._now())
        )


def _conforms(store: SqliteStore) -> Store:
    """Static check (mypy): ``SqliteStore`` implements ``Store``."""
    return store
