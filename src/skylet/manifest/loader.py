"""Find and load a manifest: parse YAML, resolve variables, read the format, validate.

``load_manifest`` is the only entry point that touches the file system (plus ``${file(...)}``
and ``code:`` checks). It never reads ``os.environ``: the caller passes ``env``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from skylet.errors import ConfigError
from skylet.manifest.env_files import with_dotenv
from skylet.manifest.model import Manifest
from skylet.manifest.serverless import from_serverless
from skylet.manifest.skylet_format import from_skylet
from skylet.manifest.variables import VariableContext, resolve_variables
from skylet.manifest.yaml_loader import load_yaml

MANIFEST_NAMES = ("skylet.yaml", "skylet.yml", "serverless.yml", "serverless.yaml")
"""File names ``find_manifest`` looks for, in order of preference."""


def find_manifest(directory: Path) -> Path:
    """The manifest in ``directory``: the first of MANIFEST_NAMES that exists.

    Raises ConfigError when the directory does not exist or holds none of them.
    """
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory")
    for name in MANIFEST_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{directory}: no manifest found (allowed: {', '.join(MANIFEST_NAMES)})")


def load_manifest(
    path: Path,
    *,
    stage: str | None = None,
    options: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Manifest:
    """Load, resolve and validate the manifest at ``path``.

    ``stage`` overrides the manifest's stage (it is also ``${opt:stage}``); ``options`` are CLI
    ``--opt`` values for ``${opt:x}`` (``region`` overrides the region); ``env`` serves
    ``${env:X}``, over a serverless.yml's ``.env`` file with ``useDotenv: true`` (env_files).
    Every problem raises ConfigError naming file, line, key path, the bad value and what is
    allowed.
    """
    path = Path(path).absolute()
    opts = dict(options or {})
    cli_stage = stage if stage is not None else opts.get("stage")
    if cli_stage is not None:
        if not isinstance(cli_stage, str) or not cli_stage:
            raise ConfigError(f"stage {cli_stage!r} is not a stage name")
        opts["stage"] = cli_stage
    cli_region = opts.get("region")
    data, source = load_yaml(path)
    if data is None:
        raise ConfigError(f"{path.name}:1: the manifest is empty")
    if not isinstance(data, dict):
        raise source.error((), "the manifest must be a mapping of keys to values")
    kind = _format_of(path, data)
    context = VariableContext(
        root=path.parent,
        stage_path=("provider", "stage") if kind == "serverless" else ("stage",),
        region_path=("provider", "region") if kind == "serverless" else ("region",),
        options=opts,
        env=(
            with_dotenv(data, source, cli_stage=cli_stage, env=env or {})
            if kind == "serverless"
            else dict(env or {})
        ),
        cli_stage=cli_stage,
        cli_region=cli_region,
    )
    resolved = resolve_variables(data, source, context)
    read = from_serverless if kind == "serverless" else from_skylet
    return read(resolved, source, cli_stage=cli_stage, cli_region=cli_region)


def _format_of(path: Path, data: Mapping[str, Any]) -> Literal["skylet", "serverless"]:
    name = path.name.lower()
    if name.startswith("serverless"):
        return "serverless"
    if name.startswith("skylet"):
        return "skylet"
    # Any other name: a serverless.yml always has `provider` (or a framework version pin).
    return "serverless" if "provider" in data or "frameworkVersion" in data else "skylet"
