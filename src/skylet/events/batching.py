"""``Coalescer``: many concurrent writes to one target become one store call.

Every event costs a send, a record and a delete. Made one by one, 10,000 events a second would
be 30,000 store calls a second, each with its own round trip (and on PostgreSQL its own
transaction). Callers here submit items for a key (a queue, a log); the items submitted while
the previous call for that key is running go together into the next call. Under load a batch
holds whatever arrived during one store round trip; an idle system pays one event-loop turn of
delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

Flush = Callable[[K, list[T]], Awaitable[Sequence[R]]]
# The items of one submit_many call and the one future that answers them all: a future per
# item would cost more than the rest of an event's bookkeeping.
_Group = tuple[Sequence[T], "asyncio.Future[list[R]]"]


class Coalescer(Generic[K, T, R]):
    """Runs ``flush(key, items) -> results`` (one result per item, in order) for batches of
    submitted items, one flush at a time per key. A flush takes whole submissions until it
    holds ``max_items`` (at least one submission, however large).

    Items of one key are flushed in submission order. If a flush raises, every submitter of
    that batch gets the exception. A cancelled submitter does not take its items back: they
    may still be flushed.
    """

    def __init__(self, flush: Flush[K, T, R], *, max_items: int = 1000) -> None:
        self._flush = flush
        self._max_items = max_items
        self._pending: dict[K, list[_Group[T, R]]] = {}
        self._drains: dict[K, asyncio.Task[None]] = {}

    async def submit(self, key: K, item: T) -> R:
        # submit_many's body, inlined: one coroutine less per call on the Invoke API's path.
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append(((item,), future))
        if key not in self._drains:
            self._drains[key] = asyncio.create_task(self._drain(key))
        (result,) = await future
        return result

    async def submit_many(self, key: K, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((items, future))
        if key not in self._drains:
            self._drains[key] = asyncio.create_task(self._drain(key))
        return await future

    async def _drain(self, key: K) -> None:
        try:
            while pending := self._pending.get(key):
                count, taken = 0, 0
                while taken < len(pending) and (taken == 0 or count < self._max_items):
                    count += len(pending[taken][0])
                    taken += 1
                groups = pending[:taken]
                del pending[:taken]
                items = [item for group, _ in groups for item in group]
                try:
                    results = await self._flush(key, items)
                except asyncio.CancelledError:
                    for _, future in groups:
                        future.cancel()
                    raise
                except Exception as error:
                    for _, future in groups:
                        if not future.done():
                            future.set_exception(error)
                    continue
                start = 0
                for group, future in groups:
                    if not future.done():
                        future.set_result(list(results[start : start + len(group)]))
                    start += len(group)
        finally:
            del self._drains[key]
            # Only a cancelled drain leaves items behind; nobody would flush them now.
            for _, future in self._pending.pop(key, []):
                future.cancel()

    async def aclose(self) -> None:
        """Wait for every flush that is running or due."""
        while self._drains:
            await asyncio.gather(*self._drains.values(), return_exceptions=True)
