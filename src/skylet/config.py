"""Configuration types: what the runtime needs to know about a deployed function, independent
of manifest formats, and the platform-wide runtime settings.

``FunctionConfig`` is one deployed function version; ``RuntimeSettings`` the runtime's
platform-wide settings; ``AsyncConfig`` (what ``FunctionConfig.async_config`` holds) is Lambda's
EventInvokeConfig and DLQ: how often a failed event is retried (``maximumRetryAttempts``, 0-2),
how old an event may grow before it is discarded (``maximumEventAge``, 60-21600 s), where records
of successes and failures go (``destinations: {onSuccess, onFailure}``) and where the payloads of
discarded events go (``DeadLetterConfig``). Values are checked once, here, with errors that name
the key.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from skylet import arns
from skylet.arns import DEFAULT_REGION
from skylet.errors import ConfigError

__all__ = ["DEFAULT_REGION"]  # re-exported: the manifest formats read it here
MAX_RETRY_ATTEMPTS = 2
DEFAULT_RETRY_ATTEMPTS = 2
MIN_EVENT_AGE_S = 60.0
MAX_EVENT_AGE_S = 21_600.0  # 6 hours, Lambda's default and maximum

DestinationKind = Literal["function", "queue", "topic"]
_SHORT_FORMS: dict[str, DestinationKind] = {
    "function": "function",
    "queue": "queue",
    "topic": "topic",
}
_ARN_SERVICES: dict[str, DestinationKind] = {"sqs": "queue", "sns": "topic"}


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a record goes: another function (invoked asynchronously with the record as its
    event), a store queue (the record is the message body) or a topic (published; topics are
    delivered by a ``TopicPublisher`` the composition root provides)."""

    kind: DestinationKind
    name: str
    qualifier: str | None = None

    def __str__(self) -> str:
        suffix = f":{self.qualifier}" if self.qualifier else ""
        return f"{self.kind}:{self.name}{suffix}"


def parse_destination(value: str, *, key: str = "destination") -> Destination:
    """Read a destination as manifests write it.

    - ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``, ``arn:aws:sqs:…:NAME``,
      ``arn:aws:sns:…:NAME`` (the account and region are not checked: there is one of each);
    - ``function:NAME``, ``queue:NAME``, ``topic:NAME`` (skylet.yaml's short forms);
    - a bare ``NAME``: a function, as serverless.yml's ``onSuccess: otherFunction``.

    ``ConfigError`` names ``key`` and the value otherwise.
    """
    text = value.strip() if isinstance(value, str) else ""
    parts = text.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] in _ARN_SERVICES and parts[5]:
        return Destination(_ARN_SERVICES[parts[2]], parts[5])
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda":
        if parts[5] == "function" and parts[6]:
            return Destination("function", parts[6], parts[7] if len(parts) == 8 else None)
    elif len(parts) == 2 and parts[0] in _SHORT_FORMS and parts[1]:
        return Destination(_SHORT_FORMS[parts[0]], parts[1])
    elif len(parts) == 1 and text:
        return Destination("function", text)
    raise ConfigError(
        f"{key}: {value!r} is not a destination; use a function name, function:NAME, "
        "queue:NAME, topic:NAME, or a Lambda function, SQS queue or SNS topic ARN"
    )


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """Lambda's asynchronous invocation settings of one function; defaults as Lambda's.

    ``maximum_retry_attempts`` counts retries after function errors (so at most 1 + 2 runs).
    Throttles and platform failures are retried separately, with backoff, for as long as the
    event is younger than ``maximum_event_age_s``.
    """

    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_s: float = MAX_EVENT_AGE_S
    on_success: Destination | None = None
    on_failure: Destination | None = None
    dead_letter_queue: Destination | None = None

    def __post_init__(self) -> None:
        retries = self.maximum_retry_attempts
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise ConfigError(f"maximumRetryAttempts: {retries!r} is not an integer (0-2)")
        if not 0 <= retries <= MAX_RETRY_ATTEMPTS:
            raise ConfigError(
                f"maximumRetryAttempts: {retries} is out of range: allowed 0-{MAX_RETRY_ATTEMPTS}"
            )
        age = self.maximum_event_age_s
        if (
            isinstance(age, bool)
            or not isinstance(age, int | float)
            or math.isnan(age)
            or not MIN_EVENT_AGE_S <= age <= MAX_EVENT_AGE_S
        ):
            raise ConfigError(
                f"maximumEventAge: {age!r} is out of range: allowed "
                f"{MIN_EVENT_AGE_S:g}-{MAX_EVENT_AGE_S:g} seconds"
            )
        dlq = self.dead_letter_queue
        if dlq is not None and dlq.kind == "function":
            raise ConfigError(
                f"DeadLetterConfig: {dlq} is a function; a dead-letter target is a queue or a topic"
            )


DEFAULT_ASYNC_CONFIG = AsyncConfig()


LogFormat = Literal["Text", "JSON"]
#: Lambda's application and system log levels, most verbose first.
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """A function's logging, as Lambda's ``LoggingConfig`` has it: the format (``Text``, the
    default, or ``JSON``), the application and system log levels (JSON only; Lambda's default
    there is ``INFO`` for both), and the log group (``/aws/lambda/NAME`` unless set).
    ``retention_days``: how long its log is kept (None: as long as the per-function bound
    allows)."""

    log_format: LogFormat = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None
    retention_days: int | None = None

    def group(self, function: str) -> str:
        return self.log_group or f"/aws/lambda/{function}"

    @property
    def json(self) -> bool:
        return self.log_format == "JSON"

    @property
    def application_level(self) -> str:
        """The level the function's ``logging`` is set to in JSON mode (``INFO`` by default)."""
        return self.application_log_level or "INFO"

    @property
    def system_level(self) -> str:
        return self.system_log_level or "INFO"


DEFAULT_LOGGING = LoggingConfig()

#: The Lambda runtime of the platform's own interpreter.
HOST_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


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
    #: A Lambda runtime (skylet.pool.runtimes): the interpreter its instances run on.
    runtime: str = HOST_RUNTIME
    style: Style = "lambda"
    extra_path: tuple[str, ...] = ()
    #: Other names the function answers to (the manifest key when the Lambda name differs).
    aliases: tuple[str, ...] = ()
    #: Event invocations: retries, maximum event age, destinations, dead-letter queue.
    async_config: AsyncConfig = DEFAULT_ASYNC_CONFIG
    #: The region the function is deployed in (the manifest's): its AWS_REGION, its ARN, and the
    #: region of the records skylet builds for it.
    region: str = DEFAULT_REGION
    #: Its instances' private /tmp, in MB (``ephemeralStorageSize``; Lambda's 512-10,240).
    ephemeral_storage_mb: int = 512
    #: False: no network at all, only its own loopback (``network: false``).
    network: bool = True
    #: Instances fork from a template that has run the function's init (``snapStart``).
    snap_start: bool = False
    #: Its log's format, levels, group and retention (``logs`` in serverless.yml).
    logging: LoggingConfig = DEFAULT_LOGGING
    #: Its layers, unpacked together (skylet.build.layers): shown at /opt in its sandbox.
    opt_dir: str | None = None
    #: ``architecture`` (x86_64 or arm64): what its usage is priced as (skylet.cost).
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    #: Its cgroup's CPU is capped in proportion to memory (1 vCPU at 1,769 MB), as Lambda's
    #: is, where the machine allows a quota: set on the variants ``skylet tune`` runs.
    cpu_quota: bool = False
    #: How long an idle on-demand instance stays warm; None: the platform's ``keepalive_s``.
    #: Knative annotations set it to the stable window plus the retention period.
    keepalive_s: float | None = None


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """Platform-wide settings of the runtime, parsed once by the CLI and injected.

    ``keepalive_s``: how long an idle instance stays warm. AWS does not publish Lambda's; it is
    observed between 5 and 15 minutes, and 10 minutes is the usual estimate.

    ``init_timeout_s``: Lambda's limit on an on-demand init phase (10 s); past it the init is
    tried again within the invocation's own timeout. ``provisioned_init_timeout_s``: the limit
    for a provisioned instance's init is this or the function's timeout, whichever is longer
    (Lambda's: 130 s).
    """

    #: Names what has no function to take a region from (a function that does not exist).
    region: str = DEFAULT_REGION
    account_id: str = arns.ACCOUNT_ID
    keepalive_s: float = 600.0
    init_timeout_s: float = 10.0
    provisioned_init_timeout_s: float = 130.0
    max_concurrency: int = 1000
    #: Output kept per invocation; the rest is drained and counted, never buffered.
    output_cap_bytes: int = 1 << 20
    #: What each function's own credentials are derived from (skylet.function_keys):
    #: boto3 inside a function signs with them, and reaches skylet at ``endpoint_url``.
    function_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    endpoint_url: str | None = None
    base_environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Run each function in its sandbox (docs/runtime.md); False: ``--no-sandbox``.
    sandbox: bool = True
    #: The interpreter of each runtime named (``--interpreter python3.12=PATH``); the others
    #: are looked up on ``base_environment``'s PATH (skylet.pool.runtimes).
    interpreters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The Node.js executable for ``nodejs*`` functions; None: not installed.
    node: str | None = None

    def function_arn(
        self, name: str, qualifier: str | None = None, *, region: str | None = None
    ) -> str:
        """A function's ARN: in ``region`` (the function's own), else in ``self.region``."""
        return arns.function_arn(
            name, qualifier, region=region or self.region, account=self.account_id
        )


def endpoint_url(host: str, port: int) -> str:
    """The URL a function on this machine reaches skylet at, when skylet listens on ``host``
    and ``port``: an IPv6 literal in brackets (RFC 3986; a zone's ``%`` as ``%25``, RFC 6874),
    and a wildcard address (``0.0.0.0``, ``::``, or none) replaced by the loopback address of
    its family, since a wildcard is where to listen, not where to connect."""
    name = host.strip().removeprefix("[").removesuffix("]")
    if not name:
        return f"http://127.0.0.1:{port}"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return f"http://{name}:{port}"  # a host name, such as localhost
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    if address.version == 6:
        return f"http://[{str(address).replace('%', '%25')}]:{port}"
    return f"http://{address}:{port}"
