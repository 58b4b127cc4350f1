"""LISTEN/NOTIFY: wake-ups that travel between nodes.

Writers call ``pg_notify(channel, "<origin> q:<queue>")`` (or ``"… l:<log>"``) inside their
transaction and ring their own node's waiters themselves after commit; PostgreSQL delivers the
notification to every node's listener, which rings the matching in-process waiters unless the
notification is its own node's (``origin``), already rung: a waiter is woken once per write.
The listener owns one dedicated connection (a pooled one could not keep LISTEN). When
that connection drops it reconnects with backoff and rings every waiter, because notifications
sent while it was away are lost and the waiters must look for themselves.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from psycopg import sql

from skylet.errors import StoreUnavailable
from skylet.store.wakeups import Wakeups

# A notifies() pass ends after this many seconds of silence and the connection is pinged, so a
# half-open TCP connection (server gone without a FIN) is noticed within about this long.
HEARTBEAT_S = 5.0
MAX_BACKOFF_S = 5.0


def channel_name(schema: str) -> str:
    """One notification channel per store schema (schemas are ≤48 chars; channels ≤63)."""
    return f"skylet_{schema}"


class Listener:
    """A background task that LISTENs and rings ``wakeups``; ``reconnects`` counts reconnects."""

    def __init__(
        self,
        conninfo: str,
        connect_kwargs: dict[str, object],
        channel: str,
        wakeups: Wakeups,
        origin: str,
    ) -> None:
        self._conninfo = conninfo
        self._kwargs = connect_kwargs
        self._channel = channel
        self._wakeups = wakeups
        self._origin = origin
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.reconnects = 0

    async def start(self, timeout_s: float) -> None:
        """Start listening; ``StoreUnavailable`` if the first LISTEN takes over ``timeout_s``."""
        self._task = asyncio.create_task(self._run(), name=f"skylet-store-listen-{self._channel}")
        try:
            await asyncio.wait_for(self._listening.wait(), timeout_s)
        except TimeoutError as error:
            await self.aclose()
            raise StoreUnavailable("PostgreSQL is unreachable: LISTEN did not start") from error

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        backoff_s = 0.1
        while True:
            # The connection dropped or could not be made: retry below. OSError too: a socket
            # error that psycopg does not wrap must not end the listener for good.
            with contextlib.suppress(psycopg.Error, OSError):
                await self._listen()
            if self._listening.is_set():
                backoff_s = 0.1  # it was up: this is a fresh outage
            self._listening.clear()
            self.reconnects += 1
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, **self._kwargs)  # type: ignore[arg-type]
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._listening.set()
            self._wakeups.ring_all()
            while True:
                async for notify in conn.notifies(timeout=HEARTBEAT_S):
                    sender, _, channel = notify.payload.partition(" ")
                    if sender != self._origin:
                        self._wakeups.ring(channel)
                await conn.execute("SELECT 1")
