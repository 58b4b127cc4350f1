"""Fixtures for the store suite: one contract, every backend.

``make_store``, ``store`` and ``clock`` come from ``tests/store_fixtures.py``; here the clock is
frozen, so tests move time with ``clock.advance(s)`` instead of sleeping.
"""

from __future__ import annotations

from tests.store_fixtures import anyio_backend as anyio_backend
from tests.store_fixtures import clock as clock
from tests.store_fixtures import clock_ticks as clock_ticks
from tests.store_fixtures import make_store as make_store
from tests.store_fixtures import store as store
