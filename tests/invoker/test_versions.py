"""Which version an invocation of a qualifier runs: the table and the weighted pick."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import pytest

from skylet.config import FunctionConfig
from skylet.invoker.versions import Alias, PublishedVersion, VersionTable, pick

FN = FunctionConfig("echo", "handlers.echo", Path("/code"))


def _table() -> VersionTable:
    table = VersionTable()
    for number in ("1", "2"):
        config = dataclasses.replace(FN, version=number)
        table.add(PublishedVersion(config, "", "sha", 1, 0.0))
    table.put_alias("echo", Alias("live", "1", weights=MappingProxyType({"2": 0.25})))
    table.put_alias("echo", Alias("edge", "$LATEST"))
    return table


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(0.0, "2"), (0.2499, "2"), (0.25, "1"), (0.999, "1")],
    ids=[
        "the lowest draw goes to the additional version",
        "draws below its weight go to it",
        "a draw at its weight goes to the alias's own version",
        "the highest draws go to the alias's own version",
    ],
)
def test_an_alias_with_weights_splits_its_draws(draw: float, expected: str) -> None:
    alias = Alias("live", "1", weights=MappingProxyType({"2": 0.25}))
    assert pick(alias, draw) == expected


@pytest.mark.parametrize(
    ("qualifier", "expected"),
    [("$LATEST", "$LATEST"), ("2", "2"), ("3", None), ("live", "1"), ("edge", "$LATEST"),
     ("gone", None)],
    ids=[
        "$LATEST is itself",
        "a published version is itself",
        "an unpublished number names nothing",
        "an alias names its version",
        "an alias may name $LATEST",
        "an unknown alias names nothing",
    ],
)  # fmt: skip
def test_a_qualifier_resolves_to_a_version(qualifier: str, expected: str | None) -> None:
    assert _table().resolve("echo", qualifier, 0.9) == expected


def test_numbers_are_never_reused() -> None:
    table = _table()
    assert table.next_number("echo") == "3"
    assert table.next_number("other") == "1"
    assert [v.number for v in table.versions("echo")] == ["1", "2"]
