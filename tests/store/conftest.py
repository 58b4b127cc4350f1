"""Fixtures for the store suite: one contract, every backend.

``make_store`` builds an unstarted store of the parametrized backend; every call returns another
handle on the *same* data (the same SQLite file, the same PostgreSQL schema), so a test can
reopen it or run two "nodes". ``store`` is one started handle. The clock is a ``FakeClock``:
tests move time with ``clock.advance(s)`` instead of sleeping.

PostgreSQL: postgresql://postgres@127.0.0.1:5432/test (else user root). Each test gets a fresh
schema, dropped afterwards. No server: the postgres params skip, or fail when ``CI=true``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore


class FakeClock:
    """A settable clock: ``now()`` returns ``t`` (seconds since the epoch)."""

    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


StoreMaker = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> StoreMaker:
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
