"""``open_store``: which store a ``--store`` URL builds; nothing is opened by building."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.store import open_store
from skylet.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("", "data/state.db", id="empty URL is state.db in the data dir"),
        pytest.param("sqlite://", "data/state.db", id="bare sqlite scheme is the default file"),
        pytest.param("sqlite:///abs/other.db", "/abs/other.db", id="absolute sqlite path"),
        pytest.param("sqlite:rel.db", "data/rel.db", id="relative path is under the data dir"),
    ],
)
def test_sqlite_urls_name_a_file(url: str, expected: str) -> None:
    store = open_store(url, data_dir=Path("data"))
    assert isinstance(store, SqliteStore)
    assert store.path == Path(expected)
    assert not Path("data").exists()  # built, not opened


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_build_a_postgres_store_without_connecting(scheme: str) -> None:
    from skylet.store.postgres import PostgresStore

    store = open_store(f"{scheme}://u:pw@db.invalid:5432/app?schema=tenant_a", data_dir=Path())
    assert isinstance(store, PostgresStore)
    assert store.schema == "tenant_a"


def test_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not supported"):
        open_store("mysql://localhost/db", data_dir=Path())


def test_invalid_schema_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="schema"):
        open_store("postgresql://localhost/db?schema=Robert'); DROP", data_dir=Path())


def test_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith(("psycopg", "skylet.store.postgres")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what a missing package looks like

    with pytest.raises(ConfigError) as raised:
        open_store("postgresql://user:secret@localhost/db", data_dir=Path())

    assert "pip install 'skylet[postgres]'" in str(raised.value)
    assert "secret" not in str(raised.value)
