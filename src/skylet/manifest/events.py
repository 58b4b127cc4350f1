"""The event sources a function declares: one frozen model per kind, ``Event`` their union.

Field names are the skylet.yaml keys; ``validation_alias`` gives the serverless.yml key. Units
are in the names (``batch_window_s``). Each model validates what AWS (or Knative) would refuse
at deploy time, so a manifest that loads is one the platform can run.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasPath,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from skylet.manifest.broker_events import CloudEventTrigger
from skylet.manifest.diagnostics import show, span
from skylet.manifest.fields import (
    BatchSize,
    Data,
    DataMap,
    Destination,
    FilterPatterns,
    Frozen,
    Int,
    StrOrRef,
)
from skylet.manifest.http_events import HttpApiEvent, HttpEvent
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.schedule import ScheduleExpression
from skylet.manifest.validation import Allowed

S3_EVENT_TYPES = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _single(value: Any) -> Any:
    return [value] if isinstance(value, str | ScheduleExpression) else value


class S3Rule(Frozen):
    """One key filter of an S3 notification: exactly one of prefix or suffix."""

    prefix: str | None = None
    suffix: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> S3Rule:
        if (self.prefix is None) == (self.suffix is None):
            raise ValueError("a rule is either {prefix: ...} or {suffix: ...}")
        return self


def _s3_event(value: Any) -> Any:
    if value not in S3_EVENT_TYPES:
        raise ValueError(
            f"{show(value)} is not an S3 event type (allowed: {', '.join(S3_EVENT_TYPES)})"
        )
    return value


def check_bucket(value: str) -> str:
    """``value`` if it is a bucket name S3 accepts, else ValueError saying what is allowed."""
    if not _BUCKET.match(value) or ".." in value:
        raise ValueError(
            f"{show(value)} is not a valid bucket name (allowed: {span(3, 63)} lower-case letters, "
            "digits, dots and hyphens, starting and ending with a letter or digit)"
        )
    return value


class S3Event(Frozen):
    """An S3 notification. ``rules`` hold at most one prefix and one suffix."""

    kind: Literal["s3"] = "s3"
    bucket: Annotated[str, AfterValidator(check_bucket)]
    event: Annotated[str, AfterValidator(_s3_event)] = "s3:ObjectCreated:*"
    rules: tuple[S3Rule, ...] = ()
    existing: bool = False

    @field_validator("rules")
    @classmethod
    def _one_of_each(cls, rules: tuple[S3Rule, ...]) -> tuple[S3Rule, ...]:
        for kind in ("prefix", "suffix"):
            if sum(getattr(r, kind) is not None for r in rules) > 1:
                raise ValueError(f"more than one {kind} rule (allowed: one prefix, one suffix)")
        return rules

    @property
    def prefix(self) -> str:
        return next((r.prefix for r in self.rules if r.prefix is not None), "")

    @property
    def suffix(self) -> str:
        return next((r.suffix for r in self.rules if r.suffix is not None), "")


def _record_age(value: int) -> int:
    if value != -1 and not 60 <= value <= 604_800:
        raise ValueError(f"{show(value)} is out of range (allowed: -1, or {span(60, 604_800)})")
    return value


class StreamEvent(Frozen):
    """A DynamoDB or Kinesis stream mapping; defaults are the Serverless Framework's."""

    kind: Literal["stream"] = "stream"
    type: Literal["dynamodb", "kinesis"]
    arn: StrOrRef
    batch_size: BatchSize = Field(10, validation_alias="batchSize")
    starting_position: Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] = Field(
        "TRIM_HORIZON", validation_alias="startingPosition"
    )
    starting_position_timestamp: float | None = Field(
        None, validation_alias="startingPositionTimestamp"
    )
    maximum_retry_attempts: Annotated[Int, Field(ge=-1, le=10_000)] = Field(
        -1, validation_alias="maximumRetryAttempts"
    )
    maximum_record_age_s: Annotated[
        Int, AfterValidator(_record_age), Allowed(f"-1, or {span(60, 604_800)}")
    ] = Field(-1, validation_alias="maximumRecordAgeInSeconds")
    bisect_batch_on_function_error: bool = Field(
        False, validation_alias="bisectBatchOnFunctionError"
    )
    parallelization_factor: Annotated[Int, Field(ge=1, le=10)] = Field(
        1, validation_alias="parallelizationFactor"
    )
    batch_window_s: Annotated[Int, Field(ge=0, le=300)] = Field(0, validation_alias="batchWindow")
    tumbling_window_s: Annotated[Int, Field(ge=0, le=900)] = Field(
        0, validation_alias="tumblingWindowInSeconds"
    )
    filter_patterns: FilterPatterns = Field((), validation_alias="filterPatterns")
    function_response_type: Literal["ReportBatchItemFailures"] | None = Field(
        None, validation_alias="functionResponseType"
    )
    enabled: bool = True
    on_failure: Destination | None = Field(
        None, validation_alias=AliasPath("destinations", "onFailure")
    )

    @model_validator(mode="after")
    def _timestamp(self) -> StreamEvent:
        if self.starting_position == "AT_TIMESTAMP":
            if self.type != "kinesis":
                raise ValueError("startingPosition AT_TIMESTAMP is only for kinesis streams")
            if self.starting_position_timestamp is None:
                raise ValueError("startingPosition AT_TIMESTAMP needs startingPositionTimestamp")
        return self


class ScheduleEvent(Frozen):
    """A schedule; serverless.yml names the expression(s) ``rate`` even when they are cron."""

    kind: Literal["schedule"] = "schedule"
    expressions: Annotated[
        tuple[ScheduleExpression, ...], BeforeValidator(_single), Field(min_length=1)
    ] = Field(validation_alias="rate")
    enabled: bool = True
    input: Data = None
    input_path: str | None = Field(None, validation_alias="inputPath")
    input_transformer: DataMap | None = Field(None, validation_alias="inputTransformer")
    name: str | None = None
    description: str | None = None
    timezone: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> ScheduleEvent:
        given = [
            self.input is not None,
            self.input_path is not None,
            self.input_transformer is not None,
        ]
        if sum(given) > 1:
            raise ValueError("give only one of input, inputPath and inputTransformer")
        return self


class SqsEvent(Frozen):
    """An SQS queue mapping. ``queue`` is an ARN, a queue name (skylet.yaml) or an intrinsic."""

    kind: Literal["sqs"] = "sqs"
    queue: StrOrRef = Field(validation_alias="arn")
    batch_size: BatchSize = Field(10, validation_alias="batchSize")
    maximum_batching_window_s: Annotated[Int, Field(ge=0, le=300)] = Field(
        0, validation_alias="maximumBatchingWindow"
    )
    function_response_type: Literal["ReportBatchItemFailures"] | None = Field(
        None, validation_alias="functionResponseType"
    )
    enabled: bool = True
    filter_patterns: FilterPatterns = Field((), validation_alias="filterPatterns")
    maximum_concurrency: Annotated[Int, Field(ge=2, le=1000)] | None = Field(
        None, validation_alias="maximumConcurrency"
    )

    @property
    def queue_name(self) -> str | None:
        """The queue's name when ``queue`` is a name or an ARN; None for an intrinsic."""
        if isinstance(self.queue, Intrinsic):
            return None
        return self.queue.rsplit(":", 1)[-1]

    @model_validator(mode="after")
    def _batching(self) -> SqsEvent:
        # AWS: FIFO queues take at most 10 per batch; standard queues need a batching window
        # to take more than 10.
        name = self.queue_name or ""
        if name.endswith(".fifo") and self.batch_size > 10:
            raise ValueError(
                f"batch size {self.batch_size} is too large for a FIFO queue "
                f"(allowed: {span(1, 10)})"
            )
        if self.batch_size > 10 and self.maximum_batching_window_s < 1:
            raise ValueError(
                f"batch size {self.batch_size} needs a batching window of at least 1 second "
                f"(allowed: batch size {span(1, 10)}, or set maximumBatchingWindow)"
            )
        return self


class SnsEvent(Frozen):
    """An SNS subscription, by topic ARN (or intrinsic), by topic name, or both."""

    kind: Literal["sns"] = "sns"
    arn: StrOrRef | None = None
    topic_name: str | None = Field(None, validation_alias="topicName")
    display_name: str | None = Field(None, validation_alias="displayName")
    filter_policy: DataMap | None = Field(None, validation_alias="filterPolicy")
    filter_policy_scope: Literal["MessageAttributes", "MessageBody"] = Field(
        "MessageAttributes", validation_alias="filterPolicyScope"
    )
    #: The subscription's dead-letter queue: ``{deadLetterTargetArn: ARN}``,
    #: ``{deadLetterTargetRef: LogicalId}`` or ``{deadLetterTargetImport: {arn, url}}``.
    redrive_policy: DataMap | None = Field(None, validation_alias="redrivePolicy")

    @model_validator(mode="after")
    def _some_topic(self) -> SnsEvent:
        if self.arn is None and self.topic_name is None:
            raise ValueError("an sns event needs arn or topicName")
        return self

    @field_validator("redrive_policy")
    @classmethod
    def _one_target(cls, value: DataMap | None) -> DataMap | None:
        keys = ("deadLetterTargetArn", "deadLetterTargetRef", "deadLetterTargetImport")
        if value is not None and (len(value) != 1 or next(iter(value)) not in keys):
            raise ValueError(f"a redrivePolicy has exactly one of {', '.join(keys)}")
        return value

    @property
    def topic(self) -> str | None:
        """The topic's name: ``topic_name``, else the last part of a string ARN."""
        if self.topic_name is not None:
            return self.topic_name
        return self.arn.rsplit(":", 1)[-1] if isinstance(self.arn, str) else None


class EventBridgeRetryPolicy(Frozen):
    """serverless.yml's ``retryPolicy`` of an eventBridge event (the target's RetryPolicy)."""

    maximum_event_age: int | None = Field(None, validation_alias="maximumEventAge")
    maximum_retry_attempts: int | None = Field(None, validation_alias="maximumRetryAttempts")


class EventBridgeEvent(Frozen):
    """An EventBridge rule: an event ``pattern`` or a ``schedule``, on a bus (default: default)."""

    kind: Literal["eventbridge"] = "eventbridge"
    event_bus: StrOrRef | None = Field(None, validation_alias="eventBus")
    pattern: DataMap | None = None
    schedule: ScheduleExpression | None = None
    input: Data = None
    input_path: str | None = Field(None, validation_alias="inputPath")
    input_transformer: DataMap | None = Field(None, validation_alias="inputTransformer")
    enabled: bool = True
    name: str | None = None
    description: str | None = None
    retry_policy: EventBridgeRetryPolicy | None = Field(None, validation_alias="retryPolicy")
    dead_letter_queue_arn: StrOrRef | None = Field(None, validation_alias="deadLetterQueueArn")

    @model_validator(mode="after")
    def _pattern_or_schedule(self) -> EventBridgeEvent:
        if (self.pattern is None) == (self.schedule is None):
            raise ValueError("an eventBridge event needs exactly one of pattern and schedule")
        given = [self.input is not None, self.input_path is not None]
        if sum([*given, self.input_transformer is not None]) > 1:
            raise ValueError("give only one of input, inputPath and inputTransformer")
        return self


Event = Annotated[
    HttpEvent
    | HttpApiEvent
    | S3Event
    | StreamEvent
    | ScheduleEvent
    | SqsEvent
    | SnsEvent
    | EventBridgeEvent
    | CloudEventTrigger,
    Field(discriminator="kind"),
]

EVENT_CLASSES: dict[str, type[Frozen]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        HttpEvent,
        HttpApiEvent,
        S3Event,
        StreamEvent,
        ScheduleEvent,
        SqsEvent,
        SnsEvent,
        EventBridgeEvent,
        CloudEventTrigger,
    )
}
"""Canonical event kind -> model."""
