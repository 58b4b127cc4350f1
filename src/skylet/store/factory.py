"""``open_store``: the one place a ``--store`` URL becomes a store.

``sqlite:///abs/path.db`` or ``sqlite:relative.db`` (relative to ``data_dir``), or an empty URL
for ``data_dir/state.db``; ``postgresql://…`` / ``postgres://…`` with an optional ``schema``
query parameter (default ``skylet``). Nothing is opened here: the caller calls ``start()``.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from skylet.errors import ConfigError
from skylet.store.base import Clock, Store
from skylet.store.sqlite import SqliteStore

DEFAULT_SQLITE_FILE = "state.db"
DEFAULT_SCHEMA = "skylet"


def open_store(url: str, *, data_dir: Path, now: Clock = time.time) -> Store:
    """Build (not start) the store ``url`` names. ``ConfigError`` names what is wrong."""
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if url == "" or scheme == "sqlite":
        return SqliteStore(_sqlite_path(url, data_dir), now=now)
    if scheme in ("postgres", "postgresql"):
        return _postgres(url, now)
    raise ConfigError(
        f"store URL {url!r} is not supported: use sqlite:///path/state.db or postgresql://…"
    )


def store_file(url: str, *, data_dir: Path) -> Path | None:
    """The file the store ``url`` names keeps its data in (SQLite's), or None (a server)."""
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    return _sqlite_path(url, data_dir) if url == "" or scheme == "sqlite" else None


def _sqlite_path(url: str, data_dir: Path) -> Path:
    if url == "":
        return data_dir / DEFAULT_SQLITE_FILE
    # sqlite:///abs/file.db → /abs/file.db ; sqlite:rel.db or sqlite://rel.db → data_dir/rel.db
    rest = url.partition(":")[2]
    if rest.startswith("//"):
        rest = rest[2:]
    if rest in ("", "/"):
        return data_dir / DEFAULT_SQLITE_FILE
    path = Path(rest)
    return path if path.is_absolute() else data_dir / path


def _postgres(url: str, now: Clock) -> Store:
    try:
        from skylet.store.postgres import PostgresStore
    except ImportError as error:
        raise ConfigError(
            f"store URL {_redact(url)!r} needs the PostgreSQL driver: "
            "pip install 'skylet[postgres]'"
        ) from error
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((value for key, value in query if key == "schema"), DEFAULT_SCHEMA)
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, rest, parts.fragment))
    return PostgresStore(conninfo, schema=schema, now=now)


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
