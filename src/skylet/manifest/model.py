"""The validated, frozen manifest: one model for skylet.yaml and serverless.yml alike.

``Manifest`` holds functions (``FunctionSpec``), declared resources (``Resource``) and free
data (``custom``, ``outputs``, ``iam``). Units are in field names (``timeout_s``, MB for
``memory_size``). Every mapping is a ``FrozenDict`` and every list a tuple: assignment and
item mutation raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from skylet import custom_runtimes
from skylet.manifest.diagnostics import ManifestWarning, show
from skylet.manifest.events import Event, EventBridgeEvent, S3Event, SnsEvent, SqsEvent, StreamEvent
from skylet.manifest.fields import DataMap, Destination, Flag, Frozen, Int, Num, StrMap
from skylet.manifest.frozen import FrozenDict, freeze_intrinsic
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import Resource
from skylet.manifest.schedule import ScheduleExpression
from skylet.manifest.validation import Allowed

HANDLER_FORMS = "module.function or path/to/module.function"
_HANDLER = re.compile(r"^(?:[A-Za-z0-9_-]+/)*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$", re.ASCII)
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _freeze_specs(value: Mapping[str, Any]) -> FrozenDict[str, Any]:
    return FrozenDict(value)


def _freeze_refs(value: Mapping[str, Intrinsic]) -> FrozenDict[str, Intrinsic]:
    return FrozenDict({name: freeze_intrinsic(ref) for name, ref in value.items()})


def _function_name(value: str) -> str:
    if not _FUNCTION_NAME.match(value):
        raise ValueError(
            f"{show(value)} is not a valid Lambda function name "
            "(allowed: 1-64 letters, digits, hyphens and underscores)"
        )
    return value


#: CloudWatch Logs' retention periods, in days (PutRetentionPolicy's allowed values).
RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545)
RETENTION_DAYS += (731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_LOG_GROUP = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")


def _log_group(value: str) -> str:
    if not _LOG_GROUP.match(value):
        raise ValueError(
            f"{show(value)} is not a log group name (allowed: 1-512 letters, digits, and . - _ / #)"
        )
    return value


def _retention(value: int) -> int:
    if value not in RETENTION_DAYS:
        allowed = ", ".join(map(str, RETENTION_DAYS))
        raise ValueError(f"{value} is not a retention period (allowed: {allowed})")
    return value


class ProvisionedConcurrencySchedule(Frozen):
    """From ``schedule`` on, keep ``provisioned_concurrency`` instances warm."""

    schedule: ScheduleExpression
    provisioned_concurrency: Annotated[Int, Field(ge=0)] = Field(
        validation_alias="provisionedConcurrency"
    )


class FunctionSpec(Frozen):
    """One function. ``key`` is its key in the manifest, ``name`` the deployed Lambda name.

    ``environment`` holds literal values, stringified as Lambda does; values that are
    intrinsics (``!Ref Table``) wait in ``environment_refs`` until deploy time resolves them.
    Async invocation: ``maximum_retry_attempts``, ``maximum_event_age_s``, ``on_success`` /
    ``on_failure`` (a function key, an ARN or an intrinsic naming a queue or topic).
    """

    key: str
    name: Annotated[str, AfterValidator(_function_name)]
    #: None: the platform's default runtime (the newest Python Lambda offers that is installed).
    runtime: Annotated[str, Field(min_length=1)] | None = None
    handler: Annotated[str, Allowed(HANDLER_FORMS)]
    style: Literal["lambda", "http", "cloudevent", "background"] = "lambda"
    code_dir: Path
    memory_size: Annotated[Int, Field(ge=128, le=10_240)]
    timeout_s: Annotated[Num, Field(ge=1, le=900)]
    environment: StrMap = Field(default_factory=dict)
    environment_refs: Annotated[Mapping[str, Intrinsic], AfterValidator(_freeze_refs)] = Field(
        default_factory=dict
    )
    reserved_concurrency: Annotated[Int, Field(ge=0)] | None = None
    provisioned_concurrency: Annotated[Int, Field(ge=0)] = 0
    provisioned_concurrency_schedules: tuple[ProvisionedConcurrencySchedule, ...] = ()
    description: str = ""
    events: tuple[Event, ...] = ()
    maximum_retry_attempts: Annotated[Int, Field(ge=0, le=2)] = 2
    maximum_event_age_s: Annotated[Int, Field(ge=60, le=21_600)] = 21_600
    on_success: Destination | None = None
    on_failure: Destination | None = None
    #: MB of private /tmp per instance (Lambda's ephemeral storage).
    ephemeral_storage_size: Annotated[Int, Field(ge=512, le=10_240)] = 512
    #: False: the function's sandbox has no network, only a loopback of its own.
    network: Flag = True
    #: Instances fork from a template that ran the init once (Lambda SnapStart).
    snap_start: Flag = False
    #: Lambda's LoggingConfig: the format, the levels (JSON only) and the log group.
    log_format: Literal["Text", "JSON"] = "Text"
    application_log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] | None = None
    system_log_level: Literal["DEBUG", "INFO", "WARN"] | None = None
    log_group: Annotated[str, AfterValidator(_log_group)] | None = None
    #: Days its log is kept (CloudWatch Logs' retention values), None: no limit but the bound.
    log_retention_days: Annotated[Int, AfterValidator(_retention)] | None = None
    #: Its layers' contents (directories or zip files), in order: unpacked together at /opt.
    layers: tuple[Path, ...] = ()
    #: A zip of its code (serverless.yml's ``package.artifact``): unpacked at deploy, and run
    #: instead of ``code_dir``.
    artifact: Path | None = None
    #: What its usage is priced as (the Serverless Framework's ``architecture``).
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    #: Knative's ``autoscaling.knative.dev/*`` (docs/knative.md, "Functions").
    annotations: StrMap = Field(default_factory=dict)

    @field_validator("handler")
    @classmethod
    def _handler_form(cls, value: str, info: ValidationInfo) -> str:
        # A custom runtime's handler is whatever its bootstrap understands; every other
        # runtime runs a Python callable (Node.js's ``index.handler`` has the same form).
        if custom_runtimes.kind(str(info.data.get("runtime", ""))) == "provided":
            if not value.strip():
                raise ValueError("the handler must not be empty")
            return value
        handler = value.removeprefix("./")
        if not _HANDLER.match(handler):
            raise ValueError(f"{show(value)} is not a Python handler (allowed: {HANDLER_FORMS})")
        return handler

    @field_validator("system_log_level", "application_log_level")
    @classmethod
    def _levels_need_json(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("log_format") != "JSON":
            raise ValueError(
                f"{show(value)} needs the JSON log format (allowed: log levels only with "
                "logFormat JSON, as Lambda has it)"
            )
        return value

    @field_validator("provisioned_concurrency")
    @classmethod
    def _within_reserved(cls, value: int, info: ValidationInfo) -> int:
        reserved = info.data.get("reserved_concurrency")
        if reserved is not None and value > reserved:
            raise ValueError(
                f"{value} exceeds the reserved concurrency {reserved} (allowed: at most "
                "the reserved concurrency)"
            )
        return value

    @field_validator("provisioned_concurrency_schedules")
    @classmethod
    def _schedules_within_reserved(
        cls, value: tuple[ProvisionedConcurrencySchedule, ...], info: ValidationInfo
    ) -> tuple[ProvisionedConcurrencySchedule, ...]:
        reserved = info.data.get("reserved_concurrency")
        for item in value:
            if reserved is not None and item.provisioned_concurrency > reserved:
                raise ValueError(
                    f"{item.provisioned_concurrency} at {item.schedule} exceeds "
                    f"the reserved concurrency {reserved} (allowed: at most that)"
                )
        return value

    @property
    def handler_module(self) -> str:
        """``handlers/api.handler`` -> ``handlers/api``; ``app.main.run`` -> ``app.main``."""
        return self.handler.rpartition(".")[0]

    @property
    def handler_attr(self) -> str:
        return self.handler.rpartition(".")[2]


#: A media type, either half of which may be ``*``, as API Gateway's binaryMediaTypes hold.
MediaTypePattern = Annotated[
    str, Field(pattern=r"^(\*|[A-Za-z0-9!#$&^_.+-]+)/(\*|[A-Za-z0-9!#$&^_.+-]+)$")
]


class Manifest(Frozen):
    """A loaded manifest. ``source`` is the file, ``root`` its directory."""

    service: Annotated[
        str,
        Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$"),
        Allowed("letters, digits, hyphens and underscores"),
    ]
    stage: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_-]+$"), Allowed("letters, digits, hyphens, underscores")
    ]
    region: Annotated[
        str, Field(pattern=r"^[a-z0-9-]+$"), Allowed("an AWS region name such as us-east-1")
    ]
    source: Path
    root: Path
    format: Literal["skylet", "serverless"]
    functions: Annotated[Mapping[str, FunctionSpec], AfterValidator(_freeze_specs)]
    resources: Annotated[Mapping[str, Resource], AfterValidator(_freeze_specs)] = Field(
        default_factory=dict
    )
    custom: DataMap = Field(default_factory=dict)
    outputs: DataMap = Field(default_factory=dict)
    iam: DataMap = Field(default_factory=dict)
    """provider.iam (serverless.yml) or iam (skylet.yaml), kept for permissions."""
    binary_media_types: Annotated[
        tuple[MediaTypePattern, ...] | None,
        Allowed("a list of media types such as image/png, image/* or */*"),
    ] = None
    """The REST API's binaryMediaTypes: provider.apiGateway.binaryMediaTypes (serverless.yml) or
    binary_media_types (skylet.yaml). None: skylet's defaults (docs/http.md)."""
    timezone: str | None = None
    """The schedules' time zone unless an event gives its own (an IANA name):
    provider.timezone (serverless.yml) or timezone (skylet.yaml)."""
    warnings: tuple[ManifestWarning, ...] = ()
    """What loaded but does not run as written (yet), one per feature, for the platform to
    report: recognised features skylet does not run, keys the framework would warn about."""

    def function(self, name: str) -> FunctionSpec:
        """The function with manifest key or deployed name ``name``; KeyError if none."""
        found = self.find_function(name)
        if found is None:
            raise KeyError(name)
        return found

    def find_function(self, name: str) -> FunctionSpec | None:
        if name in self.functions:
            return self.functions[name]
        return next((f for f in self.functions.values() if f.name == name), None)

    def resolve_ref(self, value: Intrinsic | str | None) -> Resource | None:
        """The declared resource a value points at, or None (external, or not a reference).

        ``Ref``/``Fn::GetAtt`` name a logical id. A string matches a resource by the name at
        the end of an ARN (``arn:aws:sqs:…:jobs`` -> QueueName ``jobs``, a DynamoDB table or
        stream ARN -> TableName), by physical name, or by logical id.
        """
        if isinstance(value, Intrinsic):
            logical_id = value.logical_id
            return self.resources.get(logical_id) if logical_id else None
        if not value:
            return None
        name = _name_in_arn(value) if value.startswith("arn:") else value
        for resource in self.resources.values():
            if resource.physical_name == name:
                return resource
        return None if value.startswith("arn:") else self.resources.get(value)

    def event_resource(self, event: Event) -> Resource | None:
        """The declared resource an event reads from (table, queue, topic, bucket, bus)."""
        if isinstance(event, StreamEvent):
            return self.resolve_ref(event.arn)
        if isinstance(event, SqsEvent):
            return self.resolve_ref(event.queue)
        if isinstance(event, SnsEvent):
            return self.resolve_ref(event.arn) or self.resolve_ref(event.topic_name)
        if isinstance(event, S3Event):
            return self.resolve_ref(event.bucket)
        if isinstance(event, EventBridgeEvent):
            return self.resolve_ref(event.event_bus)
        return None


def _name_in_arn(arn: str) -> str:
    """The resource name in an ARN: ``…:table/Orders/stream/…`` -> ``Orders``,
    ``arn:aws:s3:::bucket`` -> ``bucket``, ``…:queue-name`` -> ``queue-name``."""
    resource = arn.split(":", 5)[-1]
    if resource.startswith(("table/", "stream/")):
        return resource.split("/")[1]
    return resource.rsplit(":", 1)[-1]
