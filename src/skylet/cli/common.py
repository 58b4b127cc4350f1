"""What the commands share: the server option, the event loop, the manifest, the environment."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import click

from skylet.cli.exits import Exit, Status

DEFAULT_PORT = 9000
DEFAULT_ENDPOINT = f"http://127.0.0.1:{DEFAULT_PORT}"

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def endpoint_option(*envvars: str) -> Callable[[F], F]:
    """``--endpoint-url`` (the AWS CLI's name) or ``--endpoint``: the server a command talks to,
    passed to the command as ``endpoint``; otherwise the first of ``envvars`` that is set."""
    return click.option(
        "--endpoint-url",
        "--endpoint",
        "endpoint",
        envvar=list(envvars or ("SKYLET_ENDPOINT",)),
        metavar="URL",
        help=f"The server (default {DEFAULT_ENDPOINT}).",
    )


def endpoint(given: str | None) -> str:
    return (given or DEFAULT_ENDPOINT).rstrip("/")


def unreachable(url: str, error: Exception) -> Exit:
    return Exit(
        f"cannot reach skylet at {url}: {error} (is `skylet up` running?)", Status.UNREACHABLE
    )


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on uvloop (the loop ``skylet up`` serves on)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return asyncio.run(coro)
    return uvloop.run(coro)


def manifest_path(target: str) -> Path:
    """The manifest file ``target`` names: the file itself, or the one in that directory."""
    from skylet.errors import ConfigError
    from skylet.manifest import find_manifest
    from skylet.manifest.knative_serving import SERVICE_NAMES

    path = Path(target).resolve()
    if path.is_file():
        return path
    try:
        return find_manifest(path)
    except ConfigError:
        # Knative documents instead of a manifest (docs/eventing.md, docs/knative.md).
        for name in ("eventing.yaml", "eventing.yml", *SERVICE_NAMES):
            if (path / name).is_file():
                return path / name
        raise


def base_environment() -> MappingProxyType[str, str]:
    """What every instance inherits from this process: little, so cold starts stay short."""
    return MappingProxyType({k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ})
