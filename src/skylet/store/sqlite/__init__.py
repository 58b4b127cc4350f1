"""The embedded SQLite store (stdlib ``sqlite3``, WAL, one group-commit writer thread)."""

from __future__ import annotations

from skylet.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
