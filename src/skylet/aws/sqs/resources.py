"""The manifest's SQS side: ``AWS::SQS::Queue`` resources as the queues CloudFormation would
make, ``Ref``/``Fn::GetAtt`` on them, and the queue an ``sqs`` event reads. Pure.

A resource's Properties are CloudFormation's (numbers, booleans, objects); SQS takes strings,
so ``VisibilityTimeout: 60`` is ``"60"``, ``FifoQueue: true`` is ``"true"``, and a
RedrivePolicy object, its ``deadLetterTargetArn`` resolved (``!GetAtt Dlq.Arn``), is its JSON
text. A property left out is SQS's default, so removing one from the manifest resets it.
``Ref`` gives the queue's URL, ``Fn::GetAtt`` its ``Arn``, ``QueueName`` or ``QueueUrl``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skylet.aws.sqs.attributes import SETTABLE
from skylet.errors import ConfigError
from skylet.manifest import Manifest
from skylet.manifest.events import SqsEvent
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import SQS_QUEUE, Resource

#: SQS's defaults, which a declared queue returns to when the manifest no longer sets them.
DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "RedrivePolicy": "",
}
_NOT_ATTRIBUTES = frozenset({"QueueName", "Tags"})


@dataclass(frozen=True, slots=True)
class DeclaredQueue:
    logical_id: str
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


class Names:
    """How the manifest's queue resources are named and referred to."""

    def __init__(self, manifest: Manifest, url: Callable[[str], str], arn: Callable[[str], str]):
        self.manifest = manifest
        self._url = url
        self._arn = arn

    def queues(self) -> dict[str, Resource]:
        return {k: r for k, r in self.manifest.resources.items() if r.type == SQS_QUEUE}

    def name(self, resource: Resource) -> str:
        return resource.name_in(self.manifest.service, self.manifest.stage)

    def resolve(self, value: Any) -> str | None:
        """What ``Ref``/``Fn::GetAtt`` of a declared queue gives; None for anything else."""
        if not isinstance(value, Intrinsic) or value.logical_id is None:
            return None
        resource = self.queues().get(value.logical_id)
        if resource is None:
            return None
        name = self.name(resource)
        if value.fn == "Ref":
            return self._url(name)
        return {"Arn": self._arn(name), "QueueName": name, "QueueUrl": self._url(name)}.get(
            value.attribute or ""
        )

    def event_queue(self, event: SqsEvent) -> str | None:
        """The queue an ``sqs`` event reads: a declared queue's, or the one its ARN (or, in
        skylet.yaml, its name) gives."""
        if isinstance(event.queue, Intrinsic):
            resource = self.manifest.resolve_ref(event.queue)
            return self.name(resource) if resource is not None else None
        return event.queue_name

    def declared(self) -> list[DeclaredQueue]:
        """Every declared queue, dead-letter queues before the queues that use them."""
        made = [self._declared(logical_id, r) for logical_id, r in self.queues().items()]
        ordered: list[DeclaredQueue] = []
        pending = list(made)
        while pending:
            done = {q.name for q in ordered}
            waiting = {q.name for q in pending}
            ready = [q for q in pending if _target(q) in done or _target(q) not in waiting]
            # A cycle of redrive policies: its first queue goes first, and SQS's check fails.
            for queue in ready or pending[:1]:
                pending.remove(queue)
                ordered.append(queue)
        return ordered

    def _declared(self, logical_id: str, resource: Resource) -> DeclaredQueue:
        where = f"{self.manifest.source}: resources.{logical_id}.Properties"
        attributes = dict(DEFAULTS)
        for key, value in resource.properties.items():
            if key in _NOT_ATTRIBUTES:
                continue
            if key not in SETTABLE:
                raise ConfigError(f"{where}.{key}: not a property of {SQS_QUEUE}")
            attributes[key] = self._text(value, f"{where}.{key}")
        if attributes.get("FifoQueue") == "false":
            del attributes["FifoQueue"]
        tags: dict[str, str] = {}
        for tag in resource.properties.get("Tags") or ():
            if not isinstance(tag, Mapping) or "Key" not in tag:
                raise ConfigError(f"{where}.Tags: each tag is {{Key, Value}}")
            tags[str(tag["Key"])] = self._text(tag.get("Value", ""), f"{where}.Tags")
        return DeclaredQueue(logical_id, self.name(resource), attributes, tags)

    def _text(self, value: Any, where: str) -> str:
        """A property's value as SQS's attribute text, its intrinsics resolved."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(int(value))
        if isinstance(value, str):
            return value
        if isinstance(value, Intrinsic):
            resolved = self.resolve(value)
            if resolved is None:
                raise ConfigError(f"{where}: {value} is not a queue declared in this manifest")
            return resolved
        if isinstance(value, Mapping):
            return json.dumps(self._document(value, where), separators=(",", ":"))
        raise ConfigError(f"{where}: {value!r} is not a value SQS takes")

    def _document(self, value: Any, where: str) -> Any:
        if isinstance(value, Intrinsic):
            return self._text(value, where)
        if isinstance(value, Mapping):
            return {str(k): self._document(v, where) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._document(v, where) for v in value]
        return value


def _target(queue: DeclaredQueue) -> str | None:
    """The dead-letter queue a declared queue's RedrivePolicy names, by name."""
    policy = queue.attributes.get("RedrivePolicy")
    if not policy:
        return None
    try:
        arn = json.loads(policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        return None
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) else None
