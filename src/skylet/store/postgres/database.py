"""The PostgreSQL connection pool, and the boundary where psycopg's errors become the store's.

Every connection is in autocommit mode with ``search_path`` set to the store's schema; a
multi-statement operation opens ``conn.transaction()`` itself, and a single statement needs no
BEGIN/COMMIT round trips. When the database goes away, the operation in progress raises
``StoreUnavailable``; the pool is then told to check its idle connections, replaces the broken
ones in the background, and operations succeed again as soon as the database is back.

While the database is known to be down (an operation failed as unavailable and none has
succeeded since), operations wait at most ``DOWN_WAIT_S`` for a connection instead of
``timeout_s``: an Invoke API client gets its 503 in half a second, not five, and callers do
not pile up. Reconnecting never stops: the pool's attempts back off 1, 2, 4 s and give up
after ``timeout_s``, and the next operation starts a fresh round, so a database that comes
back is found within a few seconds however long it was away (psycopg_pool's own backoff,
left unbounded, had grown to 64 s after a two-minute outage).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from skylet.errors import StoreError, StoreUnavailable

Connection = psycopg.AsyncConnection[TupleRow]

#: How long an operation waits for a connection while the database is known to be down.
DOWN_WAIT_S = 0.5


def translate(error: psycopg.Error) -> StoreError:
    """A driver error as the store's: connection trouble is ``StoreUnavailable``."""
    translated: StoreError
    if isinstance(error, PoolTimeout):
        translated = StoreUnavailable(f"PostgreSQL is unreachable (no connection in time): {error}")
    elif isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        translated = StoreUnavailable(f"PostgreSQL is unavailable: {error}")
    else:
        translated = StoreError(f"PostgreSQL failed: {error}")
    translated.__cause__ = error
    return translated


class Database:
    """A pool of autocommit connections bound to one schema. Commits are counted."""

    def __init__(self, conninfo: str, schema: str, *, max_size: int, timeout_s: float) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._checking: asyncio.Task[None] | None = None
        self.commit_count = 0
        #: False from a failure as unavailable until the next operation that succeeds.
        self._reachable = True

    def connect_kwargs(self) -> dict[str, object]:
        # ``options`` sets search_path at connect time: no extra round trip per connection.
        # The schema name is checked against [a-z0-9_], so it needs no quoting here.
        # Keepalives and tcp_user_timeout notice a server that vanished without closing the
        # connection (a cable, a crashed host): 5 s idle + 3 probes 2 s apart ≈ 11 s, where
        # the kernel's defaults would wait over two hours.
        return {
            "autocommit": True,
            "options": f"-c search_path={self.schema}",
            "connect_timeout": max(1, round(self._timeout_s)),
            "application_name": f"skylet-store-{self.schema}",
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 15_000,
        }

    async def open(self) -> None:
        self._pool = AsyncConnectionPool(
            self.conninfo,
            kwargs=self.connect_kwargs(),
            min_size=1,
            max_size=self._max_size,
            open=False,
            timeout=self._timeout_s,
            reconnect_timeout=self._timeout_s,
            name=f"skylet-store-{self.schema}",
        )
        try:
            await self._pool.open(wait=True, timeout=self._timeout_s)
        except psycopg.Error as error:
            await self.close()
            raise translate(error) from error

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if self._checking is not None:
            self._checking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checking
            self._checking = None
        if pool is not None:
            await pool.close()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; psycopg errors leave as ``StoreError``/``StoreUnavailable``."""
        if self._pool is None:
            raise StoreError("the PostgreSQL store is not started or already closed")
        timeout_s = self._timeout_s if self._reachable else min(self._timeout_s, DOWN_WAIT_S)
        try:
            async with self._pool.connection(timeout=timeout_s) as conn:
                yield conn
        except psycopg.Error as error:
            translated = translate(error)
            if isinstance(translated, StoreUnavailable):
                self._reachable = False
                self._check_soon()
            raise translated from error
        self._reachable = True

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, committed (and counted) on exit."""
        async with self.connection() as conn:
            async with conn.transaction():
                yield conn
            self.commit_count += 1

    @contextlib.asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Connection]:
        """A pooled connection for one writing statement, which commits (and counts) by itself."""
        async with self.connection() as conn:
            yield conn
        self.commit_count += 1

    def _check_soon(self) -> None:
        """After a lost connection, test the idle ones too, so the next caller gets a live one."""
        if self._pool is None or (self._checking is not None and not self._checking.done()):
            return
        self._checking = asyncio.create_task(self._check(self._pool))

    async def _check(self, pool: AsyncConnectionPool[Connection]) -> None:
        with contextlib.suppress(psycopg.Error):
            await pool.check()
