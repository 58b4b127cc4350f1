"""The store fixtures (``tests/store_fixtures.py``) for the tests of DynamoDB's background work
on a real store of each backend; the clock is frozen, moved by ``clock.advance(s)``."""

from __future__ import annotations

from tests.store_fixtures import anyio_backend as anyio_backend
from tests.store_fixtures import clock as clock
from tests.store_fixtures import clock_ticks as clock_ticks
from tests.store_fixtures import make_store as make_store
from tests.store_fixtures import store as store
