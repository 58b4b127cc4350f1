"""The PostgreSQL store (psycopg 3 async, psycopg_pool), for several nodes sharing one database.

Importing this package imports psycopg; ``skylet.store.factory`` imports it only for a
``postgresql://`` URL and turns a missing driver into "pip install 'skylet[postgres]'".
"""

from __future__ import annotations

from skylet.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
