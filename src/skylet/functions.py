"""What the runtime needs to know about a deployed function, independent of manifest formats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from skylet.events.config import DEFAULT_ASYNC_CONFIG, AsyncConfig

Style = Literal["lambda", "http", "cloudevent", "background"]


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """One function version. ``extra_path`` holds installed dependency directories."""

    name: str
    handler: str
    code_dir: Path
    memory_mb: int = 128
    timeout_s: float = 3.0
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    version: str = "$LATEST"
    runtime: str = "python3.11"
    style: Style = "lambda"
    extra_path: tuple[str, ...] = ()
    #: Other names the function answers to (the manifest key when the Lambda name differs).
    aliases: tuple[str, ...] = ()
    #: Event invocations: retries, maximum event age, destinations, dead-letter queue.
    async_config: AsyncConfig = DEFAULT_ASYNC_CONFIG


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """Platform-wide settings of the runtime, parsed once by the CLI and injected.

    ``keepalive_s``: how long an idle instance stays warm. AWS does not publish Lambda's; it is
    observed between 5 and 15 minutes, and 10 minutes is the usual estimate.
    """

    region: str = "us-east-1"
    account_id: str = "000000000000"
    keepalive_s: float = 600.0
    max_concurrency: int = 1000
    #: Output kept per invocation; the rest is drained and counted, never buffered.
    output_cap_bytes: int = 1 << 20
    #: Credentials and endpoint given to functions, so boto3 inside them reaches skylet.
    aws_access_key_id: str = "test"
    aws_secret_access_key: str = "test"
    endpoint_url: str | None = None
    base_environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier else arn
