"""``StoreBackend``: the ``QueueStore`` and ``LogStore`` surface written once, over primitives.

A backend subclasses it and supplies the ``_``-prefixed primitives (what differs: the SQL, the
connections, group commit, cross-node notification) and the lifecycle (``start``, ``aclose``,
``purge``, ``commit_count``). Everything the two backends must do alike is here, once:

- the public signatures and their defaults;
- argument checks that need no database (``rules``), made before a primitive is called, so both
  backends refuse the same inputs with the same errors; receipts arrive at the primitives parsed;
- ``send`` and ``delete`` as batches of one;
- wake-ups: after a write commits, this node's waiters on the channels it fed are rung here;
  ``receive``'s long poll and ``wait_for_*`` wait on them.

A write primitive is one transaction, and reads the clock (``self._now()``) as it writes:
PostgreSQL's only once it has a connection (its sends when the batch goes out), so a wait for the
pool does not age the times it stores. A backend whose writes must wake other nodes (PostgreSQL's
NOTIFY) does that inside the primitive's transaction; ringing this node's waiters is never the
primitive's job. Driver errors are translated where the driver is called (the SQLite writer
thread, the PostgreSQL pool), because only there can a failed request be told from a failed
batch, and a lost connection mark the database down.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from skylet.store import rules
from skylet.store.base import Clock, Store
from skylet.store.rules import Lease
from skylet.store.types import (
    DEFAULT_RETENTION_S,
    DEFAULT_VISIBILITY_TIMEOUT_S,
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
from skylet.store.wakeups import Wakeups, log_channel, long_poll, queue_channel

T = TypeVar("T")


class StoreBackend(abc.ABC):
    """A ``Store`` (see ``skylet.store.base`` for every contract) less its primitives.

    ``now`` is the clock of every stored time; ``recheck_s`` bounds how long a long poll waits
    without a wake-up, because a delay ending or a lease expiring rings nobody.
    """

    def __init__(self, *, now: Clock, recheck_s: float) -> None:
        self._now = now
        self._recheck_s = recheck_s
        self._wakeups = Wakeups()

    # --- lifecycle: the backend's own ---------------------------------------------------------

    @property
    @abc.abstractmethod
    def commit_count(self) -> int: ...

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    @abc.abstractmethod
    async def purge(self) -> int: ...

    # --- queues -------------------------------------------------------------------------------

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
        attributes: Mapping[str, str] | None = None,
    ) -> QueueConfig:
        wanted = rules.queue_config(
            name,
            visibility_timeout_s=visibility_timeout_s,
            retention_s=retention_s,
            max_receive_count=max_receive_count,
            dead_letter_queue=dead_letter_queue,
            fifo=fifo,
            delay_s=delay_s,
            attributes=attributes,
            created_at=self._now(),
        )
        return await self._create_queue(wanted)

    async def update_queue(self, wanted: QueueConfig) -> QueueConfig:
        checked = rules.queue_config(
            wanted.name,
            visibility_timeout_s=wanted.visibility_timeout_s,
            retention_s=wanted.retention_s,
            max_receive_count=wanted.max_receive_count,
            dead_letter_queue=wanted.dead_letter_queue,
            fifo=wanted.fifo,
            delay_s=wanted.delay_s,
            attributes=wanted.attributes,
            created_at=wanted.created_at,
        )
        return await self._update_queue(checked)

    async def get_queue(self, name: str) -> QueueConfig | None:
        return await self._load_queue(name)

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        return await self._list_queues(prefix)

    async def delete_queue(self, name: str) -> bool:
        return await self._delete_queue(name)

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
        ids = await self._send(queue, entries)
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
            messages, moved_to = await self._claim(queue, max_messages, visibility_timeout_s)
            if moved_to is not None:
                self._wakeups.ring(queue_channel(moved_to))
            return messages

        channel = queue_channel(queue)
        return list(await long_poll(self._wakeups, channel, attempt, wait_s, self._recheck_s))

    async def delete(self, queue: str, receipt: str) -> bool:
        (deleted,) = await self.delete_batch(queue, [receipt])
        return deleted

    async def delete_batch(self, queue: str, receipts: Sequence[str]) -> list[bool]:
        return await self._delete(queue, [rules.parse_receipt(receipt) for receipt in receipts])

    async def change_visibility(self, queue: str, receipt: str, timeout_s: float) -> bool:
        rules.check_visibility(timeout_s)
        changed = await self._change_visibility(queue, rules.parse_receipt(receipt), timeout_s)
        if changed and rules.releases(timeout_s):
            self._wakeups.ring(queue_channel(queue))
        return changed

    async def purge_queue(self, queue: str) -> int:
        return await self._purge_queue(queue)

    async def move_messages(
        self, source: str, destination: str | None, *, max_messages: int
    ) -> int:
        rules.check_receive(max_messages, None, 0)
        moved, woken = await self._move(source, destination, max_messages)
        for queue in woken:
            self._wakeups.ring(queue_channel(queue))
        return moved

    async def queue_stats(self, queue: str) -> QueueStats:
        return await self._queue_stats(queue)

    async def wait_for_messages(self, queue: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(queue_channel(queue), timeout_s)

    # --- logs ---------------------------------------------------------------------------------

    async def create_log(self, name: str, *, partitions: int = 1) -> LogConfig:
        wanted = LogConfig(
            rules.check_name("log", name), rules.check_partitions(partitions), self._now()
        )
        return await self._create_log(wanted)

    async def get_log(self, name: str) -> LogConfig | None:
        return await self._load_log(name)

    async def list_logs(self, prefix: str = "") -> list[LogConfig]:
        return await self._list_logs(prefix)

    async def delete_log(self, name: str) -> bool:
        return await self._delete_log(name)

    async def append(
        self,
        log: str,
        records: Sequence[bytes],
        *,
        partition: int | None = None,
        key: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> list[int]:
        sequences = await self._append(log, records, partition, key, attributes)
        self._wakeups.ring(log_channel(log))
        return sequences

    async def read(
        self, log: str, partition: int, *, after_sequence: int, limit: int = 100
    ) -> list[LogRecord]:
        return await self._read(log, partition, after_sequence, rules.check_limit(limit))

    async def seek(self, log: str, partition: int, position: StartPosition) -> int:
        return await self._seek(log, partition, position)

    async def commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        await self._commit(rules.check_name("consumer", consumer), log, partition, sequence)

    async def committed(self, consumer: str, log: str, partition: int) -> int | None:
        return await self._committed(consumer, log, partition)

    async def trim(self, log: str, older_than: float) -> int:
        return await self._trim(log, older_than)

    async def wait_for_records(self, log: str, timeout_s: float) -> bool:
        return await self._wakeups.wait(log_channel(log), timeout_s)

    # --- tables -------------------------------------------------------------------------------

    async def create_table(self, name: str, *, attributes: str) -> TableConfig:
        return await self._create_table(
            TableConfig(rules.check_name("table", name), attributes, self._now())
        )

    async def get_table(self, name: str) -> TableConfig | None:
        return await self._get_table(name)

    async def list_tables(self, prefix: str = "") -> list[TableConfig]:
        return await self._list_tables(prefix)

    async def update_table(self, name: str, *, attributes: str) -> TableConfig:
        return await self._update_table(name, attributes)

    async def delete_table(self, name: str) -> bool:
        return await self._delete_table(name)

    async def get_rows(self, keys: Sequence[RowKey]) -> list[Row | None]:
        return await self._get_rows(list(keys)) if keys else []

    async def query_rows(
        self,
        table: str,
        partition: bytes,
        sort: SortRange,
        *,
        forward: bool = True,
        after: tuple[bytes, bytes] | None = None,
        limit: int = 100,
    ) -> list[Row]:
        return await self._query_rows(table, partition, sort, forward, after, max(1, limit))

    async def scan_rows(
        self,
        table: str,
        *,
        after: RowKey | None = None,
        limit: int = 100,
        segment: int = 0,
        segments: int = 1,
    ) -> list[Row]:
        low, high = rules.segment_buckets(segment, segments)
        return await self._scan_rows(table, after, max(1, limit), low, high)

    async def count_rows(self, table: str) -> tuple[int, int]:
        return await self._count_rows(table)

    async def transact(
        self, reads: Sequence[RowKey], decide: Callable[[list[Row | None]], tuple[TableWrite, T]]
    ) -> T:
        written: list[TableWrite] = []

        def deciding(rows: list[Row | None]) -> TableWrite:
            write, result = decide(rows)
            written.append(write)
            results.append(result)
            return write

        results: list[T] = []
        await self._transact(list(reads), deciding)
        for append in written[-1].appends if written else ():
            self._wakeups.ring(log_channel(append.log))
        return results[-1]

    # --- queue primitives: an unknown queue raises ``QueueNotFound`` --------------------------

    @abc.abstractmethod
    async def _create_queue(self, wanted: QueueConfig) -> QueueConfig:
        """Store ``wanted`` unless the queue exists, its dead-letter queue checked by
        ``rules.check_dead_letter_queue``; return what is stored, ``StoreConflict`` if that
        differs (``rules.check_same_queue``)."""

    @abc.abstractmethod
    async def _update_queue(self, wanted: QueueConfig) -> QueueConfig:
        """Replace the queue's attributes with ``wanted``'s (``rules.updated_queue``, its
        dead-letter queue checked as on creation); ``QueueNotFound`` if there is none."""

    @abc.abstractmethod
    async def _load_queue(self, name: str) -> QueueConfig | None: ...

    @abc.abstractmethod
    async def _list_queues(self, prefix: str) -> list[QueueConfig]: ...

    @abc.abstractmethod
    async def _delete_queue(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def _send(self, queue: str, entries: Sequence[SendEntry]) -> list[str]:
        """Store every entry or none (each checked against the queue: ``rules.send_delay``)."""

    @abc.abstractmethod
    async def _claim(
        self, queue: str, max_messages: int, visibility_timeout_s: float | None
    ) -> tuple[list[Message], str | None]:
        """Lease visible messages; return them and the dead-letter queue any moved to."""

    @abc.abstractmethod
    async def _delete(self, queue: str, leases: Sequence[Lease]) -> list[bool]: ...

    @abc.abstractmethod
    async def _change_visibility(self, queue: str, lease: Lease, timeout_s: float) -> bool: ...

    @abc.abstractmethod
    async def _purge_queue(self, queue: str) -> int: ...

    @abc.abstractmethod
    async def _move(
        self, source: str, destination: str | None, max_messages: int
    ) -> tuple[int, set[str]]:
        """Move messages (see ``move_messages``); return how many and the queues they went to."""

    @abc.abstractmethod
    async def _queue_stats(self, queue: str) -> QueueStats: ...

    # --- log primitives: an unknown log raises ``LogNotFound`` --------------------------------

    @abc.abstractmethod
    async def _create_log(self, wanted: LogConfig) -> LogConfig:
        """As ``_create_queue``, with ``rules.check_same_log``."""

    @abc.abstractmethod
    async def _load_log(self, name: str) -> LogConfig | None: ...

    @abc.abstractmethod
    async def _list_logs(self, prefix: str) -> list[LogConfig]: ...

    @abc.abstractmethod
    async def _delete_log(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def _append(
        self,
        log: str,
        records: Sequence[bytes],
        partition: int | None,
        key: str | None,
        attributes: Mapping[str, str] | None,
    ) -> list[int]:
        """Append to ``rules.choose_partition``'s partition; the new sequence numbers."""

    @abc.abstractmethod
    async def _read(
        self, log: str, partition: int, after_sequence: int, limit: int
    ) -> list[LogRecord]: ...

    @abc.abstractmethod
    async def _seek(self, log: str, partition: int, position: StartPosition) -> int: ...

    @abc.abstractmethod
    async def _commit(self, consumer: str, log: str, partition: int, sequence: int) -> None: ...

    @abc.abstractmethod
    async def _committed(self, consumer: str, log: str, partition: int) -> int | None: ...

    @abc.abstractmethod
    async def _trim(self, log: str, older_than: float) -> int: ...

    # --- table primitives ---------------------------------------------------------------------

    @abc.abstractmethod
    async def _create_table(self, wanted: TableConfig) -> TableConfig: ...

    @abc.abstractmethod
    async def _get_table(self, name: str) -> TableConfig | None: ...

    @abc.abstractmethod
    async def _list_tables(self, prefix: str) -> list[TableConfig]: ...

    @abc.abstractmethod
    async def _update_table(self, name: str, attributes: str) -> TableConfig: ...

    @abc.abstractmethod
    async def _delete_table(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def _get_rows(self, keys: list[RowKey]) -> list[Row | None]: ...

    @abc.abstractmethod
    async def _query_rows(
        self,
        table: str,
        partition: bytes,
        sort: SortRange,
        forward: bool,
        after: tuple[bytes, bytes] | None,
        limit: int,
    ) -> list[Row]: ...

    @abc.abstractmethod
    async def _scan_rows(
        self, table: str, after: RowKey | None, limit: int, low: int, high: int
    ) -> list[Row]:
        """Rows whose bucket is in [low, high)."""

    @abc.abstractmethod
    async def _count_rows(self, table: str) -> tuple[int, int]: ...

    @abc.abstractmethod
    async def _transact(
        self, reads: list[RowKey], decide: Callable[[list[Row | None]], TableWrite]
    ) -> None:
        """Read ``reads`` in a write transaction, apply what ``decide`` returns, commit; a
        retried transaction (PostgreSQL) may call ``decide`` again."""


def _conforms(store: StoreBackend) -> Store:
    """Static check (mypy): a ``StoreBackend`` implements ``Store``."""
    return store
