"""Function logs kept in the store, so they outlive a restart (``skylet logs``, the CloudWatch
Logs API). Written off the invocation's path, in batches.

``offer`` (from the log book, once per invocation) only appends the entry to a bounded
buffer: nothing is rendered or encoded there. A background task wakes every
``flush_interval_s``, renders what accumulated and appends it as **one store record per
function per flush** (a JSON list of entries) to that function's store log
``skylet.logs/NAME``: at 5,000 invocations a second and 0.2 s, one append carries ~1,000
entries. The buffer holds at most ``max_pending_entries``; past that the oldest wait is dropped
and counted (``dropped``), as Lambda drops logs it cannot keep up with.

Bounds, per function: the newest ``max_entries_per_function`` entries and
``max_bytes_per_function`` bytes of text are kept, the oldest dropped, to within one flush's
batch (the store trims whole batches, by their time); and, when the function has a retention
(``logRetentionInDays``, PutRetentionPolicy), nothing older than that many days.

Several nodes on one PostgreSQL each write their own batches to the shared log; the bounds
are then kept by each node for what it has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from skylet import fastjson
from skylet.errors import LogNotFound
from skylet.observe.logs import Entry
from skylet.store import AT_TIMESTAMP, LogStore

logger = logging.getLogger(__name__)

LOG_PREFIX = "skylet.logs/"
_READ_CHUNK = 500


def log_name(function: str) -> str:
    return f"{LOG_PREFIX}{function}"


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """The archive's bounds (see the module's docstring)."""

    max_entries_per_function: int = 10_000
    max_bytes_per_function: int = 32 << 20
    max_pending_entries: int = 50_000
    #: What waits to be written, in bytes (entries' ``size``); past it the oldest is dropped.
    max_pending_bytes: int = 8 << 20
    #: A flush starts early once this much waits; one store record holds at most about this.
    batch_bytes: int = 1 << 20
    flush_interval_s: float = 0.2
    #: How often logs past their retention are dropped even when nothing new is written.
    expire_interval_s: float = 60.0


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One invocation's log (or a failed init's) as the archive keeps it. An ``Entry``."""

    function: str
    timestamp: float  # epoch seconds, when the invocation ended
    request_id: str
    stream: str  # the instance's log stream, ``YYYY/MM/DD/[$LATEST]hex``
    group: str  # its log group, ``/aws/lambda/NAME`` unless configured
    text: str
    #: When the archive wrote it (epoch seconds): CloudWatch's ``ingestionTime``.
    ingested: float = 0.0

    @property
    def size(self) -> int:
        return len(self.text)

    def row(self) -> list[Any]:
        return [self.timestamp, self.request_id, self.stream, self.group, self.text]

    @classmethod
    def from_row(cls, function: str, row: list[Any], ingested: float) -> StoredEntry:
        stamp, request_id, stream, group, text = row
        return cls(
            function, float(stamp), str(request_id), str(stream), str(group), str(text), ingested
        )


@dataclass(slots=True)
class _Kept:
    """What the archive knows of a function's stored batches: (written at, entries, bytes),
    oldest first, loaded from the store the first time the function is written."""

    batches: deque[tuple[float, int, int]]
    entries: int = 0
    size: int = 0


class LogArchive:
    """Function logs in a ``LogStore``. Builds without I/O; ``start`` starts the writer."""

    def __init__(
        self,
        store: LogStore,
        *,
        limits: ArchiveLimits | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.limits = limits or ArchiveLimits()
        self._now = now
        self._pending: deque[Entry] = deque()
        self._pending_bytes = 0
        self._wake: asyncio.Event | None = None
        #: A flush under way: written, or about to be, but still read from here.
        self._flushing: list[Entry] = []
        self._kept: dict[str, _Kept] = {}
        self._groups: dict[str, str] = {}
        self._retention: dict[str, int | None] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.dropped = 0

    # -- configuration ----------------------------------------------------------------------

    def configure(self, function: str, *, group: str, retention_days: int | None) -> None:
        """A deployed function's log group and retention (days; None: only the bounds)."""
        self._groups[function] = group
        self._retention.setdefault(function, retention_days)
        if retention_days is not None:
            self._retention[function] = retention_days

    def set_retention(self, function: str, days: int | None) -> None:
        """PutRetentionPolicy / DeleteRetentionPolicy."""
        self._retention[function] = days

    def retention(self, function: str) -> int | None:
        return self._retention.get(function)

    def group(self, function: str) -> str:
        return self._groups.get(function) or f"/aws/lambda/{function}"

    # -- writing ------------------------------------------------------------------------------

    def offer(self, entry: Entry) -> None:
        """Keep ``entry`` for the next flush (the invocation's path: an append, no more)."""
        pending = self._pending
        pending.append(entry)
        self._pending_bytes += entry.size
        limits = self.limits
        while len(pending) > 1 and (
            len(pending) > limits.max_pending_entries
            or self._pending_bytes > limits.max_pending_bytes
        ):
            self._pending_bytes -= pending.popleft().size
            self.dropped += 1
        if self._pending_bytes >= limits.batch_bytes and self._wake is not None:
            self._wake.set()  # a burst of large logs: write now rather than hold it

    @property
    def running(self) -> bool:
        """Started and not closed: its store is there to read."""
        return self._task is not None

    async def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        """Stop the writer, after writing what is pending."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        assert self._wake is not None
        expired_at = self._now()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.limits.flush_interval_s)
            self._wake.clear()
            try:
                await self.flush()
                if self._now() - expired_at >= self.limits.expire_interval_s:
                    expired_at = self._now()
                    await self.expire()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store is down: keep the entries bounded, try again
                logger.exception("writing function logs to the store")

    async def expire(self) -> None:
        """Drop what is past each function's retention, written to lately or not."""
        for function, days in list(self._retention.items()):
            if days is None:
                continue
            horizon = self._now() - days * 86_400.0
            try:
                await self._store.trim(log_name(function), horizon)
            except LogNotFound:
                continue
            kept = self._kept.get(function)
            while kept is not None and kept.batches and kept.batches[0][0] < horizon:
                _, entries, size = kept.batches.popleft()
                kept.entries -= entries
                kept.size -= size

    async def flush(self) -> int:
        """Write what is pending; return how many entries. One append per function."""
        async with self._lock:
            if not self._pending:
                return 0
            batch = list(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self._flushing = batch
            try:
                by_function: dict[str, list[list[Any]]] = {}
                for entry in batch:
                    by_function.setdefault(entry.function, []).append(self._row(entry))
                for function, rows in by_function.items():
                    await self._write(function, rows)
            except BaseException:
                self._pending.extendleft(reversed(batch))  # kept for the next try
                self._pending_bytes += sum(e.size for e in batch)
                raise
            finally:
                self._flushing = []
            return len(batch)

    def _row(self, entry: Entry) -> list[Any]:
        stream = getattr(entry, "stream", "") or ""
        return [entry.timestamp, entry.request_id, stream, self.group(entry.function), entry.text]

    async def _write(self, function: str, rows: list[list[Any]]) -> None:
        name = log_name(function)
        kept = self._kept.get(function)
        if kept is None:
            await self._store.create_log(name)
            kept = self._kept[function] = await self._load(name)
        for chunk in self._chunks(rows):
            written_at = self._now()
            await self._store.append(name, [fastjson.dumps(chunk)], partition=0)
            size = sum(len(str(row[4])) for row in chunk)
            kept.batches.append((written_at, len(chunk), size))
            kept.entries += len(chunk)
            kept.size += size
        await self._bound(function, name, kept)

    def _chunks(self, rows: list[list[Any]]) -> Iterable[list[list[Any]]]:
        """``rows`` in store records of about ``batch_bytes`` each (one row at least)."""
        chunk: list[list[Any]] = []
        size = 0
        for row in rows:
            if chunk and size + len(row[4]) > self.limits.batch_bytes:
                yield chunk
                chunk, size = [], 0
            chunk.append(row)
            size += len(row[4])
        if chunk:
            yield chunk

    async def _load(self, name: str) -> _Kept:
        kept = _Kept(deque())
        after = await self._store.seek(name, 0, AT_TIMESTAMP(0.0))
        while True:
            records = await self._store.read(name, 0, after_sequence=after, limit=_READ_CHUNK)
            for record in records:
                rows = fastjson.loads(record.data)
                size = sum(len(str(row[4])) for row in rows)
                kept.batches.append((record.timestamp, len(rows), size))
                kept.entries += len(rows)
                kept.size += size
            if len(records) < _READ_CHUNK:
                return kept
            after = records[-1].sequence

    async def _bound(self, function: str, name: str, kept: _Kept) -> None:
        limits = self.limits
        horizon = 0.0
        days = self._retention.get(function)
        if days is not None:
            horizon = self._now() - days * 86_400.0
        dropped = False
        while len(kept.batches) > 1 and (
            kept.entries > limits.max_entries_per_function
            or kept.size > limits.max_bytes_per_function
            or kept.batches[0][0] < horizon
        ):
            _, entries, size = kept.batches.popleft()
            kept.entries -= entries
            kept.size -= size
            dropped = True
        if dropped:
            # Every batch before the oldest kept one was written before that one began.
            await self._store.trim(name, kept.batches[0][0])

    # -- reading --------------------------------------------------------------------------------

    async def functions(self) -> list[str]:
        """Every function with a stored log (or one being written)."""
        names = {c.name.removeprefix(LOG_PREFIX) for c in await self._store.list_logs(LOG_PREFIX)}
        names.update(e.function for e in self._unwritten())
        names.update(self._groups)
        return sorted(names)

    async def read(
        self,
        function: str,
        *,
        since: float = 0.0,
        until: float | None = None,
        match: Callable[[StoredEntry], bool] | None = None,
        limit: int | None = None,
    ) -> list[StoredEntry]:
        """The function's entries that ended in [``since``, ``until``) and ``match``, oldest
        first: the stored ones, then those not yet written. ``limit``: the newest that many."""
        found: list[StoredEntry] = []
        name = log_name(function)
        days = self._retention.get(function)
        if days is not None:  # past it, though not yet dropped
            since = max(since, self._now() - days * 86_400.0)
        # A batch is written after its entries ended, by at most a flush interval and the
        # store's latency: start reading a minute early, and filter by the entries' own time.
        try:
            after = await self._store.seek(name, 0, AT_TIMESTAMP(max(since - 60.0, 0.0)))
        except LogNotFound:
            after = None
        while after is not None:
            records = await self._store.read(name, 0, after_sequence=after, limit=_READ_CHUNK)
            for record in records:
                for row in fastjson.loads(record.data):
                    entry = StoredEntry.from_row(function, row, record.timestamp)
                    if _within(entry, since, until) and (match is None or match(entry)):
                        found.append(entry)
            if len(records) < _READ_CHUNK:
                break
            after = records[-1].sequence
        now = self._now()
        seen = {(e.timestamp, e.request_id) for e in found}
        for pending in self._unwritten():
            if pending.function != function or (pending.timestamp, pending.request_id) in seen:
                continue  # another function's, or written while the store was read
            entry = StoredEntry.from_row(function, self._row(pending), now)
            if _within(entry, since, until) and (match is None or match(entry)):
                found.append(entry)
        found.sort(key=lambda e: e.timestamp)
        return found if limit is None else found[-limit:] if limit else []

    def _unwritten(self) -> Iterable[Entry]:
        yield from self._flushing
        yield from self._pending

    async def delete(self, function: str) -> bool:
        """DeleteLogGroup: the function's stored log and what waits to be written."""
        self._pending = deque(e for e in self._pending if e.function != function)
        self._pending_bytes = sum(e.size for e in self._pending)
        self._kept.pop(function, None)
        return await self._store.delete_log(log_name(function))


def events(text: str) -> list[str]:
    """An entry's log events, as CloudWatch Logs keeps them: one per line (START, each line
    the function wrote, END, REPORT; in the JSON format, one per record)."""
    return [line for line in text.split("\n") if line.strip()]


def _within(entry: StoredEntry, since: float, until: float | None) -> bool:
    return entry.timestamp >= since and (until is None or entry.timestamp < until)
