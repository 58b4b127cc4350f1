"""The values that cross the store interface: queue and log configurations, messages, records.

Every time is a float of seconds since the Unix epoch as returned by the store's injected clock
(``now()``), and every duration is a float of seconds (``*_s``). Values are frozen dataclasses so
a caller can keep them, hash them and compare them without surprises.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# SQS's numbers, so a queue behaves the same on skylet as on AWS.
DEFAULT_VISIBILITY_TIMEOUT_S = 30.0
DEFAULT_RETENTION_S = 345_600.0  # 4 days
DEDUP_WINDOW_S = 300.0  # a FIFO dedup_id is remembered for 5 minutes after the first send
MAX_VISIBILITY_TIMEOUT_S = 43_200.0  # 12 hours
MAX_DELAY_S = 900.0  # 15 minutes
MAX_RETENTION_S = 1_209_600.0  # 14 days
# SQS stops at 10 per receive; Lambda's SQS poller batches up to 10,000, and the dispatcher
# receives on its behalf, so the store allows the larger number.
MAX_RECEIVE_MESSAGES = 10_000
MAX_LOG_PARTITIONS = 1_024
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue's attributes. ``dead_letter_queue`` needs ``max_receive_count``.

    ``attributes`` are what a service keeps with the queue and the store never reads (SQS's
    other attributes, a queue's tags); they take part in comparisons but not in the hash.
    ``modified_at`` is the last ``update_queue`` (``created_at`` until then).
    """

    name: str
    visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S
    retention_s: float = DEFAULT_RETENTION_S
    max_receive_count: int | None = None
    dead_letter_queue: str | None = None
    fifo: bool = False
    delay_s: float = 0.0
    attributes: Mapping[str, str] = field(default_factory=lambda: _NO_ATTRIBUTES, hash=False)
    created_at: float = field(default=0.0, compare=False)
    modified_at: float = field(default=0.0, compare=False)


#: The store attribute in which another part of skylet (a destination, a dead letter) keeps the
#: X-Ray trace header of a message it puts on a queue: SQS shows it as ``AWSTraceHeader``
#: (``AWS.`` names are reserved in SQS, so no message attribute can collide with it).
TRACE_ATTRIBUTE = "AWS.skylet.trace"


@dataclass(frozen=True, slots=True)
class SendEntry:
    """One message of ``send_batch``. ``delay_s=None`` takes the queue's default delay."""

    body: bytes
    delay_s: float | None = None
    attributes: Mapping[str, str] | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A received message.

    ``receipt`` is the lease token of this delivery: it deletes or re-times the message only while
    no later receive has taken it. ``attempts`` counts receives including this one (SQS's
    ``ApproximateReceiveCount``, kept when the message moves to a dead-letter queue);
    ``first_received_at`` is the time of the first of them. ``origin`` is the queue a
    dead-lettered message came from (``None`` for one sent to this queue).
    """

    id: str
    body: bytes
    attributes: Mapping[str, str]
    receipt: str
    attempts: int
    sent_at: float
    first_received_at: float
    group_id: str | None = None
    dedup_id: str | None = None
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Approximate counts for metrics, as SQS reports them.

    ``visible`` may be received now (for FIFO queues some are held back behind their group),
    ``in_flight`` were received and their lease has not expired, ``delayed`` were never received
    and wait for their delay. ``oldest_age_s`` is the age of the oldest message, ``None`` if empty.
    """

    visible: int
    in_flight: int
    delayed: int
    oldest_age_s: float | None


@dataclass(frozen=True, slots=True)
class LogConfig:
    name: str
    partitions: int
    created_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of a log. ``sequence`` grows by one per record within its partition."""

    partition: int
    sequence: int
    timestamp: float
    data: bytes
    attributes: Mapping[str, str]


class Position(enum.Enum):
    """Where a consumer without an offset starts reading, as Kinesis and DynamoDB Streams say."""

    TRIM_HORIZON = "TRIM_HORIZON"  # the oldest record still retained
    LATEST = "LATEST"  # only records appended after the seek


@dataclass(frozen=True, slots=True)
class AtTimestamp:
    """Start at the first record whose timestamp is at or after ``timestamp``."""

    timestamp: float


TRIM_HORIZON = Position.TRIM_HORIZON
LATEST = Position.LATEST
AT_TIMESTAMP = AtTimestamp
StartPosition = Position | AtTimestamp


# --- tables (DynamoDB's model) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableConfig:
    """A table of rows. ``attributes`` is text the service keeps with it (DynamoDB's table
    description, as JSON) and the store never reads."""

    name: str
    attributes: str
    created_at: float


@dataclass(frozen=True, slots=True)
class RowKey:
    """Where a row lives: its table, partition and sort key (bytes compared unsigned, as
    DynamoDB orders keys), and ``unique``, which tells apart rows of equal keys (an index's
    rows carry their item's primary key there; a table's rows leave it empty)."""

    table: str
    partition: bytes
    sort: bytes = b""
    unique: bytes = b""


@dataclass(frozen=True, slots=True)
class Row:
    key: RowKey
    data: bytes


@dataclass(frozen=True, slots=True)
class LogAppend:
    """Records appended to one partition of a log in the same transaction as a table write."""

    log: str
    records: tuple[bytes, ...]
    partition: int = 0


@dataclass(frozen=True, slots=True)
class TableWrite:
    """What one transaction writes: rows put (inserted or replaced), rows deleted, log records
    appended. Every part commits, or none."""

    puts: tuple[Row, ...] = ()
    deletes: tuple[RowKey, ...] = ()
    appends: tuple[LogAppend, ...] = ()


@dataclass(frozen=True, slots=True)
class SortRange:
    """Sort keys from ``low`` to ``high`` (None: unbounded), each end included or not."""

    low: bytes | None = None
    high: bytes | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


#: Buckets a table's partitions hash into (the first 16 bits of their MD5); a Scan segment
#: takes a contiguous run of them.
SCAN_BUCKETS = 65_536
