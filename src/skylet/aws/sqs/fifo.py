"""FIFO queues' own rules: group and deduplication ids, content-based deduplication, the
deduplication scope, sequence numbers, and ReceiveRequestAttemptId. Pure, but for the two
small memories (``Sequencer``, ``ReceiveAttempts``), which take the clock as an argument.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from skylet.aws.sqs.errors import invalid_value
from skylet.store.types import QueueConfig

# "alphanumeric and punctuation characters", 1 to 128 of them.
_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
#: How long a ReceiveRequestAttemptId is remembered (SQS: 5 minutes).
ATTEMPT_WINDOW_S = 300.0
MAX_ATTEMPTS_REMEMBERED = 10_000


def check_id(parameter: str, value: Any) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise invalid_value(
            parameter,
            value if isinstance(value, str) else "",
            f"{parameter} can only include alphanumeric and punctuation characters. "
            "1 to 128 in length.",
        )
    return value


def content_based(config: QueueConfig) -> bool:
    return config.attributes.get("ContentBasedDeduplication") == "true"


def dedup_id_of(body: str, given: str | None) -> str:
    """The deduplication id: the one given, else the SHA-256 of the body (content-based)."""
    return given if given is not None else hashlib.sha256(body.encode()).hexdigest()


def store_dedup_key(config: QueueConfig, group_id: str, dedup_id: str) -> str:
    """What the store deduplicates on: the id alone for a queue-wide scope, the group and id
    for DeduplicationScope ``messageGroup`` (the same id in two groups is two messages)."""
    if config.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{group_id}\x1f{dedup_id}"
    return dedup_id


class Sequencer:
    """FIFO sequence numbers: 20 digits, increasing on this node (nanoseconds since the
    epoch, or one more than the last when the clock has not moved)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, now_s: float) -> str:
        self._last = max(self._last + 1, int(now_s * 1e9))
        return f"{self._last:020d}"


@dataclass(slots=True)
class _Attempt:
    at: float
    visibility_s: float
    result: dict[str, Any]


class ReceiveAttempts:
    """FIFO receives by ReceiveRequestAttemptId: a retry with the same id, while the messages
    it returned are still hidden, gets the same messages and receipts again (SQS keeps the id
    for 5 minutes). Remembered on this node only."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, str], _Attempt] = OrderedDict()

    def replay(self, queue: str, attempt_id: str, now: float) -> dict[str, Any] | None:
        seen = self._seen.get((queue, attempt_id))
        if seen is None:
            return None
        if now - seen.at >= min(ATTEMPT_WINDOW_S, seen.visibility_s):
            del self._seen[(queue, attempt_id)]
            return None
        return seen.result

    def remember(
        self, queue: str, attempt_id: str, now: float, visibility_s: float, result: dict[str, Any]
    ) -> None:
        self._seen[(queue, attempt_id)] = _Attempt(now, visibility_s, result)
        while len(self._seen) > MAX_ATTEMPTS_REMEMBERED:
            self._seen.popitem(last=False)
