"""Read a Serverless Framework ``serverless.yml`` (already variable-resolved) into a Manifest.

What is read: ``service``, ``provider`` (``name: aws``, ``stage``, ``region``, ``runtime``,
``memorySize``, ``timeout``, ``environment``, ``iam``), ``functions`` (see ``FUNCTION_KEYS``),
``resources`` (``Resources``/``Outputs``, or a list of such mappings), ``custom``. Defaults are
the framework's: 1024 MB, 6 s, region us-east-1, stage dev. Other provider and top-level keys
configure AWS deployment and are ignored. Function and event keys are checked: a key that is
neither used nor a documented Serverless key is an error unless ``configValidationMode`` is
``warn`` or ``off``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from skylet.config import DEFAULT_REGION
from skylet.manifest.assemble import (
    FunctionDraft,
    as_mapping,
    assemble,
    merge_environment,
    read_events,
    read_schedules,
)
from skylet.manifest.diagnostics import KeyPath, Source, show
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.logging_config import SERVERLESS_KEYS, read_logging
from skylet.manifest.model import Manifest
from skylet.manifest.resources import Resource, parse_resources
from skylet.manifest.validation import Mode, check_keys

#: A runtime left unsaid is the platform's default (skylet.pool.runtimes: the newest installed).
DEFAULTS: Mapping[str, Any] = {
    "runtime": None,
    "memory_size": 1024,
    "timeout_s": 6,
    "architecture": "x86_64",
}
# serverless.yml function key -> FunctionSpec field, for keys copied as they are.
FUNCTION_KEYS: Mapping[str, str] = {
    "name": "name",
    "handler": "handler",
    "runtime": "runtime",
    "description": "description",
    "memorySize": "memory_size",
    "timeout": "timeout_s",
    "reservedConcurrency": "reserved_concurrency",
    "provisionedConcurrency": "provisioned_concurrency",
    "maximumRetryAttempts": "maximum_retry_attempts",
    "maximumEventAge": "maximum_event_age_s",
    "ephemeralStorageSize": "ephemeral_storage_size",
    "snapStart": "snap_start",
    "logRetentionInDays": "log_retention_days",
    "architecture": "architecture",
    # skylet's own: a function with no network (the framework warns about the key).
    "network": "network",
}
_SPECIAL_KEYS = (
    "environment",
    "events",
    "destinations",
    "provisionedConcurrencySchedules",
    "logs",
    "layers",
    "package",
)
# provider key -> FunctionSpec field it supplies a default for.
PROVIDER_DEFAULTS: Mapping[str, str] = {
    "runtime": "runtime",
    "memorySize": "memory_size",
    "timeout": "timeout_s",
    "logRetentionInDays": "log_retention_days",
    "architecture": "architecture",
}
# Documented Serverless function keys for AWS features skylet does not emulate.
FUNCTION_IGNORED = frozenset(
    {
        "vpc",
        "tags",
        "role",
        "url",
        "tracing",
        "logDataProtectionPolicy",
        "disableLogs",
        "kmsKeyArn",
        "condition",
        "dependsOn",
        "onError",
        "fileSystemConfig",
        "versionFunction",
        "runtimeManagement",
        "skipIamRole",
    }
)
_TEMPLATE_SECTIONS = (
    "Resources",
    "Outputs",
    "Conditions",
    "Mappings",
    "Parameters",
    "Description",
    "Metadata",
    "Transform",
    "AWSTemplateFormatVersion",
    "extensions",
)
# The framework's top-level keys (v3's schema, with the AWS provider's): the ones skylet reads,
# and the ones that configure deployment or the framework itself and are accepted unread.
TOP_LEVEL_KEYS = ("service", "provider", "functions", "resources", "custom", "params", "layers")
TOP_LEVEL_IGNORED = frozenset(
    {
        "app",
        "org",
        "console",
        "dashboard",
        "frameworkVersion",
        "configValidationMode",
        "deprecationNotificationMode",
        "disabledDeprecations",
        "unresolvedVariablesNotificationMode",
        "variablesResolutionMode",
        "enableLocalInstallationFallback",
        "useDotenv",
        "projectDir",
        "package",
        "plugins",
        "outputs",
        "stages",
        "build",
        "license",
    }
)
_FUNCTION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def from_serverless(
    data: Mapping[str, Any], source: Source, *, cli_stage: str | None, cli_region: str | None
) -> Manifest:
    """Build the Manifest of a resolved serverless.yml document."""
    mode = validation_mode(data, source)
    check_keys(data, TOP_LEVEL_KEYS, source=source, at=(), ignored=TOP_LEVEL_IGNORED, mode=mode)
    provider = as_mapping(data.get("provider"), ("provider",), source)
    if provider.get("name", "aws") != "aws":
        raise source.error(
            ("provider", "name"), f"{show(provider['name'])} is not supported (allowed: aws)"
        )
    # Checked here too, so a bad provider environment is reported even with no functions.
    merge_environment([(provider.get("environment"), ("provider", "environment"))], source)
    header = {
        "service": _service(data, source),
        "stage": _setting(provider, "stage", cli_stage, "dev"),
        "region": _setting(provider, "region", cli_region, DEFAULT_REGION),
        "binary_media_types": _binary_media_types(provider, source),
        "timezone": (provider.get("timezone"), ("provider", "timezone")),
    }
    resources, outputs = _resources(data.get("resources"), source)
    reader = _FunctionReader(
        source,
        provider,
        service=str(header["service"][0]),
        stage=str(header["stage"][0]),
        mode=mode,
        resource_types={k: r.type for k, r in resources.items()},
        layers=_layers(data.get("layers"), source),
        artifact=_artifact(data.get("package"), ("package",), source),
    )
    functions = as_mapping(data.get("functions"), ("functions",), source)
    drafts = [reader.read(key, body) for key, body in functions.items()]
    extra = {
        "custom": as_mapping(data.get("custom"), ("custom",), source),
        "outputs": outputs,
        "iam": as_mapping(provider.get("iam"), ("provider", "iam"), source),
    }
    return assemble(
        source=source,
        format="serverless",
        header=header,
        drafts=drafts,
        resources=resources,
        extra=extra,
    )


def layer_logical_id(name: str) -> str:
    """The CloudFormation resource the framework makes of a top-level layer: ``cache`` ->
    ``CacheLambdaLayer`` (``-`` as ``Dash``, ``_`` as ``Underscore``, as it normalises names)."""
    normal = name[:1].upper() + name[1:]
    return normal.replace("-", "Dash").replace("_", "Underscore") + "LambdaLayer"


def _layers(value: Any, source: Source) -> dict[str, Path]:
    """Top-level ``layers``: each one's logical id -> its ``path`` (a directory or zip file)."""
    layers: dict[str, Path] = {}
    for name, body in as_mapping(value, ("layers",), source).items():
        at: KeyPath = ("layers", name)
        body = as_mapping(body, at, source)
        where = body.get("path")
        if not isinstance(where, str) or not where:
            raise source.error((*at, "path"), "a layer needs its path (a directory or zip file)")
        path = (source.file.parent / where).resolve()
        if not path.exists():
            raise source.error((*at, "path"), f"{show(where)} does not exist")
        layers[layer_logical_id(str(name))] = path
    return layers


def _artifact(value: Any, at: KeyPath, source: Source) -> Path | None:
    """``package.artifact``: a zip of the code made beforehand (a Go build's, say); the
    framework's other ``package`` keys (patterns, individually) shape a zip skylet does not
    make, and are accepted unread."""
    artifact = as_mapping(value, at, source).get("artifact")
    if artifact is None:
        return None
    if not isinstance(artifact, str) or not artifact:
        raise source.error((*at, "artifact"), f"{show(artifact)} is not a path to a zip file")
    path = (source.file.parent / artifact).resolve()
    if not path.is_file():
        raise source.error((*at, "artifact"), f"{show(artifact)} is not a file")
    return path


def validation_mode(data: Mapping[str, Any], source: Source) -> Mode:
    """``configValidationMode``: ``warn`` unless set, as in the framework since v2."""
    mode = data.get("configValidationMode", "warn")
    if mode not in ("error", "warn", "off"):
        raise source.error(
            ("configValidationMode",), f"{show(mode)} is not a mode (allowed: error, warn, off)"
        )
    return cast("Mode", mode)


def _binary_media_types(provider: Mapping[str, Any], source: Source) -> tuple[Any, KeyPath]:
    """provider.apiGateway.binaryMediaTypes (the REST API's), with its key path."""
    api = as_mapping(provider.get("apiGateway"), ("provider", "apiGateway"), source)
    return api.get("binaryMediaTypes"), ("provider", "apiGateway", "binaryMediaTypes")


def _service(data: Mapping[str, Any], source: Source) -> tuple[Any, KeyPath]:
    service = data.get("service")
    if isinstance(service, Mapping):  # the pre-v2 form `service: {name: x}`
        return service.get("name"), ("service", "name")
    if service is None:
        # Not a framework default: skylet names the service after the directory, so a
        # fragment with only `functions:` still loads.
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", source.file.parent.name).strip("-_")
        return name or "service", ()
    return service, ("service",)


def _setting(
    provider: Mapping[str, Any], key: str, cli: str | None, default: str
) -> tuple[Any, KeyPath]:
    if cli is not None:
        return cli, ("provider", key)
    return provider.get(key, default), ("provider", key)


def _resources(value: Any, source: Source) -> tuple[dict[str, Resource], dict[str, Any]]:
    """``resources`` is one CloudFormation template fragment or a list of them."""
    items = value if isinstance(value, list) else [value]
    resources: dict[str, Resource] = {}
    outputs: dict[str, Any] = {}
    for index, item in enumerate(items):
        at: KeyPath = ("resources", index) if isinstance(value, list) else ("resources",)
        fragment = check_keys(
            as_mapping(item, at, source), _TEMPLATE_SECTIONS, source=source, at=at
        )
        parsed = parse_resources(
            fragment.get("Resources"), source=source, at=(*at, "Resources"), serverless=True
        )
        for logical_id in parsed.keys() & resources.keys():
            raise source.error(
                (*at, "Resources", logical_id), f"resource {logical_id} is declared twice"
            )
        resources.update(parsed)
        outputs.update(as_mapping(fragment.get("Outputs"), (*at, "Outputs"), source))
    return resources, outputs


class _FunctionReader:
    def __init__(
        self,
        source: Source,
        provider: Mapping[str, Any],
        *,
        service: str,
        stage: str,
        mode: Mode,
        resource_types: Mapping[str, str],
        layers: Mapping[str, Path] | None = None,
        artifact: Path | None = None,
    ) -> None:
        self._layers = layers or {}
        self._artifact = artifact
        self._source = source
        self._provider = provider
        self._service = service
        self._stage = stage
        self._mode = mode
        self._resource_types = resource_types

    def _function_layers(self, value: Any, at: KeyPath) -> tuple[Path, ...]:
        """A function's ``layers``: references to top-level layers (``{Ref: XLambdaLayer}``);
        a layer ARN is published elsewhere, and is skipped with a warning."""
        if not isinstance(value, list):
            raise self._source.error(at, f"{show(value)} is not a list of layers")
        paths = []
        for i, item in enumerate(value):
            ref = item.logical_id if isinstance(item, Intrinsic) else None
            if ref is not None and ref in self._layers:
                paths.append(self._layers[ref])
            elif isinstance(item, str) and item.startswith("arn:"):
                self._source.warn(
                    (*at, i), "a layer ARN is not available locally; skipped", feature="layer ARN"
                )
            else:
                known = ", ".join(f"{{Ref: {k}}}" for k in self._layers) or "none declared"
                raise self._source.error(
                    (*at, i), f"{show(item)} is not a layer of this service (allowed: {known})"
                )
        return tuple(paths)

    def read(self, key: str, body: Any) -> FunctionDraft:
        source, at = self._source, ("functions", key)
        if not _FUNCTION_KEY.match(key):
            raise source.error(
                at, f"{key!r} is not a function key (allowed: letters, digits, - and _)"
            )
        if not isinstance(body, Mapping):
            raise source.error(at, f"{show(body)} is not a function definition (a mapping)")
        if "image" in body and "handler" not in body:
            raise source.error(
                (*at, "image"), "container image functions are not supported (allowed: handler)"
            )
        known = (*FUNCTION_KEYS, *_SPECIAL_KEYS)
        body = check_keys(
            body, known, source=source, at=at, ignored=FUNCTION_IGNORED, mode=self._mode
        )
        draft = FunctionDraft(key, at)
        draft.set("key", key, at)
        draft.set("code_dir", source.file.parent, at)
        draft.paths["handler"] = (*at, "handler")
        for written, name in FUNCTION_KEYS.items():
            if written in body:
                draft.set(name, body[written], (*at, written))
        for written, name in PROVIDER_DEFAULTS.items():
            if name in draft.values:
                continue
            if written in self._provider:
                draft.set(name, self._provider[written], ("provider", written))
            elif name in DEFAULTS:
                draft.set(name, DEFAULTS[name], at)
        if "name" not in draft.values:
            draft.set("name", f"{self._service}-{self._stage}-{key}", at)
        env, refs = merge_environment(
            [
                (self._provider.get("environment"), ("provider", "environment")),
                (body.get("environment"), (*at, "environment")),
            ],
            source,
        )
        draft.set("environment", env, (*at, "environment"))
        draft.set("environment_refs", refs, (*at, "environment"))
        self._destinations(body.get("destinations"), draft)
        provider_logs = as_mapping(self._provider.get("logs"), ("provider", "logs"), source)
        read_logging(
            [
                (provider_logs.get("lambda"), ("provider", "logs", "lambda")),
                (body.get("logs"), (*at, "logs")),
            ],
            SERVERLESS_KEYS,
            draft,
            source,
            mode=self._mode,
        )
        if "layers" in body:
            draft.set("layers", self._function_layers(body["layers"], (*at, "layers")), at)
        artifact = _artifact(body.get("package"), (*at, "package"), source) or self._artifact
        if artifact is not None:
            draft.set("artifact", artifact, (*at, "package"))
        read_schedules(
            body.get("provisionedConcurrencySchedules"),
            draft,
            source,
            at=(*at, "provisionedConcurrencySchedules"),
            serverless=True,
        )
        read_events(
            body.get("events"),
            draft,
            source,
            serverless=True,
            mode=self._mode,
            resource_types=self._resource_types,
        )
        return draft

    def _destinations(self, value: Any, draft: FunctionDraft) -> None:
        at = (*draft.at, "destinations")
        known = {"onSuccess": "on_success", "onFailure": "on_failure"}
        body = as_mapping(value, at, self._source)
        for written, target in check_keys(
            body, known, source=self._source, at=at, mode=self._mode
        ).items():
            draft.set(known[written], target, (*at, written))
