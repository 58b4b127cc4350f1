"""The topics and subscriptions a manifest declares, as CloudFormation and the Serverless
Framework would create them. Pure: the manifest in, declarations out; ``Sns.declare`` makes
them exist.

- ``AWS::SNS::Topic`` resources (``TopicName``, else ``service-stage-LogicalId``; FifoTopic,
  ContentBasedDeduplication, DisplayName, SignatureVersion, DeliveryPolicy, … and inline
  ``Subscription: [{Protocol, Endpoint}]``);
- ``AWS::SNS::Subscription`` resources (``TopicArn``, ``Protocol``, ``Endpoint``,
  ``FilterPolicy``, ``FilterPolicyScope``, ``RawMessageDelivery``, ``RedrivePolicy``,
  ``DeliveryPolicy``);
- ``sns`` events of functions (serverless.yml: ``arn``, ``topicName``, ``filterPolicy``,
  ``filterPolicyScope``, ``redrivePolicy``; ``sns: topicName``): the function subscribed, and
  a topic named only by ``topicName`` created, as the framework creates it.

Intrinsics resolve as CloudFormation's: ``!Ref Topic`` and ``!GetAtt Topic.TopicArn`` to the
topic's ARN, ``!GetAtt Queue.Arn`` to a queue's, ``!GetAtt NotifyLambdaFunction.Arn`` (the
framework's logical id of function ``notify``) to the function's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skylet import arns
from skylet.errors import ConfigError
from skylet.manifest import Manifest
from skylet.manifest.events import SnsEvent
from skylet.manifest.frozen import thaw
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import SNS_SUBSCRIPTION, SNS_TOPIC, SQS_QUEUE, Resource

_TOPIC_ATTRIBUTES = (
    "DisplayName",
    "FifoTopic",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "DeliveryPolicy",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
)
_SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
)


@dataclass(frozen=True, slots=True)
class DeclaredTopic:
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeclaredSubscription:
    topic: str  # the topic's name
    protocol: str
    endpoint: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Declarations:
    topics: tuple[DeclaredTopic, ...] = ()
    subscriptions: tuple[DeclaredSubscription, ...] = ()


def _text(value: Any) -> str:
    """An attribute's value as SNS's API takes it: JSON for objects, ``true`` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | tuple | list):
        return json.dumps(thaw(value))
    return str(value)


def serverless_function_id(key: str) -> str:
    """The framework's logical id of a function's ``AWS::Lambda::Function``."""
    normal = key.replace("-", "Dash").replace("_", "Underscore")
    return normal[:1].upper() + normal[1:] + "LambdaFunction"


class ArnResolver:
    """The ARN a declared topic, queue or function's intrinsic names (EventBridge's declared
    targets use it too)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.region = manifest.region
        self.functions = {serverless_function_id(k): f.name for k, f in manifest.functions.items()}

    def topic_name(self, resource: Resource) -> str:
        return resource.name_in(self.manifest.service, self.manifest.stage)

    def arn(self, value: Any, where: str) -> str:
        """The ARN a string or intrinsic names; ConfigError naming ``where`` otherwise."""
        if isinstance(value, str):
            return value
        if isinstance(value, Intrinsic) and value.logical_id:
            logical = value.logical_id
            resource = self.manifest.resources.get(logical)
            topic = resource is not None and resource.type == SNS_TOPIC
            if topic and (value.fn == "Ref" or value.attribute == "TopicArn"):
                assert resource is not None
                return arns.arn("sns", self.topic_name(resource), region=self.region)
            if resource is not None and resource.type == SQS_QUEUE and value.attribute == "Arn":
                name = resource.physical_name or resource.name_in(
                    self.manifest.service, self.manifest.stage
                )
                return arns.arn("sqs", name, region=self.region)
            if logical in self.functions and value.attribute == "Arn":
                return arns.function_arn(self.functions[logical], region=self.region)
        raise ConfigError(
            f"{self.manifest.source}: {where}: {value} is not an ARN skylet can resolve"
        )

    def topic_of(self, value: Any, where: str) -> str:
        return self.arn(value, where).rsplit(":", 1)[-1]


def topic_reference(manifest: Manifest, value: Any) -> str | None:
    """What ``!Ref Topic``, ``!GetAtt Topic.TopicArn`` (the ARN) or ``!GetAtt
    Topic.TopicName`` of a declared topic gives; None for anything else."""
    if not isinstance(value, Intrinsic) or not value.logical_id:
        return None
    resource = manifest.resources.get(value.logical_id)
    if resource is None or resource.type != SNS_TOPIC:
        return None
    resolve = ArnResolver(manifest)
    if value.attribute == "TopicName":
        return resolve.topic_name(resource)
    if value.fn == "Ref" or value.attribute == "TopicArn":
        return resolve.arn(value, "")
    return None


def declarations(manifest: Manifest) -> Declarations:
    """Every topic and subscription the manifest declares. ConfigError for a reference that
    does not resolve (it names the key)."""
    resolve = ArnResolver(manifest)
    topics: dict[str, DeclaredTopic] = {}
    subscriptions: list[DeclaredSubscription] = []
    attributes: dict[str, str]
    for logical_id, resource in manifest.resources.items():
        where = f"resources.{logical_id}.Properties"
        props = resource.properties
        if resource.type == SNS_TOPIC:
            name = resolve.topic_name(resource)
            attributes = {k: _text(props[k]) for k in _TOPIC_ATTRIBUTES if k in props}
            topics[name] = DeclaredTopic(name, attributes)
            for index, inline in enumerate(props.get("Subscription") or ()):
                subscriptions.append(
                    DeclaredSubscription(
                        name,
                        str(inline.get("Protocol", "")).lower(),
                        resolve.arn(inline.get("Endpoint"), f"{where}.Subscription[{index}]"),
                    )
                )
        elif resource.type == SNS_SUBSCRIPTION:
            attributes = {}
            for key in _SUBSCRIPTION_ATTRIBUTES:
                if key not in props:
                    continue
                value = props[key]
                if key == "RedrivePolicy" and isinstance(value, Mapping):
                    target = value.get("deadLetterTargetArn")
                    value = {"deadLetterTargetArn": resolve.arn(target, f"{where}.{key}")}
                attributes[key] = _text(value)
            subscriptions.append(
                DeclaredSubscription(
                    resolve.topic_of(props.get("TopicArn"), f"{where}.TopicArn"),
                    str(props.get("Protocol", "")).lower(),
                    resolve.arn(props.get("Endpoint"), f"{where}.Endpoint"),
                    attributes,
                )
            )
    for key, spec in manifest.functions.items():
        function_arn = arns.function_arn(spec.name, region=manifest.region)
        for index, event in enumerate(spec.events):
            if not isinstance(event, SnsEvent):
                continue
            where = f"functions.{key}.events[{index}].sns"
            if event.arn is not None:
                name = resolve.topic_of(event.arn, f"{where}.arn")
            else:
                assert event.topic_name is not None
                name = event.topic_name
                topics.setdefault(name, DeclaredTopic(name))
            wanted: dict[str, str] = {}
            if event.filter_policy is not None:
                wanted["FilterPolicy"] = _text(event.filter_policy)
                wanted["FilterPolicyScope"] = event.filter_policy_scope
            if event.redrive_policy is not None:
                wanted["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": _dead_letter(resolve, event.redrive_policy, where)}
                )
            subscriptions.append(DeclaredSubscription(name, "lambda", function_arn, wanted))
    return Declarations(tuple(topics.values()), tuple(subscriptions))


def _dead_letter(resolve: ArnResolver, policy: Mapping[str, Any], where: str) -> str:
    ((key, value),) = policy.items()
    at = f"{where}.redrivePolicy.{key}"
    if key == "deadLetterTargetRef":
        return resolve.arn(Intrinsic("Fn::GetAtt", (value, "Arn")), at)
    if key == "deadLetterTargetImport":
        if isinstance(value, Mapping):
            return resolve.arn(value.get("arn"), f"{at}.arn")
        raise ConfigError(f"{resolve.manifest.source}: {at}: {value} is not {{arn, url}}")
    return resolve.arn(value, at)
