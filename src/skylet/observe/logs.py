"""Each function's log, bounded, for ``skylet logs`` (and ``-f``) and for ``LogType: Tail``.

An entry is one invocation's whole log (START … REPORT). The book keeps the newest ``max_bytes``
per function; followers get every new entry.

An invocation's entry is its ``skylet.invoker.report.InvocationLog``, rendered when first read
(an admin request, a follower): at thousands of invocations a second, formatting logs nobody
reads, and keeping a second object per invocation, are costs worth skipping. Its ``size`` (an
estimate) counts against ``max_bytes`` until then.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Protocol


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


class _FunctionLog:
    def __init__(self, max_bytes: int) -> None:
        self.entries: deque[Entry] = deque()
        self.size = 0
        self.max_bytes = max_bytes
        self.followers: set[asyncio.Queue[Entry]] = set()


class LogBook:
    def __init__(self, *, max_bytes_per_function: int = 4 << 20) -> None:
        self._max = max_bytes_per_function
        self._logs: dict[str, _FunctionLog] = {}

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
        for queue in log.followers:
            if not queue.full():  # a follower that stopped reading loses entries, not memory
                queue.put_nowait(entry)

    def entries(self, function: str, *, since: float = 0.0, limit: int = 1000) -> list[Entry]:
        """The newest ``limit`` entries at or after ``since`` (epoch seconds), oldest first."""
        log = self._logs.get(function)
        if log is None:
            return []
        chosen = [e for e in log.entries if e.timestamp >= since]
        return chosen[-limit:]

    async def follow(self, function: str) -> AsyncIterator[Entry]:
        """Every entry appended from now on, until the caller stops iterating."""
        queue: asyncio.Queue[Entry] = asyncio.Queue(maxsize=10_000)
        log = self._log(function)
        log.followers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            log.followers.discard(queue)
