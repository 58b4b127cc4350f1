"""Pure rules both store backends share: argument checks, receipts, partition hashing.

Nothing here does I/O or reads a clock; every backend calls these before it touches its database,
so the two implementations refuse exactly the same inputs with exactly the same errors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
import uuid
from collections.abc import Mapping
from types import MappingProxyType

from skylet.errors import InvalidParameterValue, InvalidReceipt, StoreConflict
from skylet.store.types import (
    MAX_DELAY_S,
    MAX_LOG_PARTITIONS,
    MAX_RECEIVE_MESSAGES,
    MAX_RETENTION_S,
    MAX_VISIBILITY_TIMEOUT_S,
    SCAN_BUCKETS,
    LogConfig,
    QueueConfig,
    SendEntry,
)

MAX_NAME_LENGTH = 256

Lease = tuple[int, str]
"""A parsed receipt: the message's row number and the lease token of one delivery."""


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it can name a queue, log or consumer: 1 to 256 characters, no controls."""
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidParameterValue(
            f"{kind} name {name!r} is invalid: use 1-{MAX_NAME_LENGTH} printable characters"
        )
    return name


def _check_range(key: str, value: float, low: float, high: float) -> float:
    # NaN compares false with everything, so it has to be refused on its own.
    if math.isnan(value) or not low <= value <= high:
        raise InvalidParameterValue(f"{key}={value!r} is out of range: allowed {low}..{high}")
    return float(value)


def queue_config(
    name: str,
    *,
    visibility_timeout_s: float,
    retention_s: float,
    max_receive_count: int | None,
    dead_letter_queue: str | None,
    fifo: bool,
    delay_s: float,
    attributes: Mapping[str, str] | None,
    created_at: float,
) -> QueueConfig:
    """Validate ``create_queue`` arguments into a config (SQS's ranges); ``modified_at`` is
    ``created_at``."""
    check_name("queue", name)
    if max_receive_count is not None and max_receive_count < 1:
        raise InvalidParameterValue(f"max_receive_count={max_receive_count} must be at least 1")
    if dead_letter_queue is not None:
        check_name("dead-letter queue", dead_letter_queue)
        if max_receive_count is None:
            raise InvalidParameterValue("dead_letter_queue needs max_receive_count")
        if dead_letter_queue == name:
            raise InvalidParameterValue(f"queue {name!r} cannot be its own dead-letter queue")
    return QueueConfig(
        name=name,
        visibility_timeout_s=_check_range(
            "visibility_timeout_s", visibility_timeout_s, 0, MAX_VISIBILITY_TIMEOUT_S
        ),
        retention_s=_check_range("retention_s", retention_s, 60, MAX_RETENTION_S),
        max_receive_count=max_receive_count,
        dead_letter_queue=dead_letter_queue,
        fifo=fifo,
        delay_s=_check_range("delay_s", delay_s, 0, MAX_DELAY_S),
        attributes=_queue_attributes(attributes),
        created_at=created_at,
        modified_at=created_at,
    )


def _queue_attributes(attributes: Mapping[str, str] | None) -> Mapping[str, str]:
    if not attributes:
        return MappingProxyType({})
    encode_attributes(attributes)  # the check: names and values are strings
    return MappingProxyType(dict(attributes))


def updated_queue(existing: QueueConfig, wanted: QueueConfig, now: float) -> QueueConfig:
    """``wanted`` (checked by ``queue_config``) as it replaces ``existing``: a queue's type
    cannot change, and it keeps its creation time."""
    if wanted.fifo != existing.fifo:
        raise InvalidParameterValue(f"queue {existing.name!r}: a queue's type cannot change")
    return dataclasses.replace(wanted, created_at=existing.created_at, modified_at=now)


def check_dead_letter_queue(config: QueueConfig, dlq: QueueConfig | None) -> None:
    """SQS's rule: the dead-letter queue exists and is FIFO exactly when the source queue is."""
    if config.dead_letter_queue is None:
        return
    if dlq is None:
        raise InvalidParameterValue(
            f"dead-letter queue {config.dead_letter_queue!r} of {config.name!r} does not exist"
        )
    if dlq.fifo != config.fifo:
        raise InvalidParameterValue(
            f"dead-letter queue {dlq.name!r} must be {'FIFO' if config.fifo else 'standard'} "
            f"like {config.name!r}"
        )


def check_same_queue(existing: QueueConfig, wanted: QueueConfig) -> QueueConfig:
    """``create_queue`` is idempotent only for identical attributes, as SQS's CreateQueue is."""
    if existing != wanted:
        raise StoreConflict(f"queue {wanted.name!r} exists with other attributes: {existing}")
    return existing


def check_same_log(existing: LogConfig, wanted: LogConfig) -> LogConfig:
    if existing != wanted:
        raise StoreConflict(f"log {wanted.name!r} exists with {existing.partitions} partitions")
    return existing


def send_delay(config: QueueConfig, entry: SendEntry) -> float:
    """Check one message against its queue; return its delay in seconds."""
    if config.fifo and entry.group_id is None:
        raise InvalidParameterValue(f"queue {config.name!r} is FIFO: group_id is required")
    if not config.fifo and entry.dedup_id is not None:
        raise InvalidParameterValue(f"dedup_id needs a FIFO queue; {config.name!r} is standard")
    if entry.delay_s is None:
        return config.delay_s
    return _check_range("delay_s", entry.delay_s, 0, MAX_DELAY_S)


def check_body(body: bytes) -> bytes:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise InvalidParameterValue(f"a message body is bytes, not {type(body).__name__}")
    return bytes(body)


def check_receive(max_messages: int, visibility_timeout_s: float | None, wait_s: float) -> None:
    if not 1 <= max_messages <= MAX_RECEIVE_MESSAGES:
        raise InvalidParameterValue(
            f"max_messages={max_messages} is out of range: allowed 1..{MAX_RECEIVE_MESSAGES}"
        )
    if visibility_timeout_s is not None:
        _check_range("visibility_timeout_s", visibility_timeout_s, 0, MAX_VISIBILITY_TIMEOUT_S)
    _check_range("wait_s", wait_s, 0, MAX_VISIBILITY_TIMEOUT_S)


def check_visibility(timeout_s: float) -> float:
    return _check_range("timeout_s", timeout_s, 0, MAX_VISIBILITY_TIMEOUT_S)


def releases(timeout_s: float) -> bool:
    """``change_visibility`` to 0 makes the message visible now, so it wakes receivers."""
    return timeout_s == 0


def check_partitions(partitions: int) -> int:
    if not 1 <= partitions <= MAX_LOG_PARTITIONS:
        raise InvalidParameterValue(
            f"partitions={partitions} is out of range: allowed 1..{MAX_LOG_PARTITIONS}"
        )
    return partitions


def new_message_id() -> str:
    return str(uuid.uuid4())


def new_lease() -> str:
    """A fresh lease token; 64 random bits make a guessed or reused receipt hopeless."""
    return secrets.token_hex(8)


def format_receipt(seq: int, lease: str) -> str:
    return f"{seq}-{lease}"


def parse_receipt(receipt: str) -> Lease:
    """Split a receipt into the message's row number and its lease token."""
    seq, _, lease = receipt.partition("-")
    if not seq.isdigit() or len(lease) != 16:
        raise InvalidReceipt(f"receipt {receipt!r} is not a receipt handle this store issued")
    return int(seq), lease


def partition_for_key(key: str, partitions: int) -> int:
    """Map a partition key to a partition, the same on every node and every run.

    MD5 as Kinesis does, so keys spread evenly; Python's ``hash()`` is salted per process and
    would send one key to different partitions from different nodes.
    """
    digest = hashlib.md5(key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % partitions


def choose_partition(config: LogConfig, partition: int | None, key: str | None) -> int:
    """An explicit partition wins; else the key's hash; else partition 0."""
    if partition is not None and key is not None:
        raise InvalidParameterValue("pass partition or key, not both")
    if partition is None:
        return 0 if key is None else partition_for_key(key, config.partitions)
    return check_partition(config, partition)


def check_partition(config: LogConfig, partition: int) -> int:
    if not 0 <= partition < config.partitions:
        raise InvalidParameterValue(
            f"partition {partition} of log {config.name!r} is out of range: "
            f"allowed 0..{config.partitions - 1}"
        )
    return partition


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_RECEIVE_MESSAGES:
        raise InvalidParameterValue(
            f"limit={limit} is out of range: allowed 1..{MAX_RECEIVE_MESSAGES}"
        )
    return limit


def encode_attributes(attributes: Mapping[str, str] | None) -> str | None:
    """Attributes are stored as JSON text: both databases index nothing inside them."""
    if not attributes:
        return None
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidParameterValue(f"attribute {key!r}: names and values must be strings")
    return json.dumps(dict(attributes), separators=(",", ":"), sort_keys=True)


def decode_attributes(text: str | None) -> Mapping[str, str]:
    if text is None:
        return {}
    decoded: dict[str, str] = json.loads(text)
    return decoded


def bucket(partition: bytes) -> int:
    """The scan bucket of a partition key: the first 16 bits of its MD5."""
    return int.from_bytes(hashlib.md5(partition).digest()[:2], "big")


def segment_buckets(segment: int, segments: int) -> tuple[int, int]:
    """The buckets [low, high) that Scan segment ``segment`` of ``segments`` reads."""
    if segments < 1 or not 0 <= segment < segments:
        raise InvalidParameterValue(f"segment {segment} of {segments} is out of range")
    return segment * SCAN_BUCKETS // segments, (segment + 1) * SCAN_BUCKETS // segments
