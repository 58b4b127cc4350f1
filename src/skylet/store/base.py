"""The store interface: durable queues and logs under every asynchronous path of skylet.

Two primitives, as docs/ARCHITECTURE.md draws them:

- a **queue** (SQS's model): competing consumers lease messages for a visibility timeout, count
  attempts, move a message to a dead-letter queue after ``max_receive_count`` receives, delay it,
  and (FIFO) keep each message group in order and drop duplicate sends within 5 minutes;
- a **log** (Kinesis's and DynamoDB Streams' model): ordered records per partition, consumer
  offsets, replay from the trim horizon, the latest record or a timestamp;
- a **table** (DynamoDB's model): rows ordered by partition and sort key, read by key, by a
  range of one partition, or scanned; written in transactions that append to logs too.

Implementations: ``sqlite.SqliteStore`` (embedded, one process) and ``postgres.PostgresStore``
(many nodes). Both pass ``tests/store/test_contract_*.py``. Each is built without I/O, opened by
``start()`` (which applies schema migrations) and closed by ``aclose()``.

Every method is a coroutine that never blocks the event loop. Errors: ``QueueNotFound`` /
``LogNotFound`` for unknown names, ``InvalidParameterValue`` (and ``StoreConflict``,
``InvalidReceipt``) for bad arguments, ``StoreUnavailable`` when the database cannot be reached,
``StoreError`` for anything else the database reports. A write that raised ``StoreUnavailable``
may or may not have happened; delivery is at least once, so consumers are idempotent anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

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

T = TypeVar("T")

Clock = Callable[[], float]
"""Seconds since the epoch; ``time.time`` in production, a settable fake in tests."""


class QueueStore(Protocol):
    """Named queues of messages with leases, attempts, delays, dead-lettering and FIFO groups."""

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
        """Create a queue, or return it if it exists with the same attributes (else
        ``StoreConflict``). The dead-letter queue must exist first and share ``fifo``.
        ``max_receive_count`` without a dead-letter queue drops messages past the count.
        ``attributes`` are kept for the caller and never read by the store."""
        ...

    async def update_queue(self, wanted: QueueConfig) -> QueueConfig:
        """Give the existing queue ``wanted.name`` the attributes of ``wanted`` (checked as by
        ``create_queue``; ``fifo`` cannot change: ``InvalidParameterValue``); return what is
        stored, ``modified_at`` now. Messages already sent keep their delay and their send
        time; the new visibility timeout, retention and receive count apply from the next
        receive. ``QueueNotFound`` if there is no such queue."""
        ...

    async def get_queue(self, name: str) -> QueueConfig | None: ...

    async def list_queues(self, prefix: str = "") -> list[QueueConfig]:
        """Queues whose name starts with ``prefix``, sorted by name."""
        ...

    async def delete_queue(self, name: str) -> bool:
        """Delete a queue and its messages; ``False`` if there was none (idempotent)."""
        ...

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
        """Store one message; return its id once it is durable. ``delay_s=None`` uses the
        queue's delay. FIFO queues need ``group_id``; a ``dedup_id`` seen on this queue in the
        last 5 minutes returns the first message's id and stores nothing."""
        ...

    async def send_batch(self, queue: str, entries: Sequence[SendEntry]) -> list[str]:
        """``send`` for many messages in one transaction (all or none); ids in entry order."""
        ...

    async def receive(
        self,
        queue: str,
        *,
        max_messages: int = 1,
        visibility_timeout_s: float | None = None,
        wait_s: float = 0.0,
    ) -> list[Message]:
        """Lease up to ``max_messages`` visible messages for ``visibility_timeout_s`` (default:
        the queue's). With ``wait_s > 0`` (real seconds) it long-polls: it returns as soon as
        any message could be leased, or an empty list after ``wait_s``. A message received more
        than ``max_receive_count`` times moves to the dead-letter queue instead, atomically,
        with its receive count and first receive time (as SQS's ``ApproximateReceiveCount``
        goes on counting there) and ``origin`` set to this queue."""
        ...

    async def delete(self, queue: str, receipt: str) -> bool:
        """Delete a received message; ``False`` if the receipt is stale (another receive has
        leased the message since) or the message is gone. Idempotent."""
        ...

    async def delete_batch(self, queue: str, receipts: Sequence[str]) -> list[bool]:
        """``delete`` for many receipts in one transaction; results in receipt order."""
        ...

    async def change_visibility(self, queue: str, receipt: str, timeout_s: float) -> bool:
        """Hide a received message for ``timeout_s`` from now (0 releases it now); ``False`` if
        the receipt is stale."""
        ...

    async def purge_queue(self, queue: str) -> int:
        """Delete every message of ``queue``, in flight or not (SQS's PurgeQueue); return how
        many. Deduplication ids stay remembered."""
        ...

    async def move_messages(
        self, source: str, destination: str | None, *, max_messages: int
    ) -> int:
        """Move up to ``max_messages`` visible messages of ``source`` (oldest first, one
        transaction) to ``destination``, or, when it is ``None``, each back to its ``origin``
        (messages without one, or whose origin queue is gone, stay). A moved message keeps its
        id, body, attributes, group and send time, is visible at once and counts no receives.
        Returns how many moved; ``QueueNotFound`` for a missing source or destination."""
        ...

    async def queue_stats(self, queue: str) -> QueueStats:
        """Approximate visible / in-flight / delayed counts and the oldest message's age."""
        ...

    async def wait_for_messages(self, queue: str, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` real seconds until a message is sent to ``queue`` (on any
        node); ``True`` if woken, ``False`` on timeout. A hint only: a send that lands just
        before the call is not seen, so receive after it returns either way."""
        ...


class LogStore(Protocol):
    """Named, partitioned, append-only logs with per-consumer offsets."""

    async def create_log(self, name: str, *, partitions: int = 1) -> LogConfig:
        """Create a log, or return it if it exists with as many partitions (else
        ``StoreConflict``)."""
        ...

    async def get_log(self, name: str) -> LogConfig | None: ...

    async def list_logs(self, prefix: str = "") -> list[LogConfig]: ...

    async def delete_log(self, name: str) -> bool:
        """Delete a log, its records and its consumers' offsets; ``False`` if there was none."""
        ...

    async def append(
        self,
        log: str,
        records: Sequence[bytes],
        *,
        partition: int | None = None,
        key: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> list[int]:
        """Append records to one partition (``partition``, else the hash of ``key``, else 0) in
        one transaction; return their sequence numbers, consecutive and increasing within the
        partition. ``attributes`` are stored on every record of the call."""
        ...

    async def read(
        self, log: str, partition: int, *, after_sequence: int, limit: int = 100
    ) -> list[LogRecord]:
        """Up to ``limit`` records with sequence > ``after_sequence``, in order. Records trimmed
        away are skipped: the first one returned is then the trim horizon."""
        ...

    async def seek(self, log: str, partition: int, position: StartPosition) -> int:
        """The ``after_sequence`` that starts reading at ``position``: TRIM_HORIZON (oldest
        retained), LATEST (only records appended from now on) or AT_TIMESTAMP(ts)."""
        ...

    async def commit(self, consumer: str, log: str, partition: int, sequence: int) -> None:
        """Remember that ``consumer`` processed ``partition`` up to ``sequence`` (may rewind)."""
        ...

    async def committed(self, consumer: str, log: str, partition: int) -> int | None:
        """The last committed sequence, ``None`` if the consumer never committed."""
        ...

    async def trim(self, log: str, older_than: float) -> int:
        """Drop records with a timestamp before ``older_than``; return how many. Sequence
        numbers keep growing after a trim."""
        ...

    async def wait_for_records(self, log: str, timeout_s: float) -> bool:
        """Like ``wait_for_messages``, woken by ``append`` to any partition of ``log``."""
        ...


class TableStore(Protocol):
    """Tables of rows ordered by (partition, sort, unique), for DynamoDB's tables and indexes.

    ``transact`` is the one write: it reads the rows at ``reads`` inside a write transaction
    (on PostgreSQL, each key locked for the transaction, present or not), calls ``decide`` with
    them (None for a row that is absent), and applies the ``TableWrite`` it returns (rows and
    log records) in the same transaction. ``decide`` is synchronous and pure; whatever it raises
    rolls the transaction back and reaches the caller. Its return value is ``transact``'s.
    """

    async def create_table(self, name: str, *, attributes: str) -> TableConfig:
        """``StoreConflict`` if a table of that name exists."""
        ...

    async def get_table(self, name: str) -> TableConfig | None: ...

    async def list_tables(self, prefix: str = "") -> list[TableConfig]:
        """Ordered by name."""
        ...

    async def update_table(self, name: str, *, attributes: str) -> TableConfig:
        """``ResourceNotFound`` if there is none."""
        ...

    async def delete_table(self, name: str) -> bool:
        """Deletes the table and its rows; False if there was none."""
        ...

    async def get_rows(self, keys: Sequence[RowKey]) -> list[Row | None]:
        """The rows at ``keys``, in their order (None where absent); committed reads."""
        ...

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
        """Rows of one partition in ``sort``, by (sort, unique) ascending (descending unless
        ``forward``), starting past ``after`` (a (sort, unique) already read)."""
        ...

    async def scan_rows(
        self,
        table: str,
        *,
        after: RowKey | None = None,
        limit: int = 100,
        segment: int = 0,
        segments: int = 1,
    ) -> list[Row]:
        """Rows of the table in scan order (partition hash, partition, sort, unique), those of
        ``segment`` of ``segments`` only, starting past ``after``."""
        ...

    async def count_rows(self, table: str) -> tuple[int, int]:
        """(rows, bytes of their data)."""
        ...

    async def transact(
        self, reads: Sequence[RowKey], decide: Callable[[list[Row | None]], tuple[TableWrite, T]]
    ) -> T: ...


class Store(QueueStore, LogStore, TableStore, Protocol):
    """Both primitives in one database, with its lifecycle."""

    async def start(self) -> None:
        """Open the database and apply pending migrations (idempotent; safe when several nodes
        start at once). ``StoreUnavailable`` if the database cannot be reached."""
        ...

    async def aclose(self) -> None:
        """Finish pending writes and close every connection. Idempotent."""
        ...

    async def purge(self) -> int:
        """Drop messages past their queue's retention and expired dedup ids; return how many
        messages. Call it periodically (every minute is plenty)."""
        ...

    @property
    def commit_count(self) -> int:
        """Transactions committed since ``start()``: the observable cost of group commit."""
        ...
