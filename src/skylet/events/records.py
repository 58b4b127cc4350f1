"""Invocation records: the status of every asynchronous invocation, kept in a store log.

Each function has a log (``skylet:async-records:NAME``, one partition). Every change of an
invocation writes a complete snapshot (``AsyncInvocation``): ``queued`` when it is accepted (and
when a retry is scheduled), ``running`` once a try has run for a while, and one final
``succeeded`` / ``failed`` / ``discarded``. Snapshots written together (a batch of enqueued or
settled events) share one log entry, a JSON array, so recording costs one store row per batch,
not per event. Nothing is updated in place, and the store needs no table of its own.

An invocation's state is its snapshot of the highest *stage*: its message generation first
(a retry is a newer copy), then queued < running < final, then the newest entry. Ranking by
stage rather than by position keeps the state right when two nodes append out of order (one
enqueues, another finishes the event before the "queued" entry lands).

Retention: ``apply_retention`` trims entries older than ``max_age_s`` (7 days), and beyond
``max_entries_per_function`` entries the oldest, but never entries younger than
``keep_at_least_s``: redelivered messages are checked against them (``latest_since``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from skylet.errors import InvalidParameterValue, LogNotFound
from skylet.events.batching import Coalescer
from skylet.events.envelope import TryError
from skylet.events.retry import Condition
from skylet.store.base import Clock, LogStore
from skylet.store.types import AT_TIMESTAMP, LATEST, TRIM_HORIZON

LOG_PREFIX = "skylet:async-records:"
Status = Literal["queued", "running", "succeeded", "failed", "discarded"]
STATUSES: tuple[Status, ...] = ("queued", "running", "succeeded", "failed", "discarded")
FINAL: frozenset[str] = frozenset({"succeeded", "failed", "discarded"})
STATUS_OF: dict[Condition, Status] = {
    "Success": "succeeded",
    "RetriesExhausted": "failed",
    "EventAgeExceeded": "discarded",
}
_RANK = {"queued": 0, "running": 1, "succeeded": 2, "failed": 2, "discarded": 2}
#: Log entries read per store call.
_CHUNK = 200


def log_name(function: str) -> str:
    return LOG_PREFIX + function


def parse_status(text: str) -> Status:
    """A status filter from an API or the CLI; ``InvalidParameterValue`` names the choices."""
    for status in STATUSES:
        if text == status:
            return status
    raise InvalidParameterValue(f"status={text!r} is not one of {', '.join(STATUSES)}")


@dataclass(frozen=True, slots=True)
class AsyncInvocation:
    """One snapshot of an asynchronous invocation. Times are epoch seconds.

    ``generation`` is that of the queue message the snapshot describes (a scheduled retry:
    the new message's). ``attempts`` counts the function's runs, ``throttles`` the tries that
    were throttled or failed in the platform. ``condition`` is set on final snapshots;
    ``delivery_error`` when a destination or dead-letter queue could not take the record.
    """

    request_id: str
    function: str
    status: Status
    enqueued_at: float
    updated_at: float
    generation: int = 0
    attempts: int = 0
    throttles: int = 0
    errors: tuple[TryError, ...] = ()
    condition: Condition | None = None
    next_attempt_at: float | None = None
    delivery_error: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_json(self) -> dict[str, Any]:
        """The snapshot as the admin API and ``skylet invocations`` show it."""
        return {
            "requestId": self.request_id,
            "function": self.function,
            "status": self.status,
            "enqueuedAt": self.enqueued_at,
            "updatedAt": self.updated_at,
            "generation": self.generation,
            "attempts": self.attempts,
            "throttles": self.throttles,
            "errors": [e.to_json() for e in self.errors],
            "condition": self.condition,
            "nextAttemptAt": self.next_attempt_at,
            "deliveryError": self.delivery_error,
        }

    def stage(self) -> tuple[int, int]:
        return (self.generation, _RANK[self.status])

    def to_row(self) -> list[Any]:
        """The snapshot as stored (``snapshot_row``)."""
        return snapshot_row(
            self.request_id,
            self.status,
            self.enqueued_at,
            self.updated_at,
            self.generation,
            self.attempts,
            self.throttles,
            self.errors,
            self.condition,
            self.next_attempt_at,
            self.delivery_error,
        )

    @classmethod
    def from_row(cls, row: list[Any], function: str) -> AsyncInvocation:
        (rid, status, enqueued, updated, gen, attempts, throttles, errors, cond, nxt, failed) = row
        return cls(
            request_id=rid,
            function=function,
            status=status,
            enqueued_at=enqueued,
            updated_at=updated,
            generation=gen,
            attempts=attempts,
            throttles=throttles,
            errors=tuple(TryError(*e) for e in errors),
            condition=cond,
            next_attempt_at=nxt,
            delivery_error=failed,
        )


def snapshot_row(
    request_id: str,
    status: Status,
    enqueued_at: float,
    updated_at: float,
    generation: int = 0,
    attempts: int = 0,
    throttles: int = 0,
    errors: tuple[TryError, ...] = (),
    condition: Condition | None = None,
    next_attempt_at: float | None = None,
    delivery_error: str | None = None,
) -> list[Any]:
    """A snapshot as stored: a JSON array in ``AsyncInvocation``'s field order, without the
    function (the log's). The paths every event takes build rows directly: an
    ``AsyncInvocation`` per event would cost more than writing it."""
    return [
        request_id,
        status,
        enqueued_at,
        updated_at,
        generation,
        attempts,
        throttles,
        [[e.type, e.message, e.status] for e in errors] if errors else [],
        condition,
        next_attempt_at,
        delivery_error,
    ]


def _prefer(found: dict[str, AsyncInvocation], record: AsyncInvocation, newer: bool) -> None:
    """Keep in ``found`` the record of the highest stage; ``newer``: ``record`` was written
    after the one kept (it wins a tie)."""
    kept = found.get(record.request_id)
    if kept is None or record.stage() > kept.stage() or (newer and record.stage() == kept.stage()):
        found[record.request_id] = record


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """``max_entries_per_function`` counts log entries; one holds the snapshots written
    together (1 to a few hundred)."""

    max_age_s: float = 7 * 86_400.0
    max_entries_per_function: int = 100_000
    keep_at_least_s: float = 86_400.0


class RecordBook:
    """Writes and reads invocation records through a ``LogStore``. Builds without I/O."""

    def __init__(
        self,
        store: LogStore,
        *,
        now: Clock = time.time,
        retention: RetentionPolicy | None = None,
    ) -> None:
        self._store = store
        self._now = now
        self.retention = retention or RetentionPolicy()
        self._created: set[str] = set()
        self._appends: Coalescer[str, list[Any], int] = Coalescer(self._append)

    async def write(self, records: Iterable[AsyncInvocation]) -> None:
        """Append snapshots; returns once they are durable. Concurrent writes for one function
        are appended together, in the order the calls were made."""
        by_function: dict[str, list[list[Any]]] = {}
        for record in records:
            by_function.setdefault(record.function, []).append(record.to_row())
        for function, rows in by_function.items():
            await self._appends.submit_many(function, rows)

    async def write_rows(self, function: str, rows: list[list[Any]]) -> None:
        """``write`` for snapshots of one function already in their stored form
        (``snapshot_row``)."""
        if rows:
            await self._appends.submit_many(function, rows)

    async def _append(self, function: str, rows: list[list[Any]]) -> list[int]:
        name = log_name(function)
        if name not in self._created:
            await self._store.create_log(name)
            self._created.add(name)
        entry = json.dumps(rows, separators=(",", ":")).encode()
        (sequence,) = await self._store.append(name, [entry], partition=0)
        return [sequence] * len(rows)

    async def query(
        self,
        function: str,
        *,
        limit: int = 50,
        status: Status | None = None,
        scan_limit: int = 20_000,
    ) -> list[AsyncInvocation]:
        """The ``limit`` invocations of ``function`` changed most recently (newest first),
        only those whose state is ``status`` if given. Reads at most ``scan_limit`` entries."""
        found: dict[str, AsyncInvocation] = {}
        async for chunk in self._newest_first(function, scan_limit):
            for record in chunk:
                _prefer(found, record, newer=False)
            # Whole chunks at a time: an out-of-order entry sits next to the one it races.
            if len(found) >= limit:
                chosen = [r for r in found.values() if status is None or r.status == status]
                if len(chosen) >= limit:
                    return chosen[:limit]
        return [r for r in found.values() if status is None or r.status == status][:limit]

    async def get(
        self, function: str, request_id: str, *, scan_limit: int = 100_000
    ) -> AsyncInvocation | None:
        """The state of one invocation; ``None`` if it is not (or no longer) kept."""
        found: dict[str, AsyncInvocation] = {}
        async for chunk in self._newest_first(function, scan_limit):
            for record in chunk:
                if record.request_id == request_id:
                    _prefer(found, record, newer=False)
            if found:
                return found[request_id]
        return None

    async def latest_since(
        self, function: str, request_ids: Collection[str], since: float
    ) -> dict[str, AsyncInvocation]:
        """The state of each of ``request_ids`` from the entries written at or after ``since``.
        Reads forward from ``since``: cheap when ``since`` is recent, which it is for the
        messages this serves (redeliveries, checked against records written after the message
        was sent)."""
        name = log_name(function)
        found: dict[str, AsyncInvocation] = {}
        try:
            after = await self._store.seek(name, 0, AT_TIMESTAMP(since))
        except LogNotFound:
            return found
        while True:
            entries = await self._store.read(name, 0, after_sequence=after, limit=_CHUNK)
            for entry in entries:
                for row in json.loads(entry.data):
                    if row[0] in request_ids:
                        _prefer(found, AsyncInvocation.from_row(row, function), newer=True)
            if len(entries) < _CHUNK:
                return found
            after = entries[-1].sequence

    async def _newest_first(
        self, function: str, scan_limit: int
    ) -> AsyncIterator[list[AsyncInvocation]]:
        """Chunks of snapshots, newest first, from at most ``scan_limit`` entries."""
        name = log_name(function)
        try:
            end = await self._store.seek(name, 0, LATEST)
            horizon = await self._store.seek(name, 0, TRIM_HORIZON)
        except LogNotFound:
            return
        scanned = 0
        while end > horizon and scanned < scan_limit:
            start = max(horizon, end - _CHUNK)
            entries = await self._store.read(name, 0, after_sequence=start, limit=end - start)
            chunk = [
                AsyncInvocation.from_row(row, function)
                for entry in reversed(entries)
                for row in reversed(json.loads(entry.data))
            ]
            yield chunk
            scanned += end - start
            end = start

    async def apply_retention(self, functions: Iterable[str]) -> int:
        """Trim the records of ``functions`` by the policy; returns how many entries dropped."""
        policy = self.retention
        now = self._now()
        dropped = 0
        for function in functions:
            name = log_name(function)
            try:
                dropped += await self._store.trim(name, now - policy.max_age_s)
                end = await self._store.seek(name, 0, LATEST)
                horizon = await self._store.seek(name, 0, TRIM_HORIZON)
            except LogNotFound:
                continue
            excess = end - horizon - policy.max_entries_per_function
            if excess <= 0:
                continue
            # The first entry to keep; trimming is by time, so entries sharing its timestamp
            # stay too, and so does everything younger than keep_at_least_s.
            keep = await self._store.read(name, 0, after_sequence=horizon + excess, limit=1)
            if keep:
                cutoff = min(keep[0].timestamp, now - policy.keep_at_least_s)
                dropped += await self._store.trim(name, cutoff)
        return dropped

    async def aclose(self) -> None:
        """Wait until every write that was started is durable."""
        await self._appends.aclose()
