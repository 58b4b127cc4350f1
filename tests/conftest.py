"""Fixtures shared by every suite: the PostgreSQL server that store-backed tests use.

PostgreSQL: postgresql://postgres@127.0.0.1:5432/test (else user root). ``pg_schema`` gives a
test a fresh schema, dropped afterwards. Without a server such tests skip, or fail when
``CI=true``.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


@functools.cache
def _postgres_url() -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    for url in POSTGRES_URLS:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return url
        except psycopg.Error:
            continue
    return None


def postgres_url() -> str:
    """The reachable test server's URL; skip (locally) or fail (CI=true) without one."""
    url = _postgres_url()
    if url is None:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URLS[0]} (nor as user root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema on the test server (URL, schema); dropped after the test."""
    import psycopg

    url = postgres_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
