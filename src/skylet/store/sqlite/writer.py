"""Group commit: one thread owns SQLite's write connection and commits many requests at once.

SQLite allows one writer at a time, and each commit costs a WAL append (and an fsync with
``synchronous=FULL``). When 1,000 coroutines send at once, running each in its own transaction
would cost 1,000 commits; here they queue up while the writer is busy, and the writer runs
everything that is queued in one transaction: a burst of 1,000 sends costs a handful of commits.

Each request runs inside its own SAVEPOINT, so a request that raises (an unknown queue, a bad
argument) rolls back alone and the rest of the batch still commits. The event loop never blocks:
``submit`` only puts the request on a thread-safe queue and awaits a future the writer resolves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from skylet.errors import SkyletError, StoreError, StoreUnavailable

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]
_Request = tuple[Work, "asyncio.Future[Any]"]
_STOP = None

# Requests per transaction; bounds how long the first request of a burst waits for its commit
# (about 20 µs each: 512 requests ≈ 10 ms).
MAX_BATCH = 512


def translate(error: sqlite3.Error) -> StoreError:
    """SQLite's own errors become the store's; a lock held too long means "try again"."""
    text = str(error)
    translated: StoreError
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        translated = StoreUnavailable(f"SQLite database is locked by another writer: {text}")
    else:
        translated = StoreError(f"SQLite failed: {text}")
    translated.__cause__ = error
    return translated


class GroupWriter:
    """The single writer. ``commit_count`` counts committed transactions."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.commit_count = 0

    async def start(self, setup: Work) -> None:
        """Start the thread, open the connection and run ``setup`` (migrations) in it."""
        self._loop = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(setup, ready), name="skylet-store-writer", daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(ready)
        except BaseException:
            # Failed, or cancelled while the thread may still succeed: either way it stops.
            self._requests.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            raise

    async def submit(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` in the next transaction; return once it has committed.

        A cancelled caller does not cancel the write: it may still commit.
        """
        if self._loop is None or self._closed:
            raise StoreError("the SQLite store is not started or already closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._requests.put((work, future))
        return await future

    async def aclose(self) -> None:
        """Commit what is queued, then stop the thread and close the connection."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._requests.put(_STOP)
            await asyncio.to_thread(self._thread.join)

    def _run(self, setup: Work, ready: concurrent.futures.Future[None]) -> None:
        if not ready.set_running_or_notify_cancel():  # from here on it can no longer be cancelled
            return
        try:
            conn = self._connect()
        except sqlite3.Error as error:
            ready.set_exception(translate(error))
            return
        try:
            try:
                setup(conn)
            except sqlite3.Error as error:
                ready.set_exception(translate(error))
                return
            except BaseException as error:
                ready.set_exception(error)
                return
            ready.set_result(None)
            self._serve(conn)
        finally:
            conn.close()

    def _serve(self, conn: sqlite3.Connection) -> None:
        while True:
            first = self._requests.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._requests.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._commit(conn, batch)
            if stop:
                return

    def _commit(self, conn: sqlite3.Connection, batch: list[_Request]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for work, future in batch:
                conn.execute("SAVEPOINT request")
                try:
                    result = work(conn)
                except BaseException as error:
                    conn.execute("ROLLBACK TO request")
                    conn.execute("RELEASE request")
                    if isinstance(error, sqlite3.Error):
                        outcomes.append((future, None, translate(error)))
                    else:
                        outcomes.append((future, None, error))
                    continue
                conn.execute("RELEASE request")
                outcomes.append((future, result, None))
            conn.execute("COMMIT")
            self.commit_count += 1
        except sqlite3.Error as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure: SkyletError = translate(error)
            outcomes = [(future, None, failure) for _, future in batch]
        if self._loop is None:
            return
        # One wake-up of the event loop per batch, not one per request.
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to tell
            self._loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():  # the caller was cancelled; the write stands anyway
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
