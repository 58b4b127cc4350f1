"""In-process wake-ups: coroutines wait on a channel name, writers ring it.

Both backends use this; PostgreSQL also rings it from LISTEN/NOTIFY so another node's write
wakes a waiter here. A ring is a hint, never a promise that data is there: a waiter re-reads.
Channels are ``"q:<queue>"`` and ``"l:<log>"``. All methods run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def queue_channel(name: str) -> str:
    return f"q:{name}"


def log_channel(name: str) -> str:
    return f"l:{name}"


class Wakeups:
    """A set of one-shot futures per channel; ringing a channel resolves all of them."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def register(self, channel: str) -> asyncio.Future[None]:
        """Arm a waiter *before* checking for data, so a write between check and wait is seen."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, set()).add(future)
        return future

    def unregister(self, channel: str, future: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(channel)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                del self._waiters[channel]

    async def wait(self, channel: str, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for a ring; ``True`` if rung."""
        future = self.register(channel)
        try:
            return await wait_future(future, timeout_s)
        finally:
            self.unregister(channel, future)

    def ring(self, channel: str) -> None:
        for future in self._waiters.pop(channel, ()):
            if not future.done():
                future.set_result(None)

    def ring_all(self) -> None:
        """Wake everyone: after a lost connection, notifications may have been missed."""
        for channel in list(self._waiters):
            self.ring(channel)


async def wait_future(future: asyncio.Future[None], timeout_s: float) -> bool:
    """Wait for ``future`` up to ``timeout_s`` without cancelling it on timeout."""
    if timeout_s <= 0:
        return future.done()
    done, _ = await asyncio.wait({future}, timeout=timeout_s)
    return bool(done)


async def long_poll(
    wakeups: Wakeups,
    channel: str,
    attempt: Callable[[], Awaitable[Sequence[T]]],
    wait_s: float,
    recheck_s: float,
) -> Sequence[T]:
    """Call ``attempt`` until it returns something or ``wait_s`` real seconds pass.

    It re-attempts when ``channel`` rings and at least every ``recheck_s`` seconds, because a
    delay ending or a lease expiring rings nobody.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        future = wakeups.register(channel)
        try:
            result = await attempt()
            remaining = deadline - loop.time()
            if result or remaining <= 0:
                return result
            await wait_future(future, min(remaining, recheck_s))
        finally:
            wakeups.unregister(channel, future)
