"""From a loaded manifest to the function versions the invoker runs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from skylet.autoscale.functions import for_function
from skylet.build import layers
from skylet.build.deps import ensure_installed
from skylet.config import (
    HOST_RUNTIME,
    AsyncConfig,
    Destination,
    FunctionConfig,
    LoggingConfig,
    parse_destination,
)
from skylet.errors import ConfigError
from skylet.manifest import Manifest
from skylet.manifest.intrinsics import Intrinsic

Interpreter = Callable[[str], str | None]
"""The Python that runs a runtime's functions (None: the platform's own), or ConfigError saying
why none can (skylet.pool.runtimes)."""

Resolver = Callable[[Intrinsic], str | None]
"""What a ``Ref``/``Fn::GetAtt`` in a function's environment stands for (a queue's URL or
ARN), or None when nothing the platform runs answers it (the variable is then left out)."""


async def build_functions(
    manifest: Manifest,
    *,
    deps_root: Path,
    progress: Callable[[str], None] = lambda _: None,
    resolve: Resolver = lambda _: None,
    default_runtime: str = HOST_RUNTIME,
    interpreter: Interpreter = lambda _: None,
) -> list[FunctionConfig]:
    """One FunctionConfig per manifest function, with its requirements.txt installed and the
    intrinsics of its environment resolved; ``default_runtime`` for those that name none.
    A runtime ``interpreter`` refuses is a ConfigError naming the function."""
    functions = []
    installed: dict[tuple[Path, str | None], str] = {}
    for spec in manifest.functions.values():
        runtime = spec.runtime or default_runtime
        try:
            python = interpreter(runtime)
        except ConfigError as error:
            raise ConfigError(f"{manifest.source}: functions.{spec.key}: {error}") from None
        extra: tuple[str, ...] = ()
        requirements = spec.code_dir / "requirements.txt"
        if requirements.is_file():
            if (requirements, python) not in installed:
                # Installed by the function's own interpreter (compiled packages are built for
                # one Python), each interpreter's in a cache of its own.
                root = deps_root if python is None else deps_root / runtime
                target = await ensure_installed(
                    requirements, root, python=python or sys.executable, progress=progress
                )
                installed[requirements, python] = str(target)
            extra = (installed[requirements, python],)
        scale = for_function(
            spec.annotations,
            spec.provisioned_concurrency,
            spec.reserved_concurrency,
            where=f"{manifest.source.name}: functions.{spec.key}.annotations",
        )
        functions.append(
            FunctionConfig(
                name=spec.name,
                handler=spec.handler,
                code_dir=layers.unpack([spec.artifact], deps_root.parent / "artifacts")
                if spec.artifact
                else spec.code_dir,
                memory_mb=spec.memory_size,
                timeout_s=spec.timeout_s,
                environment=MappingProxyType(
                    _environment(spec.environment, spec.environment_refs, resolve)
                ),
                reserved_concurrency=scale.reserved,
                provisioned_concurrency=scale.provisioned,
                keepalive_s=scale.keepalive_s,
                runtime=runtime,
                style=spec.style,
                extra_path=extra,
                aliases=(spec.key,) if spec.key != spec.name else (),
                region=manifest.region,
                ephemeral_storage_mb=spec.ephemeral_storage_size,
                network=spec.network,
                snap_start=spec.snap_start,
                logging=LoggingConfig(
                    log_format=spec.log_format,
                    application_log_level=spec.application_log_level,
                    system_log_level=spec.system_log_level,
                    log_group=spec.log_group,
                    retention_days=spec.log_retention_days,
                ),
                opt_dir=str(layers.unpack(spec.layers, deps_root.parent / "layers"))
                if spec.layers
                else None,
                architecture=spec.architecture,
                async_config=AsyncConfig(
                    maximum_retry_attempts=spec.maximum_retry_attempts,
                    maximum_event_age_s=spec.maximum_event_age_s,
                    on_success=_destination(manifest, spec.on_success, spec.key, "onSuccess"),
                    on_failure=_destination(manifest, spec.on_failure, spec.key, "onFailure"),
                ),
            )
        )
    return functions


_RESOURCE_KINDS = {"AWS::SQS::Queue": "queue", "AWS::SNS::Topic": "topic"}


def _environment(
    values: Mapping[str, str], refs: Mapping[str, Intrinsic], resolve: Resolver
) -> dict[str, str]:
    environment = dict(values)
    for name, ref in refs.items():
        resolved = resolve(ref)
        if resolved is not None:
            environment[name] = resolved
    return environment


def _destination(
    manifest: Manifest, value: str | Intrinsic | None, key: str, which: str
) -> Destination | None:
    """A destination from the manifest: a function key or name, an ARN, or a reference to a
    queue or topic declared in ``resources``."""
    if value is None:
        return None
    where = f"functions.{key}.destinations.{which}"
    if isinstance(value, Intrinsic):
        resource = manifest.resolve_ref(value)
        kind = _RESOURCE_KINDS.get(resource.type) if resource is not None else None
        if resource is None or kind is None:
            raise ConfigError(
                f"{manifest.source}: {where}: {value} is not a declared queue or topic"
            )
        name = resource.name_in(manifest.service, manifest.stage)
        return parse_destination(f"{kind}:{name}", key=where)
    function = manifest.find_function(value)
    if function is not None:
        return parse_destination(function.name, key=where)
    return parse_destination(value, key=where)


#: A destination the manifest names (function, ARN, declared queue or topic), for the event
#: sources' on-failure destinations too.
manifest_destination = _destination
