"""SQLite-only behaviour: a free event loop, WAL, migrations, a file from a newer skylet."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from skylet.errors import StoreError
from skylet.store import SendEntry
from skylet.store.sqlite import SqliteStore, schema
from skylet.store.sqlite.schema import LATEST_VERSION

pytestmark = pytest.mark.anyio


async def test_the_event_loop_keeps_running_during_a_large_batch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    ticks: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    try:
        await store.create_queue("jobs")
        ticker = asyncio.create_task(tick())
        for _ in range(20):
            await store.send_batch("jobs", [SendEntry(b"x" * 100) for _ in range(500)])
        stop.set()
        await ticker
    finally:
        await store.aclose()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 5
    assert max(gaps) < 0.5


async def test_file_is_in_wal_mode_with_one_row_per_migration(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state.db"
    for _ in range(2):
        store = SqliteStore(path)
        await store.start()
        await store.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
    conn.close()
    assert versions == list(range(1, LATEST_VERSION + 1))


async def test_a_file_from_a_newer_skylet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    await store.start()
    await store.aclose()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (LATEST_VERSION + 1,))
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await SqliteStore(path).start()


async def test_a_file_of_the_first_schema_is_migrated_with_its_queues_and_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    with monkeypatch.context() as first_release:
        first_release.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        first_release.setattr(schema, "LATEST_VERSION", 1)
        old = SqliteStore(path)
        await old.start()
        await old.aclose()
    now = time.time()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO queues VALUES ('jobs', 30, 345600, NULL, NULL, 0, 0, ?)", (now,))
        conn.execute(
            "INSERT INTO messages (id, queue, body, sent_at, visible_at)"
            " VALUES ('m', 'jobs', x'78', ?, ?)",
            (now, now),
        )
    conn.close()

    store = SqliteStore(path)
    await store.start()
    try:
        config = await store.get_queue("jobs")
        assert config is not None
        assert (dict(config.attributes), config.modified_at) == ({}, now)
        (message,) = await store.receive("jobs")
        assert (message.id, message.body, message.origin) == ("m", b"x", None)
    finally:
        await store.aclose()


async def test_synchronous_full_works_too(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db", synchronous="FULL")
    await store.start()
    try:
        await store.create_queue("jobs")
        await store.send("jobs", b"x")
        assert len(await store.receive("jobs")) == 1
    finally:
        await store.aclose()


_SENDER = """
import asyncio, sys
from pathlib import Path
from skylet.store.sqlite import SqliteStore

async def main():
    store = SqliteStore(Path(sys.argv[1]))
    await store.start()
    await store.create_queue("jobs")
    while True:
        ids = await asyncio.gather(*(store.send("jobs", b"x") for _ in range(20)))
        print(*ids, flush=True)  # acknowledged: send() returned for each of these

asyncio.run(main())
"""


async def test_acknowledged_sends_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sender = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SENDER, str(path), stdout=asyncio.subprocess.PIPE
    )
    assert sender.stdout is not None
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 2000:
            line = await asyncio.wait_for(sender.stdout.readline(), 30)
            acknowledged.extend(line.decode().split())
    finally:
        sender.kill()  # SIGKILL, mid-stream: no cleanup runs in the sender
        rest, _ = await sender.communicate()
    acknowledged.extend(rest.decode().split())

    store = SqliteStore(path)
    await store.start()
    try:
        stored = {m.id for m in await store.receive("jobs", max_messages=10_000)}
    finally:
        await store.aclose()
    assert set(acknowledged) <= stored
