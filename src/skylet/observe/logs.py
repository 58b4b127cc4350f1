"""Each function's log, bounded, for ``skylet logs`` (and ``-f``) and for ``LogType: Tail``.

An entry is one invocation's whole log (START … REPORT). The book keeps the newest ``max_bytes``
per function; followers get every new entry, each through a buffer of its own, bounded by
entries and bytes (:class:`Follower`): one that falls behind by more is dropped, so a follower
that stops reading costs the platform its buffer at most, never the platform's memory.

An invocation's entry is its ``skylet.invoker.report.InvocationLog``, rendered when first read
(an admin request, a follower): at thousands of invocations a second, formatting logs nobody
reads, and keeping a second object per invocation, are costs worth skipping. Its ``size`` (an
estimate) counts against ``max_bytes`` until then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

logger = logging.getLogger(__name__)

#: What one follower may fall behind by before it is dropped (a 1 MiB invocation log, the
#: largest an invocation keeps, fits four times over).
FOLLOWER_MAX_ENTRIES = 1000
FOLLOWER_MAX_BYTES = 4 << 20


class Entry(Protocol):
    """One entry of a function's log. ``text`` may be rendered on first read; ``size`` is what
    it counts against the book's bound (its length, or an estimate until rendered)."""

    @property
    def timestamp(self) -> float: ...  # epoch seconds

    @property
    def function(self) -> str: ...

    @property
    def request_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def size(self) -> int: ...


class Follower:
    """The entries of one function appended since the follower started, for it to read
    (``async for``), in a buffer of at most ``max_entries`` entries and ``max_bytes`` bytes. An
    entry that would pass either bound drops the follower instead: its buffer is emptied at once,
    ``dropped`` becomes True, and iterating ends. Use it as a context manager (``with
    book.follow(name) as follower``): leaving it stops the following."""

    def __init__(self, log: _FunctionLog, max_entries: int, max_bytes: int) -> None:
        self._log = log
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: deque[Entry] = deque()
        #: Bytes buffered (the entries' ``size``).
        self.size = 0
        self.dropped = False
        self._waiter: asyncio.Future[None] | None = None
        self._dropping: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def offer(self, entry: Entry) -> None:
        """Buffer a new entry, or drop the follower if it would pass a bound."""
        if self.dropped:
            return
        if len(self._entries) >= self.max_entries or self.size + entry.size > self.max_bytes:
            self.drop()
            return
        self._entries.append(entry)
        self.size += entry.size
        self._wake(self._waiter)

    def drop(self) -> None:
        self.dropped = True
        self._entries.clear()
        self.size = 0
        self._log.followers.discard(self)
        self._wake(self._waiter)
        self._wake(self._dropping)

    async def wait_dropped(self) -> None:
        """Return once the follower is dropped."""
        while not self.dropped:
            self._dropping = asyncio.get_running_loop().create_future()
            await self._dropping

    def __aiter__(self) -> Follower:
        return self

    async def __anext__(self) -> Entry:
        while not self._entries:
            if self.dropped:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        entry = self._entries.popleft()
        self.size -= entry.size
        return entry

    def __enter__(self) -> Follower:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._log.followers.discard(self)
        self._entries.clear()
        self.size = 0

    @staticmethod
    def _wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _FunctionLog:
    def __init__(self, max_bytes: int) -> None:
        self.entries: deque[Entry] = deque()
        self.size = 0
        self.max_bytes = max_bytes
        self.followers: set[Follower] = set()


class LogBook:
    def __init__(
        self,
        *,
        max_bytes_per_function: int = 4 << 20,
        follower_max_entries: int = FOLLOWER_MAX_ENTRIES,
        follower_max_bytes: int = FOLLOWER_MAX_BYTES,
    ) -> None:
        self._max = max_bytes_per_function
        self._follower_bounds = (follower_max_entries, follower_max_bytes)
        self._logs: dict[str, _FunctionLog] = {}
        self._listeners: list[Callable[[Entry], None]] = []

    def listen(self, listener: Callable[[Entry], None]) -> None:
        """Call ``listener`` with every entry added (the store's archive, EMF metrics), on the
        event loop, on the invocation's path: it must be quick, and what it raises is logged."""
        self._listeners.append(listener)

    def _log(self, function: str) -> _FunctionLog:
        log = self._logs.get(function)
        if log is None:
            log = self._logs[function] = _FunctionLog(self._max)
        return log

    def add(self, entry: Entry) -> None:
        log = self._logs.get(entry.function) or self._log(entry.function)
        entries = log.entries
        entries.append(entry)
        log.size += entry.size
        while log.size > log.max_bytes and len(entries) > 1:
            log.size -= entries.popleft().size
        if log.followers:
            for follower in list(log.followers):  # offering may drop one
                follower.offer(entry)
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception:
                logger.exception("log listener %r", listener)

    def entries(self, function: str, *, since: float = 0.0, limit: int = 1000) -> list[Entry]:
        """The newest ``limit`` entries at or after ``since`` (epoch seconds), oldest first."""
        log = self._logs.get(function)
        if log is None:
            return []
        chosen = [e for e in log.entries if e.timestamp >= since]
        return chosen[-limit:]

    def follow(self, function: str) -> Follower:
        """A follower of every entry appended from now on (see :class:`Follower`)."""
        log = self._log(function)
        follower = Follower(log, *self._follower_bounds)
        log.followers.add(follower)
        return follower

    def followers(self, function: str) -> int:
        """How many follow ``function`` now."""
        log = self._logs.get(function)
        return 0 if log is None else len(log.followers)
