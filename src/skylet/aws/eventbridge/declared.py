"""The buses, rules and targets a manifest declares, as CloudFormation and the Serverless
Framework would create them. Pure: the manifest in, declarations out; ``EventBridge.declare``
makes them exist (and removes the rules an earlier manifest declared and this one does not).

- ``AWS::Events::EventBus`` resources (``Name``);
- ``AWS::Events::Rule`` resources (``Name``, else ``service-stage-LogicalId``;
  ``EventBusName``, ``EventPattern`` as an object or JSON text, ``ScheduleExpression``,
  ``State``, ``Description``, ``Targets`` with ``Id``, ``Arn``, ``Input``, ``InputPath``,
  ``InputTransformer``, ``RetryPolicy``, ``DeadLetterConfig``, ``SqsParameters``);
- ``eventBridge`` events of functions (serverless.yml: ``eventBus`` a name or an ARN, the bus
  created when missing; ``pattern`` or ``schedule``; ``input``, ``inputPath``, ``inputTransformer``;
  ``retryPolicy``; ``deadLetterQueueArn``; ``name``, else ``FUNCTIONNAME-rule-N``, N the
  event's place among the function's events;
  ``description``; ``enabled``): one rule whose target is the function.

Intrinsics resolve as CloudFormation's: ``!Ref Bus`` to the bus's name and ``!GetAtt
Bus.Arn`` to its ARN; ``!Ref Rule`` to the rule's name (``bus|rule`` on another bus) and
``!GetAtt Rule.Arn`` to its ARN; targets' ``!GetAtt Fn.Arn``/``Queue.Arn``, ``!Ref Topic`` as
SNS's declarations resolve them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skylet import arns
from skylet.aws.eventbridge.catalog import DEFAULT_BUS, Target
from skylet.aws.eventbridge.pattern import compile_pattern
from skylet.aws.eventbridge.retries import policy_problem
from skylet.aws.sns.declared import ArnResolver
from skylet.errors import ApiError, ConfigError
from skylet.manifest import Manifest
from skylet.manifest.events import EventBridgeEvent
from skylet.manifest.frozen import thaw
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import EVENT_BUS, EVENTS_RULE, Resource
from skylet.manifest.schedule import ScheduleExpression
from skylet.schedules.target_input import InputError

_TARGET_KEYS = ("Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig")
_MAX_RULE_NAME = 64
_MAX_TARGET_ID = 64


@dataclass(frozen=True, slots=True)
class DeclaredRule:
    bus: str
    name: str
    pattern: str | None
    schedule: str | None
    state: str
    description: str
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class Declarations:
    buses: tuple[str, ...] = ()
    rules: tuple[DeclaredRule, ...] = ()


def _rule_name(manifest: Manifest, resource: Resource) -> str:
    return resource.name_in(manifest.service, manifest.stage)[:_MAX_RULE_NAME]


def _bus_of(value: str) -> str:
    return value.split(":event-bus/", 1)[1] if ":event-bus/" in value else value


def events_reference(manifest: Manifest, value: Any) -> str | None:
    """What a ``Ref``/``Fn::GetAtt`` of a declared bus or rule gives; None for anything else."""
    if not isinstance(value, Intrinsic) or not value.logical_id:
        return None
    resource = manifest.resources.get(value.logical_id)
    if resource is None or resource.type not in (EVENT_BUS, EVENTS_RULE):
        return None
    region = manifest.region
    if resource.type == EVENT_BUS:
        name = resource.name_in(manifest.service, manifest.stage)
        if value.attribute == "Arn":
            return arns.arn("events", f"event-bus/{name}", region=region)
        return name if value.fn == "Ref" or value.attribute == "Name" else None
    name = _rule_name(manifest, resource)
    bus = _bus_name(manifest, resource.properties.get("EventBusName"), "")
    if value.attribute == "Arn":
        resource_path = f"rule/{name}" if bus == DEFAULT_BUS else f"rule/{bus}/{name}"
        return arns.arn("events", resource_path, region=region)
    if value.fn == "Ref":
        return name if bus == DEFAULT_BUS else f"{bus}|{name}"
    return None


def _bus_name(manifest: Manifest, value: Any, where: str) -> str:
    if value is None:
        return DEFAULT_BUS
    if isinstance(value, str):
        return _bus_of(value)
    found = events_reference(manifest, value)
    if found is None:
        raise ConfigError(f"{manifest.source}: {where}: {value} does not name a declared bus")
    return _bus_of(found)


class _Targets:
    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.arns = ArnResolver(manifest)

    def arn(self, value: Any, where: str) -> str:
        found = events_reference(self.manifest, value)
        if found is not None and found.startswith("arn:"):
            return found
        return self.arns.arn(value, where)

    def check(self, target: Target, where: str) -> Target:
        try:
            target.input()
        except InputError as error:
            raise ConfigError(f"{self.manifest.source}: {where}: {error}") from None
        problem = policy_problem(target.spec)
        if problem is not None:
            raise ConfigError(f"{self.manifest.source}: {where}: {problem}")
        return target


def _pattern(manifest: Manifest, value: Any, where: str) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(thaw(value))
    try:
        compile_pattern(text)
    except ApiError as error:
        raise ConfigError(f"{manifest.source}: {where}: {error}") from None
    return text


def _schedule(manifest: Manifest, value: Any, bus: str, where: str) -> str | None:
    if value is None:
        return None
    if bus != DEFAULT_BUS:
        raise ConfigError(
            f"{manifest.source}: {where}: a schedule runs only on the default event bus, "
            f"not on {bus!r} (as EventBridge requires)"
        )
    try:
        ScheduleExpression.parse(str(value))
    except ValueError as error:
        raise ConfigError(f"{manifest.source}: {where}: {error}") from None
    return str(value)


def declarations(manifest: Manifest) -> Declarations:
    """Every bus and rule the manifest declares. ConfigError names the key of a reference
    that does not resolve, a malformed pattern, schedule, input or retry policy."""
    targets = _Targets(manifest)
    buses: dict[str, None] = {}
    rules: list[DeclaredRule] = []
    for logical_id, resource in manifest.resources.items():
        where = f"resources.{logical_id}.Properties"
        props = resource.properties
        if resource.type == EVENT_BUS:
            buses[resource.name_in(manifest.service, manifest.stage)] = None
        elif resource.type == EVENTS_RULE:
            bus = _bus_name(manifest, props.get("EventBusName"), f"{where}.EventBusName")
            buses.setdefault(bus, None)
            schedule = props.get("ScheduleExpression")
            declared: list[Target] = []
            for index, spec in enumerate(props.get("Targets") or ()):
                at = f"{where}.Targets[{index}]"
                extra = {k: thaw(spec[k]) for k in _TARGET_KEYS if k in spec}
                if "DeadLetterConfig" in extra:
                    dlq = spec["DeadLetterConfig"].get("Arn")
                    extra["DeadLetterConfig"] = {"Arn": targets.arn(dlq, f"{at}.DeadLetterConfig")}
                if "SqsParameters" in spec:
                    extra["SqsParameters"] = thaw(spec["SqsParameters"])
                arn = targets.arn(spec.get("Arn"), f"{at}.Arn")
                declared.append(targets.check(Target(str(spec.get("Id")), arn, extra), at))
            rules.append(
                DeclaredRule(
                    bus,
                    _rule_name(manifest, resource),
                    _pattern(manifest, props.get("EventPattern"), f"{where}.EventPattern"),
                    _schedule(manifest, schedule, bus, f"{where}.ScheduleExpression"),
                    str(props.get("State", "ENABLED")),
                    str(props.get("Description", "")),
                    tuple(declared),
                )
            )
    for key, spec in manifest.functions.items():
        for index, event in enumerate(spec.events):
            if not isinstance(event, EventBridgeEvent):
                continue
            where = f"functions.{key}.events[{index}].eventBridge"
            bus = _bus_name(manifest, event.event_bus, f"{where}.eventBus")
            # The framework creates a bus named by name; one named by ARN exists on AWS before
            # the stack, and on skylet only if something creates it: the manifest does.
            buses.setdefault(bus, None)
            extra = _event_target(targets, event, where)
            function_arn = arns.function_arn(spec.name, region=manifest.region)
            # The framework's names: the deployed function's name and the event's place among
            # the function's events (from 1); the target is the rule's name and "-target".
            name = (event.name or f"{spec.name}-rule-{index + 1}")[:_MAX_RULE_NAME]
            target_id = f"{name}-target"[:_MAX_TARGET_ID]
            target = targets.check(Target(target_id, function_arn, extra), where)
            schedule = event.schedule.expression if event.schedule is not None else None
            rules.append(
                DeclaredRule(
                    bus,
                    name,
                    _pattern(manifest, event.pattern, f"{where}.pattern"),
                    _schedule(manifest, schedule, bus, f"{where}.schedule"),
                    "ENABLED" if event.enabled else "DISABLED",
                    event.description or "",
                    (target,),
                )
            )
    buses.pop(DEFAULT_BUS, None)
    _check_unique(manifest, rules)
    return Declarations(tuple(buses), tuple(rules))


def _event_target(targets: _Targets, event: EventBridgeEvent, where: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if event.input is not None:
        extra["Input"] = json.dumps(thaw(event.input))
    if event.input_path is not None:
        extra["InputPath"] = event.input_path
    if event.input_transformer is not None:
        given: Mapping[str, Any] = thaw(event.input_transformer)
        extra["InputTransformer"] = {
            "InputPathsMap": given.get("inputPathsMap") or {},
            "InputTemplate": given.get("inputTemplate", ""),
        }
    if event.retry_policy is not None:
        policy: dict[str, int] = {}
        if event.retry_policy.maximum_retry_attempts is not None:
            policy["MaximumRetryAttempts"] = event.retry_policy.maximum_retry_attempts
        if event.retry_policy.maximum_event_age is not None:
            policy["MaximumEventAgeInSeconds"] = event.retry_policy.maximum_event_age
        extra["RetryPolicy"] = policy
    if event.dead_letter_queue_arn is not None:
        dlq = targets.arn(event.dead_letter_queue_arn, f"{where}.deadLetterQueueArn")
        extra["DeadLetterConfig"] = {"Arn": dlq}
    return extra


def _check_unique(manifest: Manifest, rules: list[DeclaredRule]) -> None:
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        if (rule.bus, rule.name) in seen:
            raise ConfigError(
                f"{manifest.source}: two rules are named {rule.name!r} on bus {rule.bus!r}: "
                "give each its own name"
            )
        seen.add((rule.bus, rule.name))
