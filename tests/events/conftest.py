"""Fixtures for the asynchronous invocation suite: both stores, a movable clock, handler files.

``store`` is a started store of the parametrized backend (SQLite in ``tmp_path``, or a fresh
PostgreSQL schema dropped afterwards: skipped locally without a server, failed when
``CI=true``). Its clock is ``clock``: real time plus an offset that a test moves forward with
``clock.advance(s)``, so leases and delays still elapse on their own while a test can make an
event six hours old in an instant.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore

HANDLERS = """
import json, os, time

OUT = os.environ.get("OUT", "/dev/null")


def _note(context, event, **extra):
    line = {"id": context.aws_request_id, "t": time.time(), "event": event, **extra}
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\\n")


def ok(event, context):
    _note(context, event)
    return {"ok": True, "echo": event}


def fail(event, context):
    _note(context, event)
    raise ValueError("boom " + str(event.get("n")))


def slow(event, context):
    time.sleep(event.get("sleep", 1.0))
    _note(context, event)
    return "slept"


def sink(event, context):
    _note(context, event)


def gated(event, context):
    gate = os.environ.get("GATE", "")
    while gate and os.path.exists(gate):
        time.sleep(0.01)
    _note(context, event)
"""


class MovableClock:
    """``time.time()`` plus an offset that only grows."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


StoreMaker = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: MovableClock) -> StoreMaker:
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "state.db", now=clock, recheck_s=0.2)
    from skylet.store.postgres import PostgresStore

    url, schema = request.getfixturevalue("pg_schema")
    return lambda: PostgresStore(url, schema=schema, now=clock, recheck_s=0.2)


@pytest.fixture
async def store(make_store: StoreMaker) -> AsyncIterator[Store]:
    opened = make_store()
    await opened.start()
    yield opened
    await opened.aclose()


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    """A directory with ``handlers.py`` (ok, fail, slow, sink, gated); each appends a JSON line
    per call to the file named by its ``OUT`` variable. ``gated`` first waits while the file
    named by ``GATE`` exists."""
    directory = tmp_path / "code"
    directory.mkdir()
    (directory / "handlers.py").write_text(HANDLERS)
    return directory
