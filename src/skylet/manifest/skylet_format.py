"""Read skylet's own ``skylet.yaml`` (already variable-resolved) into a Manifest.

The format is documented in docs/manifest.md. Its rule is simple: a function's keys are the
``FunctionSpec`` field names (``code`` for ``code_dir``), an event's keys are the event model's
field names, and ``defaults`` supplies any function key a function leaves out. Defaults are
Lambda's: 128 MB, 3 s, region us-east-1, stage dev. Every unknown key is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from skylet.manifest.model import DEFAULT_RUNTIME, Manifest
from skylet.manifest.resources import parse_resources
from skylet.manifest.validation import check_keys

TOP_LEVEL_KEYS = (
    "service",
    "stage",
    "region",
    "binary_media_types",
    "defaults",
    "functions",
    "resources",
    "outputs",
    "custom",
    "iam",
    "params",
)
DEFAULTS: Mapping[str, Any] = {
    "runtime": DEFAULT_RUNTIME,
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
    "annotations",
)
FUNCTION_KEYS = (*PLAIN_KEYS, "code", "environment", "events", "provisioned_concurrency_schedules")
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
)
_RUNTIME = re.compile(r"^(?:python3\.\d+|provided(?:\.al2|\.al2023)?)$")
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
    drafts = [
        _read_function(key, body, defaults, source, resource_types)
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


def _read_function(
    key: str,
    body: Any,
    defaults: Mapping[str, Any],
    source: Source,
    resource_types: Mapping[str, str],
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
        if name in defaults and name not in ("code", "environment"):
            draft.set(name, defaults[name], ("defaults", name))
    for name in PLAIN_KEYS:
        if name in body:
            draft.set(name, body[name], (*at, name))
    runtime = draft.values["runtime"]
    if isinstance(runtime, str) and not _RUNTIME.match(runtime):
        raise source.error(
            draft.paths["runtime"],
            f"{show(runtime)} is not a runtime (allowed: python3.N, provided, provided.al2, "
            "provided.al2023)",
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
