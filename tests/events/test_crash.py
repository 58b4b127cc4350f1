"""``kill -9`` of ``skylet up`` amid 10,000 asynchronous invocations, then a restart: every
event runs at least once, each is recorded done exactly once, and only events in flight at
the kill run twice. Real processes and the real Invoke API, on both stores."""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from skylet.events.envelope import queue_name
from skylet.store.base import Store
from tests.e2e.conftest import Server, start_server, stop_server
from tests.runtime_fixtures import alive, descendants

from .served import (
    FUNCTION,
    count_runs,
    final_records,
    ran,
    send_events,
    store_maker,
    store_url,
    write_project,
)

pytestmark = pytest.mark.e2e

EVENTS = 10_000
#: Events one node may hold (received, not yet recorded) with the default
#: ``DispatcherSettings``: tries and prefetch up to ``max_concurrency`` + ``batch_size``
#: (32 + 100), plus the rest of a last pack (99); the events settling, until a flush is two
#: batches behind (200), plus what was tried and prefetched when receiving stopped. Those in
#: flight at a kill are among them: a bound against "everything was in flight", not a tight one.
HELD_AT_MOST = 2 * (32 + 100 + 99) + 2 * 100
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def up(project: Path, backend: str, pg: tuple[str, str] | None) -> Server:
    # The handlers record their calls in a file the test reads: no sandbox, whose /tmp is the
    # instance's own and whose view of the code is read-only.
    args = ["--no-reload", "--no-sandbox"]
    if url := store_url(backend, pg):
        args += ["--store", url]
    return start_server(project, *args)


def kill_9(server: Server) -> None:
    """SIGKILL ``skylet up``, then wait until its zygote and instances are gone too (they
    die with it), so that nothing writes to the calls file any more."""
    family = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family):
        assert time.monotonic() < deadline, "instances outlived their killed skylet up"
        time.sleep(0.01)


async def wait_until_settled(server: Server, store: Store, timeout_s: float = 120) -> None:
    """Until no invocation of ``sink`` is queued or running any more (the admin API) and its
    queue is empty (the store: a pack whose events were all recorded before the kill stays
    leased to the dead node until its lease runs out, then is received and dropped)."""
    deadline = time.monotonic() + timeout_s
    url = f"{server.url}/_skylet/functions/{FUNCTION}/invocations"
    await store.start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                pending = [
                    (await client.get(url, params={"status": status, "limit": 1})).json()
                    for status in ("queued", "running")
                ]
                stats = await store.queue_stats(queue_name(FUNCTION))
                left = stats.visible + stats.in_flight + stats.delayed
                if pending == [[], []] and left == 0:
                    return
                assert server.proc.poll() is None, server.output()
                assert time.monotonic() < deadline, f"still pending: {pending}, {left} queued"
                await asyncio.sleep(0.2)
    finally:
        await store.aclose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_of_skylet_up_mid_stream_loses_nothing_and_records_each_event_done_once(
    backend: str, tmp_path: Path, code_dir: Path, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("pg_schema") if backend == "postgres" else None
    out, gate = tmp_path / "calls.jsonl", tmp_path / "gate"
    project = write_project(code_dir, out, gate)
    read_store = store_maker(backend, project, pg)

    # Accept all 10,000 while the gate holds the handlers, so that the kill finds most of them
    # still queued rather than racing the sender.
    gate.touch()
    first = up(project, backend, pg)
    try:
        payloads = [json.dumps({"n": n}).encode() for n in range(EVENTS)]
        ids = send_events(first.port, payloads)
        assert len(set(ids)) == EVENTS
        gate.unlink()
        deadline = time.monotonic() + 120
        while count_runs(out) < EVENTS // 3:
            assert first.proc.poll() is None, first.output()
            assert time.monotonic() < deadline, "skylet up made no progress"
            time.sleep(0.005)
        kill_9(first)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
            first.proc.wait()

    ran_before = collections.Counter(ran(out))
    assert len(ran_before) < EVENTS, "killed too late: every event had already run"
    finals_before, _ = asyncio.run(final_records(read_store()))
    # In flight at the kill: the handler ran, the final record was not written yet.
    in_flight = set(ran_before) - set(finals_before)
    assert len(in_flight) <= HELD_AT_MOST

    second = up(project, backend, pg)
    try:
        asyncio.run(wait_until_settled(second, read_store()))
    finally:
        status = stop_server(second)
    assert status == 0, second.output()

    runs = collections.Counter(ran(out))
    finals, left = asyncio.run(final_records(read_store()))
    assert set(runs) == set(ids)  # every event ran at least once
    twice = {request_id for request_id, count in runs.items() if count > 1}
    assert twice <= in_flight  # only events in flight at the kill ran again
    assert finals == collections.Counter(dict.fromkeys(ids, 1))  # recorded done exactly once
    assert left == 0
