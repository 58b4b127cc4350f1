"""``kill -9`` in the middle of a stream of events: nothing lost, each recorded done once."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from skylet.events.async_invoke import AsyncInvoker
from skylet.events.envelope import queue_name
from skylet.events.records import RecordBook, log_name
from skylet.functions import FunctionConfig
from skylet.store.sqlite import SqliteStore
from tests.runtime_fixtures import alive, descendants

from .crash_child import FUNCTION, append_function
from .harness import calls

EVENTS = 3000
ROOT = Path(__file__).parents[2]


@dataclass
class Pool:
    fn: FunctionConfig


class Functions:
    def __init__(self, fn: FunctionConfig) -> None:
        self.fn = fn

    def pool(self, name: str) -> Pool:
        return Pool(self.fn)


async def enqueue(db: Path, fn: FunctionConfig) -> list[str]:
    store = SqliteStore(db)
    await store.start()
    async_invoker = AsyncInvoker(store, RecordBook(store), Functions(fn))
    ids: list[str] = []
    for start in range(0, EVENTS, 100):
        payloads = [json.dumps({"n": n}).encode() for n in range(start, start + 100)]
        ids += await async_invoker.enqueue_batch(FUNCTION, payloads)
    await async_invoker.aclose()
    await store.aclose()
    return ids


async def final_records(db: Path) -> tuple[collections.Counter[str], int]:
    """How many final snapshots each request id has, and the messages left on the queue."""
    store = SqliteStore(db)
    await store.start()
    finals: collections.Counter[str] = collections.Counter()
    after = 0
    while entries := await store.read(log_name(FUNCTION), 0, after_sequence=after, limit=1000):
        for entry in entries:
            for row in json.loads(entry.data):
                if row[1] in ("succeeded", "failed", "discarded"):
                    finals[row[0]] += 1
        after = entries[-1].sequence
    stats = await store.queue_stats(queue_name(FUNCTION))
    await store.aclose()
    return finals, stats.visible + stats.in_flight + stats.delayed


def start_child(db: Path, code: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.events.crash_child", str(db), str(code), str(out)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )


def test_a_dispatcher_killed_mid_stream_loses_nothing_and_records_each_event_done_once(
    tmp_path: Path, code_dir: Path
) -> None:
    db, out = tmp_path / "state.db", tmp_path / "calls.jsonl"
    ids = asyncio.run(enqueue(db, append_function(code_dir, out)))

    first = start_child(db, code_dir, out)
    deadline = time.monotonic() + 60
    while len(calls(out)) < EVENTS // 3:
        assert first.poll() is None, "the first dispatcher ended before it was killed"
        assert time.monotonic() < deadline, "the first dispatcher made no progress"
        time.sleep(0.01)
    family = descendants(first.pid)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family):  # the zygote and instances die with it
        assert time.monotonic() < deadline, "instances outlived their killed dispatcher"
        time.sleep(0.01)
    done_before = len(calls(out))
    assert done_before < EVENTS, "killed too late: every event had already run"

    second = start_child(db, code_dir, out)
    try:
        assert second.wait(60) == 0
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)

    ran = [c["id"] for c in calls(out)]
    finals, left = asyncio.run(final_records(db))
    assert set(ran) == set(ids)  # every event ran at least once
    # Only events in flight at the kill may run twice: at most the workers plus one prefetch.
    assert len(ran) - len(set(ran)) <= 8 + 100
    assert finals == collections.Counter(dict.fromkeys(ids, 1))  # recorded done exactly once
    assert left == 0
