"""VersionKeeper with a real SQLite store: a published version keeps the code it was published
with, and versions and aliases survive a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import cast

import pytest

from skylet.aws.lambda_versions import VersionKeeper, config_from_record, config_record
from skylet.config import AsyncConfig, Destination, FunctionConfig
from skylet.errors import InvalidParameterValue
from skylet.invoker.invoker import Invoker
from skylet.invoker.versions import Alias, VersionTable
from skylet.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio


def _keeper(store: SqliteStore, root: Path) -> VersionKeeper:
    invoker = cast(Invoker, SimpleNamespace(versions=VersionTable()))
    return VersionKeeper(invoker, store, root / "versions", now=lambda: 1000.0)


def _function(code: Path) -> FunctionConfig:
    return FunctionConfig(
        "echo",
        "app.handler",
        code,
        environment=MappingProxyType({"A": "1"}),
        extra_path=("/deps/x",),
        async_config=AsyncConfig(on_failure=Destination("function", "other", "live")),
    )


def test_a_configuration_survives_its_record() -> None:
    fn = _function(Path("/code"))
    assert config_from_record(config_record(fn)) == fn
    assert config_from_record({**config_record(fn), "added_later": 1}) == fn


async def test_a_published_version_keeps_its_code_and_survives_a_restart(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("VERSION = 1\n")
    fn = _function(code)
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    keeper = _keeper(store, tmp_path)
    await keeper.load()
    first = await keeper.publish(fn, "first", None)
    assert await keeper.publish(fn, "again", None) == first  # nothing changed: no new version
    (code / "app.py").write_text("VERSION = 2\n")
    second = await keeper.publish(fn, "second", None)
    await keeper.put_alias("echo", Alias("live", "1", weights=MappingProxyType({"2": 0.5})))
    await keeper.put_alias("echo", Alias("gone", "2"))
    await keeper.delete_alias("echo", "gone")
    await store.aclose()

    assert (first.number, second.number) == ("1", "2")
    assert (first.config.code_dir / "app.py").read_text() == "VERSION = 1\n"
    assert first.code_sha256 != second.code_sha256
    assert first.config.provisioned_concurrency == 0

    reopened = SqliteStore(tmp_path / "state.db")
    await reopened.start()
    again = _keeper(reopened, tmp_path)
    assert await again.load() == 5
    await reopened.aclose()
    assert again.table.versions("echo") == [first, second]
    assert [a.name for a in again.table.aliases("echo")] == ["live"]
    assert again.table.resolve("echo", "live", 0.1) == "2"
    assert again.table.next_number("echo") == "3"


async def test_a_stale_code_sha256_is_refused(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("x = 1\n")
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    keeper = _keeper(store, tmp_path)
    try:
        with pytest.raises(InvalidParameterValue, match="is different from current CodeSHA256"):
            await keeper.publish(_function(code), "", "c3RhbGU=")
    finally:
        await store.aclose()


async def test_without_a_store_versions_are_refused(tmp_path: Path) -> None:
    keeper = _keeper(cast(SqliteStore, None), tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    with pytest.raises(InvalidParameterValue, match="durable store"):
        await keeper.publish(dataclasses.replace(_function(code)), "", None)


async def test_a_code_tree_too_large_to_copy_is_refused_and_has_no_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("skylet.build.snapshots.MAX_FILES", 2)
    code = tmp_path / "code"
    code.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (code / name).write_text("x = 1\n")
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    keeper = _keeper(store, tmp_path)
    try:
        assert await keeper.digest(_function(code)) == ("", 0)
        with pytest.raises(InvalidParameterValue, match="more than 2 files"):
            await keeper.publish(_function(code), "", None)
    finally:
        await store.aclose()
