"""``useDotenv: true``: the variables of a ``.env`` file beside serverless.yml, for ``${env:X}``.

As the Serverless Framework (v3) loads them: ``.env.{stage}`` when it exists, else ``.env``, never
both; the stage is the CLI stage, else ``provider.stage`` as written, else ``dev``. Variables
already in the environment win over the file's (dotenv never overrides them), and ``${NAME}`` in
a value expands from the environment and the file's earlier lines, as dotenv-expand does.

Files are parsed by python-dotenv. Nothing here reads ``os.environ``: the caller's ``env`` is the
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from dotenv.variables import parse_variables

from skylet.errors import ConfigError
from skylet.manifest.diagnostics import Source, show


def with_dotenv(
    data: Mapping[str, Any], source: Source, *, cli_stage: str | None, env: Mapping[str, str]
) -> dict[str, str]:
    """``env`` with the variables of the manifest's ``.env`` file under it, when the manifest
    sets ``useDotenv: true``; ``env`` itself otherwise."""
    use = data.get("useDotenv", False)
    if not isinstance(use, bool):
        raise source.error(("useDotenv",), f"{show(use)} is not a boolean (allowed: true, false)")
    if not use:
        return dict(env)
    path = dotenv_file(source.file.parent, _stage(data, cli_stage))
    return {**read_dotenv(path, env), **env} if path is not None else dict(env)


def dotenv_file(root: Path, stage: str) -> Path | None:
    """``.env.{stage}`` if it exists, else ``.env`` if it exists."""
    for path in (root / f".env.{stage}", root / ".env"):
        if path.is_file():
            return path
    return None


def read_dotenv(path: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The file's variables, each ``${NAME}`` expanded from ``env`` (first) and earlier lines."""
    try:
        raw = dotenv_values(path, interpolate=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read the file: {exc}") from exc
    values: dict[str, str] = {}
    for name, value in raw.items():
        if value is None:
            continue  # a name without `=`: no value
        scope: dict[str, str | None] = {**values, **env}
        values[name] = "".join(atom.resolve(scope) for atom in parse_variables(value))
    return values


def _stage(data: Mapping[str, Any], cli_stage: str | None) -> str:
    if cli_stage:
        return cli_stage
    provider = data.get("provider")
    stage = provider.get("stage") if isinstance(provider, Mapping) else None
    # The file is chosen before variables resolve: a stage that is a variable counts as unset.
    if isinstance(stage, str) and stage and "${" not in stage:
        return stage
    return "dev"
