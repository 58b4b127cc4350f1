"""Store fixtures for every suite that runs on the store: one backend fixture, one fake clock.

``make_store`` builds an unstarted store of the parametrized backend (``sqlite``, ``postgres``);
every call returns another handle on the *same* data (the same SQLite file in ``tmp_path``, the
same PostgreSQL schema from ``pg_schema``), so a test can reopen it or run two "nodes".
``store`` is one started handle. PostgreSQL params skip without a server, or fail when
``CI=true`` (``tests/conftest.py``).

Both read ``clock``, a ``FakeClock``. It is frozen unless the package's ``clock_ticks`` fixture
says otherwise: the store's contract suite moves time only by ``clock.advance(s)``, while the
asynchronous invocation suite, which runs real functions, lets leases and delays elapse on their
own. A package uses these by importing them into its ``conftest.py``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from skylet.store.base import Store
from skylet.store.sqlite import SqliteStore

StoreMaker = Callable[[], Store]


class FakeClock:
    """Seconds since the epoch, moved forward by ``advance(seconds)``.

    Frozen, it reads ``FROZEN_AT`` plus the advances: nothing elapses unless a test says so.
    Ticking, it reads ``time.time()`` plus the advances: time passes as usual, and a test can
    still make an event six hours old in an instant.
    """

    FROZEN_AT = 1_700_000_000.0

    def __init__(self, *, ticking: bool = False) -> None:
        self.ticking = ticking
        self.offset = 0.0

    def __call__(self) -> float:
        return (time.time() if self.ticking else self.FROZEN_AT) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock_ticks() -> bool:
    """Whether ``clock`` runs with real time; a package's conftest overrides it to say so."""
    return False


@pytest.fixture
def clock(clock_ticks: bool) -> FakeClock:
    return FakeClock(ticking=clock_ticks)


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
