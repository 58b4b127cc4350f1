"""SQLite connections: the writer's settings and a small pool of reader threads.

Durability choice: WAL with ``synchronous=NORMAL`` by default. A commit is then written to the
WAL file before ``send`` returns, but fsynced only at checkpoints: it survives the process
being killed (``kill -9``, our fault model, docs/ARCHITECTURE.md), and the last commits before
a power loss or kernel crash may be lost. ``synchronous=FULL`` fsyncs every commit; group
commit makes that one fsync per batch, so it is an option
(``SqliteStore(..., synchronous="FULL")``) for single-node production on hardware that may
lose power.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar

from skylet.errors import StoreError
from skylet.store.sqlite.writer import translate

T = TypeVar("T")
Synchronous = Literal["NORMAL", "FULL"]
BUSY_TIMEOUT_MS = 5_000  # another process holding the write lock: wait this long, then fail


def connect(path: Path, synchronous: Synchronous, *, reader: bool) -> sqlite3.Connection:
    """Open ``path`` in WAL mode; ``isolation_level=None`` so transactions are ours to begin."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        if reader:
            conn.execute("PRAGMA query_only = ON")
        else:
            _enable_wal(conn)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch ``conn``'s file to WAL, waiting out other processes doing the same.

    The switch takes an exclusive lock and SQLite reports a competing one as "locked" at once,
    without consulting the busy timeout: several stores opening a new file together meet that.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class ReaderPool:
    """Reader threads, each with its own connection; WAL lets them read while the writer writes.

    Reads see every commit that finished before they began.
    """

    def __init__(self, path: Path, synchronous: Synchronous, size: int = 2) -> None:
        self._path = path
        self._synchronous = synchronous
        self._size = size
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(self._size, thread_name_prefix="skylet-store-read")

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` in a reader thread, inside one read transaction."""
        if self._executor is None:
            raise StoreError("the SQLite store is not started or already closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        try:
            if conn is None:
                conn = connect(self._path, self._synchronous, reader=True)
                self._local.conn = conn
                with self._lock:
                    self._opened.append(conn)
            # One snapshot for every statement of ``work``.
            conn.execute("BEGIN")
            try:
                return work(conn)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            raise translate(error) from error

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
