"""What a stream mapping does after a batch fails, as Lambda decides it for a stream shard.
Pure: the clock is passed in.

    failed batch ─▶ bisect on (and > 1 record) ─▶ SPLIT: retry the first half (not a retry)
                 ─▶ its retries used up           ─▶ GIVE_UP "RetryAttemptsExhausted"
                 ─▶ its oldest record too old     ─▶ GIVE_UP "RecordAgeExceeded"
                 ─▶ else                          ─▶ RETRY the same records

The shard waits meanwhile: no later record is delivered before the failing ones are handled,
and nothing is skipped without reaching the on-failure destination. ``max_retries`` and
``max_age_s`` are -1 for "without limit" (Lambda's defaults); a record's age is counted from
its ApproximateCreationDateTime, in seconds.

With a ParallelizationFactor above 1, records go to lanes by their item's key (``lane_of``),
each lane assembling and retrying its own batches; with TumblingWindowInSeconds, batches are
cut at window boundaries (``window_of``, ``same_window``).
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass


class Next(enum.Enum):
    RETRY = "retry"
    SPLIT = "split"
    GIVE_UP = "give_up"


@dataclass(frozen=True, slots=True)
class Decision:
    next: Next
    condition: str = ""


def expired(created_at: float, *, max_age_s: int, now: float) -> bool:
    """Whether a record is past the mapping's MaximumRecordAgeInSeconds."""
    return max_age_s >= 0 and now - created_at > max_age_s


def after_error(
    *,
    records: int,
    errors: int,
    oldest_created_at: float,
    bisect: bool,
    max_retries: int,
    max_age_s: int,
    now: float,
) -> Decision:
    """The next step for a batch of ``records`` that has now failed ``errors`` times (this
    failure counted; splits reset it)."""
    if expired(oldest_created_at, max_age_s=max_age_s, now=now):
        return Decision(Next.GIVE_UP, "RecordAgeExceeded")
    if bisect and records > 1:
        return Decision(Next.SPLIT)
    if max_retries >= 0 and errors > max_retries:
        return Decision(Next.GIVE_UP, "RetryAttemptsExhausted")
    return Decision(Next.RETRY)


def failed_from(response: object, sequences: list[str]) -> int | None:
    """With ReportBatchItemFailures: the index of the lowest reported record, where the
    retry starts; ``len(sequences)`` for success (an empty or absent list); None for a
    response Lambda treats as the whole batch failing (an unknown or missing identifier)."""
    if not isinstance(response, dict):
        return len(sequences)
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return len(sequences)
    if not isinstance(failures, list):
        return None
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequences:
            return None
        indexes.append(sequences.index(identifier))
    return min(indexes)


# --- parallelization and tumbling windows -------------------------------------------------


def lane_of(keys: bytes, lanes: int) -> int:
    """Which of ``lanes`` concurrent batches (ParallelizationFactor) a record goes to: by its
    item's key, so that one item's records stay in one lane, in order. ``keys`` is the
    record's ``Keys`` in canonical JSON; CRC-32 spreads them evenly and is stable across
    restarts (Python's ``hash`` is salted per process)."""
    return zlib.crc32(keys) % lanes if lanes > 1 else 0


@dataclass(frozen=True, slots=True)
class Window:
    """A tumbling window, [start_s, end_s) in epoch seconds."""

    start_s: int
    end_s: int


def window_of(created_at: float, size_s: int) -> Window:
    """The window of ``size_s`` seconds a record created at ``created_at`` falls in. Windows
    are aligned to the epoch: with 30 s windows, [12:00:00, 12:00:30), [12:00:30, 12:01:00)."""
    start = int(created_at // size_s) * size_s
    return Window(start, start + size_s)


def same_window(created: list[float], size_s: int) -> int:
    """How many of a batch's leading records (their creation times, in order) share the
    first one's window: a batch never spans two windows."""
    if not created:
        return 0
    first = window_of(created[0], size_s)
    count = 0
    for moment in created:
        if window_of(moment, size_s) != first:
            break
        count += 1
    return count
