"""Each function's log, bounded, for ``skylet logs`` (and ``-f``) and for ``LogType: Tail``.

An entry is one invocation's whole log (START … REPORT) or a line the platform wrote about the
function. The book keeps the newest ``max_bytes`` per function; followers get every new entry.

An entry's text may be ``LazyText``, rendered when first read (an admin request, a follower):
at thousands of invocations a second, formatting logs nobody reads is a cost worth skipping.
Its ``size`` (an estimate) counts against ``max_bytes`` until then.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import NamedTuple, Protocol


class LazyText(Protocol):
    """Text rendered on first read; ``size`` estimates its length without rendering it."""

    @property
    def text(self) -> str: ...

    @property
    def size(self) -> int: ...


class LogEntry(NamedTuple):
    """One entry; a named tuple, as one is made per invocation."""

    timestamp: float  # epoch seconds
    function: str
    request_id: str
    body: str | LazyText
    size: int  # what it counts against the book's bound (``body``'s length, or its estimate)

    @property
    def text(self) -> str:
        body = self.body
        return body if isinstance(body, str) else body.text


class _FunctionLog:
    def __init__(self, max_bytes: int) -> None:
        self.entries: deque[LogEntry] = deque()
        self.size = 0
        self.max_bytes = max_bytes
        self.followers: set[asyncio.Queue[LogEntry]] = set()


class LogBook:
    def __init__(self, *, max_bytes_per_function: int = 4 << 20) -> None:
        self._max = max_bytes_per_function
        self._logs: dict[str, _FunctionLog] = {}

    def _log(self, function: str) -> _FunctionLog:
        log = self._logs.get(function)
        if log is None:
            log = self._logs[function] = _FunctionLog(self._max)
        return log

    def append(self, function: str, request_id: str, text: str | LazyText) -> None:
        size = len(text) if isinstance(text, str) else text.size
        entry = LogEntry(time.time(), function, request_id, text, size)
        log = self._logs.get(function) or self._log(function)
        entries = log.entries
        entries.append(entry)
        log.size += size
        while log.size > log.max_bytes and len(entries) > 1:
            log.size -= entries.popleft().size
        for queue in log.followers:
            if not queue.full():  # a follower that stopped reading loses entries, not memory
                queue.put_nowait(entry)

    def entries(self, function: str, *, since: float = 0.0, limit: int = 1000) -> list[LogEntry]:
        """The newest ``limit`` entries at or after ``since`` (epoch seconds), oldest first."""
        log = self._logs.get(function)
        if log is None:
            return []
        chosen = [e for e in log.entries if e.timestamp >= since]
        return chosen[-limit:]

    async def follow(self, function: str) -> AsyncIterator[LogEntry]:
        """Every entry appended from now on, until the caller stops iterating."""
        queue: asyncio.Queue[LogEntry] = asyncio.Queue(maxsize=10_000)
        log = self._log(function)
        log.followers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            log.followers.discard(queue)
