"""The archive's tests run on every store backend (``tests/store_fixtures.py``)."""

from __future__ import annotations

from tests.store_fixtures import anyio_backend as anyio_backend
from tests.store_fixtures import clock as clock
from tests.store_fixtures import clock_ticks as clock_ticks
from tests.store_fixtures import make_store as make_store
from tests.store_fixtures import store as store
