"""``--env-vars FILE`` (SAM's JSON format) and ``--env KEY=VALUE``: variables set over the
manifest's, as ``PlatformConfig.environment_overrides`` takes them. Pure but for reading FILE."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import click

from skylet.errors import ConfigError

#: SAM's key for the variables of every function.
EVERY_FUNCTION = "Parameters"

#: ``-e/--env-vars FILE`` and ``--env KEY=VALUE``, for the commands that run functions.
file_option = click.option(
    "-e",
    "--env-vars",
    "env_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help='Variables over the manifest\'s, SAM\'s JSON: {"Parameters": {...}, "<function>": {...}}.',
)
pair_option = click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VALUE",
    help="A variable for every function, over the manifest and --env-vars (repeatable).",
)


def parse_env_vars(text: str, source: str) -> dict[str, dict[str, str]]:
    """SAM's ``--env-vars`` document: ``{"Parameters": {VAR: value}, "FunctionName": {VAR:
    value}}`` → overrides keyed by function name, ``"*"`` for every function. Numbers and
    booleans become strings as in a manifest (``true`` → ``"true"``, ``2.0`` → ``"2"``);
    anything else is a ConfigError naming ``source`` and the key."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: expected an object of functions, each an object of variables")
    overrides: dict[str, dict[str, str]] = {}
    for name, variables in document.items():
        if not isinstance(variables, dict):
            raise ConfigError(f"{source}: {name}: expected an object of variables")
        key = "*" if name == EVERY_FUNCTION else name
        overrides[key] = {
            var: _value(value, f"{source}: {name}.{var}") for var, value in variables.items()
        }
    return overrides


def _value(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as a manifest's: 2.0 → "2"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(f"{where}: expected a string, number or boolean, not {type(value).__name__}")


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """``KEY=VALUE`` items; a usage error (status 2) for an item without ``=`` or a key."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=option)
        parsed[key] = value
    return parsed


def overrides(env_file: str | None, env: tuple[str, ...]) -> Mapping[str, Mapping[str, str]]:
    """What ``--env-vars FILE`` and the ``--env`` items give: the items go to every function
    and win over the file."""
    found: dict[str, dict[str, str]] = {}
    if env_file is not None:
        path = Path(env_file)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"--env-vars {env_file}: {exc.strerror}") from exc
        found = parse_env_vars(text, str(path))
    if env:
        # Given on the command line: over the file's values, even a function's own.
        given = parse_pairs(env, "--env")
        found["*"] = {**found.get("*", {}), **given}
        for variables in found.values():
            variables.update(given)
    return MappingProxyType({k: MappingProxyType(v) for k, v in found.items()})
