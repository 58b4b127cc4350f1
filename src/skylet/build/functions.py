"""From a loaded manifest to the function versions the invoker runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from skylet.autoscale.functions import for_function
from skylet.build.deps import ensure_installed
from skylet.config import AsyncConfig, Destination, FunctionConfig, parse_destination
from skylet.errors import ConfigError
from skylet.manifest import Manifest
from skylet.manifest.intrinsics import Intrinsic

Resolver = Callable[[Intrinsic], str | None]
"""What a ``Ref``/``Fn::GetAtt`` in a function's environment stands for (a queue's URL or
ARN), or None when nothing the platform runs answers it (the variable is then left out)."""


async def build_functions(
    manifest: Manifest,
    *,
    deps_root: Path,
    progress: Callable[[str], None] = lambda _: None,
    resolve: Resolver = lambda _: None,
) -> list[FunctionConfig]:
    """One FunctionConfig per manifest function, with its requirements.txt installed and the
    intrinsics of its environment resolved."""
    functions = []
    installed: dict[Path, str] = {}
    for spec in manifest.functions.values():
        extra: tuple[str, ...] = ()
        requirements = spec.code_dir / "requirements.txt"
        if requirements.is_file():
            if requirements not in installed:
                target = await ensure_installed(requirements, deps_root, progress=progress)
                installed[requirements] = str(target)
            extra = (installed[requirements],)
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
                code_dir=spec.code_dir,
                memory_mb=spec.memory_size,
                timeout_s=spec.timeout_s,
                environment=MappingProxyType(
                    _environment(spec.environment, spec.environment_refs, resolve)
                ),
                reserved_concurrency=scale.reserved,
                provisioned_concurrency=scale.provisioned,
                keepalive_s=scale.keepalive_s,
                runtime=spec.runtime,
                style=spec.style,
                extra_path=extra,
                aliases=(spec.key,) if spec.key != spec.name else (),
                region=manifest.region,
                ephemeral_storage_mb=spec.ephemeral_storage_size,
                network=spec.network,
                snap_start=spec.snap_start,
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
