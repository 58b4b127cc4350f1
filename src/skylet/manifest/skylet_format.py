"""Read skylet's own ``skylet.yaml`` (already variable-resolved) into a Manifest.

The format is documented in docs/manifest.md. Its rule is simple: a function's keys are the
``FunctionSpec`` field names (``code`` for ``code_dir``), an event's keys are the event model's
field names, and ``defaults`` supplies any function key a function leaves out. Defaults are
Lambda's: 128 MB, 3 s, region us-east-1, stage dev. Every unknown key is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skylet.config import DEFAULT_REGION
from skylet.manifest.assemble import (
    FunctionDraft,
    as_mapping,
    assemble,
    code_dir,
    merge_environment,
    read_events,
    read_schedules,
)
from skylet.manifest.diagnostics import KeyPath, Source, show
from skylet.manifest.logging_config import CLOUDFORMATION_KEYS, read_logging
from skylet.manifest.model import Manifest
from skylet.manifest.resources import parse_resources
from skylet.manifest.validation import check_keys

TOP_LEVEL_KEYS = (
    "service",
    "stage",
    "region",
    "binary_media_types",
    "timezone",
    "defaults",
    "functions",
    "resources",
    "outputs",
    "custom",
    "iam",
    "params",
)
DEFAULTS: Mapping[str, Any] = {
    "runtime": None,  # the platform's default (skylet.pool.runtimes: the newest installed)
    "style": "lambda",
    "memory_size": 128,
    "timeout_s": 3,
}
# Function keys copied as they are (the key is the FunctionSpec field name).
PLAIN_KEYS = (
    "name",
    "handler",
    "runtime",
    "style",
    "memory_size",
    "timeout_s",
    "reserved_concurrency",
    "provisioned_concurrency",
    "description",
    "maximum_retry_attempts",
    "maximum_event_age_s",
    "on_success",
    "on_failure",
    "ephemeral_storage_size",
    "network",
    "snap_start",
    "log_retention_days",
    "architecture",
    "annotations",
)
FUNCTION_KEYS = (
    *PLAIN_KEYS,
    "code",
    "environment",
    "events",
    "provisioned_concurrency_schedules",
    "logging",
    "layers",
)
DEFAULTABLE_KEYS = (
    "runtime",
    "style",
    "code",
    "memory_size",
    "timeout_s",
    "environment",
    "maximum_retry_attempts",
    "maximum_event_age_s",
    "ephemeral_storage_size",
    "network",
    "snap_start",
    "log_retention_days",
    "logging",
    "architecture",
)
_RUNTIME = re.compile(r"^(?:python3\.\d+|provided(?:\.al2|\.al2023)?|go1\.x|nodejs2[02]\.x)$")
_FUNCTION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def from_skylet(
    data: Mapping[str, Any], source: Source, *, cli_stage: str | None, cli_region: str | None
) -> Manifest:
    """Build the Manifest of a resolved skylet.yaml document."""
    data = check_keys(data, TOP_LEVEL_KEYS, source=source, at=())
    header: dict[str, tuple[Any, KeyPath]] = {
        "service": (data.get("service"), ("service",)),
        "stage": (cli_stage or data.get("stage", "dev"), ("stage",)),
        "region": (cli_region or data.get("region", DEFAULT_REGION), ("region",)),
        "binary_media_types": (data.get("binary_media_types"), ("binary_media_types",)),
        "timezone": (data.get("timezone"), ("timezone",)),
    }
    defaults = check_keys(
        as_mapping(data.get("defaults"), ("defaults",), source),
        DEFAULTABLE_KEYS,
        source=source,
        at=("defaults",),
    )
    merge_environment([(defaults.get("environment"), ("defaults", "environment"))], source)
    resources = parse_resources(
        data.get("resources"), source=source, at=("resources",), serverless=False
    )
    resource_types = {k: r.type for k, r in resources.items()}
    functions = as_mapping(data.get("functions"), ("functions",), source)
    layers = _layers(data.get("layers"), source)
    drafts = [
        _read_function(key, body, defaults, source, resource_types, layers)
        for key, body in functions.items()
    ]
    extra = {
        "custom": as_mapping(data.get("custom"), ("custom",), source),
        "outputs": as_mapping(data.get("outputs"), ("outputs",), source),
        "iam": as_mapping(data.get("iam"), ("iam",), source),
    }
    return assemble(
        source=source,
        format="skylet",
        header=header,
        drafts=drafts,
        resources=resources,
        extra=extra,
    )


def _layers(value: Any, source: Source) -> dict[str, Path]:
    """Top-level ``layers``: name -> a directory or zip file, relative to the manifest."""
    layers: dict[str, Path] = {}
    for name, where in as_mapping(value, ("layers",), source).items():
        if not isinstance(where, str) or not where:
            raise source.error(("layers", name), f"{show(where)} is not a path")
        path = (source.file.parent / where).resolve()
        if not path.exists():
            raise source.error(("layers", name), f"{show(where)} does not exist")
        layers[str(name)] = path
    return layers


def _function_layers(
    value: Any, layers: Mapping[str, Path], source: Source, at: KeyPath
) -> tuple[Path, ...]:
    if not isinstance(value, list):
        raise source.error(at, f"{show(value)} is not a list of layer names")
    for i, name in enumerate(value):
        if name not in layers:
            known = ", ".join(layers) or "none declared"
            raise source.error((*at, i), f"{show(name)} is not a layer (allowed: {known})")
    return tuple(layers[name] for name in value)


def _read_function(
    key: str,
    body: Any,
    defaults: Mapping[str, Any],
    source: Source,
    resource_types: Mapping[str, str],
    layers: Mapping[str, Path],
) -> FunctionDraft:
    at: KeyPath = ("functions", key)
    if not _FUNCTION_KEY.match(key):
        raise source.error(at, f"{key!r} is not a function key (allowed: letters, digits, - and _)")
    if isinstance(body, str):
        body = {"handler": body}  # `api: handlers/api.handler` is the whole definition
    if not isinstance(body, Mapping):
        raise source.error(at, f"{show(body)} is not a function definition (a mapping)")
    body = check_keys(body, FUNCTION_KEYS, source=source, at=at)
    draft = FunctionDraft(key, at)
    draft.set("key", key, at)
    draft.set("name", key, at)
    draft.paths["handler"] = (*at, "handler")
    for name, value in DEFAULTS.items():
        draft.set(name, value, at)
    for name in DEFAULTABLE_KEYS:
        if name in defaults and name not in ("code", "environment", "logging"):
            draft.set(name, defaults[name], ("defaults", name))
    for name in PLAIN_KEYS:
        if name in body:
            draft.set(name, body[name], (*at, name))
    runtime = draft.values["runtime"]
    if isinstance(runtime, str) and not _RUNTIME.match(runtime):
        raise source.error(
            draft.paths["runtime"],
            f"{show(runtime)} is not a runtime (allowed: python3.N, provided, provided.al2, "
            "provided.al2023, go1.x, nodejs20.x, nodejs22.x)",
        )
    root = source.file.parent
    if "code" in body:
        code_at: KeyPath = (*at, "code")
        draft.set("code_dir", code_dir(root, body["code"], source, code_at), code_at)
    elif "code" in defaults:
        code_at = ("defaults", "code")
        draft.set("code_dir", code_dir(root, defaults["code"], source, code_at), code_at)
    else:
        draft.set("code_dir", root, at)
    env, refs = merge_environment(
        [
            (defaults.get("environment"), ("defaults", "environment")),
            (body.get("environment"), (*at, "environment")),
        ],
        source,
    )
    draft.set("environment", env, (*at, "environment"))
    draft.set("environment_refs", refs, (*at, "environment"))
    read_logging(
        [
            (defaults.get("logging"), ("defaults", "logging")),
            (body.get("logging"), (*at, "logging")),
        ],
        CLOUDFORMATION_KEYS,
        draft,
        source,
    )
    if "layers" in body:
        draft.set("layers", _function_layers(body["layers"], layers, source, (*at, "layers")), at)
    schedules_at = (*at, "provisioned_concurrency_schedules")
    read_schedules(
        body.get("provisioned_concurrency_schedules"),
        draft,
        source,
        at=schedules_at,
        serverless=False,
    )
    read_events(
        body.get("events"),
        draft,
        source,
        serverless=False,
        mode="error",
        resource_types=resource_types,
    )
    return draft
