"""Declared resources: CloudFormation-shaped ``LogicalId: {Type, Properties}`` entries.

skylet runs four kinds itself (tables with streams, queues, topics, buckets); any other
``Vendor::Service::Type`` is kept as data for export and is not an error. A ``Ref``/``GetAtt`` to
a logical id that is not declared is kept too: it may name something outside the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from skylet.manifest.diagnostics import KeyPath, Source, show
from skylet.manifest.events import check_bucket
from skylet.manifest.fields import DataMap, Frozen
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.validation import check_keys

DYNAMODB_TABLE = "AWS::DynamoDB::Table"
SQS_QUEUE = "AWS::SQS::Queue"
SNS_TOPIC = "AWS::SNS::Topic"
SNS_SUBSCRIPTION = "AWS::SNS::Subscription"
S3_BUCKET = "AWS::S3::Bucket"
KINESIS_STREAM = "AWS::Kinesis::Stream"
EVENTS_RULE = "AWS::Events::Rule"
EVENT_BUS = "AWS::Events::EventBus"
NAME_PROPERTY: Mapping[str, str] = {
    DYNAMODB_TABLE: "TableName",
    SQS_QUEUE: "QueueName",
    SNS_TOPIC: "TopicName",
    S3_BUCKET: "BucketName",
    KINESIS_STREAM: "Name",
    EVENTS_RULE: "Name",
    EVENT_BUS: "Name",
}
# Declared resources of these types are read and cross-checked, but skylet does not create
# them yet (its Kinesis service is still to come).
NOT_RUN_TYPES = frozenset({KINESIS_STREAM})
#: The longest SQS queue name and SNS topic name.
MAX_QUEUE_NAME = 80
MAX_TOPIC_NAME = 256
#: The longest DynamoDB table name.
MAX_TABLE_NAME = 255
STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
# CloudFormation's resource attributes, allowed beside Type and Properties.
CFN_ATTRIBUTES = (
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "Metadata",
)
#: The kinds whose derived names end in ``.fifo`` when this property says so, and their limit.
_FIFO = {SQS_QUEUE: ("FifoQueue", MAX_QUEUE_NAME), SNS_TOPIC: ("FifoTopic", MAX_TOPIC_NAME)}
_TYPE = re.compile(r"^(?:[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+|Custom::[A-Za-z0-9_@-]+)$")
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")


def _type_message(kind: Any) -> str:
    return (
        f"{show(kind)} is not a resource type (allowed: AWS::Service::Type, e.g. "
        f"{DYNAMODB_TABLE}, {SQS_QUEUE}, {SNS_TOPIC}, {S3_BUCKET}, or Custom::Name)"
    )


def _resource_type(value: str) -> str:
    if not _TYPE.match(value):
        raise ValueError(_type_message(value))
    return value


class Resource(Frozen):
    """One declared resource; ``properties`` and ``attributes`` are resolved, frozen data."""

    logical_id: str
    type: Annotated[str, AfterValidator(_resource_type)]
    properties: DataMap = Field(default_factory=dict)
    attributes: DataMap = Field(default_factory=dict)
    """CloudFormation resource attributes (DependsOn, Condition, DeletionPolicy, ...)."""

    @property
    def physical_name(self) -> str | None:
        """The explicit name (TableName, QueueName, TopicName, BucketName) when it is a string."""
        key = NAME_PROPERTY.get(self.type)
        value = self.properties.get(key) if key else None
        return value if isinstance(value, str) else None

    def name_in(self, service: str, stage: str) -> str:
        """The resource's name: its explicit one, else the one skylet derives from the stack
        (``service-stage``) and the logical id, as CloudFormation derives one (without its
        random suffix, so it is stable across restarts): lower case for a bucket, as bucket
        names must be; the others' case kept."""
        name = self.physical_name
        if name is not None:
            return name
        derived = f"{service}-{stage}-{self.logical_id}"
        fifo = _FIFO.get(self.type)
        if fifo is not None:
            key, longest = fifo
            suffix = ".fifo" if self.properties.get(key) in (True, "true", "True") else ""
            return derived[: longest - len(suffix)] + suffix
        if self.type == S3_BUCKET:
            return derived.lower()[:63].rstrip("-")
        return derived[:MAX_TABLE_NAME]

    @property
    def stream_view_type(self) -> str | None:
        """A DynamoDB table's StreamSpecification.StreamViewType, None without a stream."""
        spec = self.properties.get("StreamSpecification")
        if self.type != DYNAMODB_TABLE or not isinstance(spec, Mapping):
            return None
        view = spec.get("StreamViewType")
        return view if isinstance(view, str) else None


def parse_resources(
    entries: Any, *, source: Source, at: KeyPath, serverless: bool
) -> dict[str, Resource]:
    """Parse ``{LogicalId: {Type, Properties, ...}}`` (serverless.yml, CloudFormation spelling)
    or ``{LogicalId: {type, properties}}`` (skylet.yaml) into Resources."""
    if entries is None:
        return {}
    if not isinstance(entries, Mapping):
        raise source.error(at, f"{show(entries)} is not a mapping of logical id to resource")
    type_key, props_key = ("Type", "Properties") if serverless else ("type", "properties")
    out: dict[str, Resource] = {}
    for logical_id, body in entries.items():
        path = (*at, logical_id)
        if not _LOGICAL_ID.match(logical_id):
            raise source.error(
                path, f"{logical_id!r} is not a logical id (allowed: letters and digits only)"
            )
        if not isinstance(body, Mapping):
            message = f"{show(body)} is not a mapping (allowed: {{{type_key}: ...}})"
            raise source.error(path, message)
        known = (type_key, props_key, *(CFN_ATTRIBUTES if serverless else ()))
        body = check_keys(body, known, source=source, at=path)
        if type_key not in body:
            raise source.error(path, f"{type_key} is required (allowed: e.g. {DYNAMODB_TABLE})")
        kind, properties = body[type_key], body.get(props_key) or {}
        if not isinstance(kind, str) or not _TYPE.match(kind):
            raise source.error((*path, type_key), _type_message(kind))
        if not isinstance(properties, Mapping):
            raise source.error((*path, props_key), f"{show(properties)} is not a mapping")
        _check_known(kind, properties, source, (*path, props_key))
        if kind in NOT_RUN_TYPES:
            source.warn(
                (*path, type_key),
                f"{kind} resources are recognised but not run yet: skylet does not create them, "
                "and the events and destinations that use them do nothing",
                feature=f"resource {kind}",
            )
        attributes = {k: v for k, v in body.items() if k not in (type_key, props_key)}
        out[logical_id] = Resource(
            logical_id=logical_id, type=kind, properties=properties, attributes=attributes
        )
    return out


def _check_known(kind: str, properties: Mapping[str, Any], source: Source, at: KeyPath) -> None:
    """The few property checks skylet relies on to run the four resource kinds it emulates."""
    name_key = NAME_PROPERTY.get(kind)
    if name_key and name_key in properties:
        value = properties[name_key]
        if not isinstance(value, str | Intrinsic) or value == "":
            raise source.error(
                (*at, name_key), f"{show(value)} is not a name (allowed: a non-empty string)"
            )
        if kind == S3_BUCKET and isinstance(value, str):
            try:
                check_bucket(value)
            except ValueError as error:
                raise source.error((*at, name_key), str(error)) from None
    spec = properties.get("StreamSpecification")
    if kind == DYNAMODB_TABLE and spec is not None:
        view = spec.get("StreamViewType") if isinstance(spec, Mapping) else None
        if view not in STREAM_VIEW_TYPES:
            raise source.error(
                (*at, "StreamSpecification", "StreamViewType"),
                f"{show(view)} is not a stream view type (allowed: {', '.join(STREAM_VIEW_TYPES)})",
            )
