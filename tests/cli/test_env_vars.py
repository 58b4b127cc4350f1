"""``--env-vars`` (SAM's format) and ``--env``: parsing, precedence, what a function gets."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import click
import pytest

from skylet.cli.env_vars import overrides, parse_env_vars, parse_pairs
from skylet.errors import ConfigError
from skylet.platform_config import with_overrides
from tests.runtime_fixtures import fn


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"Parameters": {"STAGE": "dev"}}', {"*": {"STAGE": "dev"}}),
        ('{"orders": {"TABLE": "t"}}', {"orders": {"TABLE": "t"}}),
        (
            '{"Parameters": {"N": 2.0, "ON": true, "X": 1.5}, "f": {"N": 3}}',
            {"*": {"N": "2", "ON": "true", "X": "1.5"}, "f": {"N": "3"}},
        ),
        ("{}", {}),
    ],
    ids=[
        "parameters_go_to_every_function",
        "a_function_key_goes_to_that_function",
        "numbers_and_booleans_are_stringified_as_a_manifest_does",
        "an_empty_document_overrides_nothing",
    ],
)
def test_sam_env_vars_documents_parse(document: str, expected: object) -> None:
    assert parse_env_vars(document, "env.json") == expected


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("not json", "env.json: not JSON"),
        ("[1]", "env.json: expected an object"),
        ('{"f": "x"}', "env.json: f: expected an object"),
        ('{"f": {"A": [1]}}', "env.json: f.A: expected a string, number or boolean"),
    ],
    ids=["not_json", "not_an_object", "a_function_that_is_no_object", "a_list_value"],
)
def test_a_bad_env_vars_document_names_the_file_and_key(document: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_env_vars(document, "env.json")


def test_env_items_win_over_the_file_even_a_functions_own(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{"Parameters": {"A": "file", "B": "file"}, "f": {"A": "f"}}')
    found = overrides(str(path), ("A=cli",))
    assert found["*"] == {"A": "cli", "B": "file"}
    assert found["f"] == {"A": "cli"}


def test_a_missing_env_vars_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--env-vars .*missing\.json"):
        overrides(str(tmp_path / "missing.json"), ())


def test_a_pair_without_an_equals_sign_is_a_usage_error() -> None:
    assert parse_pairs(("A=1", "B==2", "C="), "--env") == {"A": "1", "B": "=2", "C": ""}
    with pytest.raises(click.BadParameter):
        parse_pairs(("A",), "--env")


def test_a_functions_own_variables_win_over_every_functions_and_the_manifests() -> None:
    function = fn("orders", "handlers.echo", environment=MappingProxyType({"A": "m", "K": "m"}))
    function = with_overrides(
        function, {"*": {"A": "all", "B": "all"}, "orders": {"B": "own"}, "other": {"C": "x"}}
    )
    assert dict(function.environment) == {"A": "all", "K": "m", "B": "own"}


def test_an_alias_names_the_function_too() -> None:
    function = fn("svc-dev-orders", "handlers.echo", aliases=("orders",))
    assert dict(with_overrides(function, {"orders": {"A": "1"}}).environment) == {"A": "1"}


def test_no_overrides_leave_the_function_as_it_is() -> None:
    function = fn("orders", "handlers.echo")
    assert with_overrides(function, {"other": {"A": "1"}}) is function
