"""The manifest: ``skylet.yaml`` or a Serverless Framework ``serverless.yml``, loaded into one
validated, frozen ``Manifest``.

    manifest = load_manifest(find_manifest(Path(".")), stage="prod", env=os.environ)
    api = manifest.function("api")            # by key or deployed name
    table = manifest.event_resource(api.events[0])

Modules, in the order data flows through them: ``yaml_loader`` (safe YAML with lines and
CloudFormation tags) -> ``variables`` (``${...}``) -> ``serverless`` / ``skylet_format`` ->
``event_parsing`` + ``assemble`` (validation with ``validation``, cross-checks) -> ``model``.
"""

from __future__ import annotations

from skylet.manifest.broker_events import CloudEventTrigger, DeliverySpec
from skylet.manifest.events import (
    S3_EVENT_TYPES,
    Event,
    EventBridgeEvent,
    S3Event,
    S3Rule,
    ScheduleEvent,
    SnsEvent,
    SqsEvent,
    StreamEvent,
)
from skylet.manifest.frozen import FrozenDict
from skylet.manifest.http_events import CorsConfig, HttpApiEvent, HttpEvent
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.loader import MANIFEST_NAMES, find_manifest, load_manifest
from skylet.manifest.model import FunctionSpec, Manifest, ProvisionedConcurrencySchedule
from skylet.manifest.resources import Resource
from skylet.manifest.schedule import ScheduleExpression
from skylet.manifest.variables import LOCAL_ACCOUNT_ID

__all__ = [
    "LOCAL_ACCOUNT_ID",
    "MANIFEST_NAMES",
    "S3_EVENT_TYPES",
    "CloudEventTrigger",
    "CorsConfig",
    "DeliverySpec",
    "Event",
    "EventBridgeEvent",
    "FrozenDict",
    "FunctionSpec",
    "HttpApiEvent",
    "HttpEvent",
    "Intrinsic",
    "Manifest",
    "ProvisionedConcurrencySchedule",
    "Resource",
    "S3Event",
    "S3Rule",
    "ScheduleEvent",
    "ScheduleExpression",
    "SnsEvent",
    "SqsEvent",
    "StreamEvent",
    "find_manifest",
    "load_manifest",
]
