"""Helpers for the tests that run ``skylet up`` itself: a project, Event invocations sent over
HTTP, and the invocation records read straight from the store afterwards."""

from __future__ import annotations

import collections
import http.client
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from skylet.events.envelope import queue_name
from skylet.events.records import FINAL, log_name
from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore

FUNCTION = "sink"

MANIFEST = """\
service: faults
functions:
  sink:
    handler: handlers.{handler}
    timeout_s: 60
    environment:
      OUT: {out}
      GATE: {gate}
"""


def write_project(code_dir: Path, out: Path, gate: Path, handler: str = "gated") -> Path:
    """``code_dir`` (the suite's handlers) becomes a project with one function, ``sink``."""
    (code_dir / "skylet.yaml").write_text(MANIFEST.format(handler=handler, out=out, gate=gate))
    return code_dir


def store_maker(backend: str, project: Path, pg: tuple[str, str] | None) -> Callable[[], Store]:
    """The store a ``skylet up`` of ``project`` uses, opened from the test process."""
    if backend == "sqlite":
        return lambda: SqliteStore(project / ".skylet" / "state.db")
    from skylet.store.postgres import PostgresStore

    assert pg is not None
    url, schema = pg
    return lambda: PostgresStore(url, schema=schema)


def store_url(backend: str, pg: tuple[str, str] | None) -> str:
    """``--store`` for ``skylet up``: its default SQLite file, or the test's schema."""
    if backend == "sqlite":
        return ""
    assert pg is not None
    url, schema = pg
    return f"{url}?schema={schema}"


def invocations_url(base: str, function: str = FUNCTION) -> str:
    return f"{base}/2015-03-31/functions/{function}/invocations"


def send_events(port: int, payloads: Sequence[bytes], *, threads: int = 16) -> list[str]:
    """Event invocations over ``threads`` keep-alive connections; their request ids. Anything
    but a 202 fails the test. (The standard library's client in threads: httpx's async pool
    manages about 1,000 requests a second here, a fifth of what this sends.)"""
    ids: list[str] = []
    todo = collections.deque(payloads)
    path = invocations_url("")
    failures: list[str] = []

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while not failures:
                try:
                    payload = todo.popleft()
                except IndexError:
                    return
                connection.request("POST", path, payload, {"X-Amz-Invocation-Type": "Event"})
                response = connection.getresponse()
                body = response.read()
                if response.status != 202:
                    failures.append(f"{response.status} {body!r}")
                    return
                ids.append(response.headers["x-amzn-requestid"])
        finally:
            connection.close()

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures[0]
    return ids


async def final_records(store: Store) -> tuple[collections.Counter[str], int]:
    """How many final snapshots each request id has, and the events' messages left queued."""
    await store.start()
    try:
        finals: collections.Counter[str] = collections.Counter()
        after = 0
        name = log_name(FUNCTION)
        if await store.get_log(name) is None:
            return finals, 0
        while entries := await store.read(name, 0, after_sequence=after, limit=1000):
            for entry in entries:
                finals.update(row[0] for row in json.loads(entry.data) if row[1] in FINAL)
            after = entries[-1].sequence
        stats = await store.queue_stats(queue_name(FUNCTION))
        return finals, stats.visible + stats.in_flight + stats.delayed
    finally:
        await store.aclose()


def ran(out: Path) -> list[str]:
    """The request ids the handler noted, one per run, in order."""
    if not out.exists():
        return []
    lines = out.read_bytes().split(b"\n")
    # A line still being written by a live instance is incomplete; it is read next time.
    return [json.loads(line)["id"] for line in lines[:-1] if line]


def count_runs(out: Path) -> int:
    return out.read_bytes().count(b"\n") if out.exists() else 0
