"""Brokers and their triggers, compiled from the manifest's ``cloudevent`` events and the
Knative documents: one frozen ``Topology`` per deploy. Pure.

- Brokers: ``default`` always, every Broker document, and every broker a ``cloudevent`` event
  names (made for it, as a convenience of the manifest).
- Triggers: each Trigger document, and each ``cloudevent`` event (named
  ``FUNCTION-cloudevent-N``), its filter compiled once (skylet.eventing.filters).
- Delivery: the trigger's ``delivery``, else its broker's, else Knative's broker defaults
  (skylet.eventing.policy). Within a given ``delivery``, a missing ``retry`` is 0 (no retries)
  and a missing ``backoffDelay`` 0.2 s.
- Subscribers and sinks: a function (a Knative Service names the skylet function of that name
  or manifest key), a broker, or an http(s) URI. Anything else is a ConfigError naming the
  document or function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from skylet.errors import ConfigError
from skylet.eventing.filters import FilterError, compile_filter
from skylet.eventing.policy import DEFAULT, Policy, duration_s
from skylet.manifest import CloudEventTrigger, DeliverySpec, Manifest
from skylet.manifest import knative as kn

DEFAULT_BROKER = "default"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class Sink:
    """Where a delivery goes: a deployed function (by Lambda name), a broker, or a URI."""

    kind: Literal["function", "broker", "uri"]
    target: str  # the function's name, the broker's name, or the URI

    def describe(self) -> str:
        return self.target if self.kind == "uri" else f"{self.kind} {self.target}"


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    broker: str
    subscriber: Sink
    policy: Policy
    dead_letter: Sink | None
    matches: Callable[[Mapping[str, Any]], bool] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Ping:
    """A PingSource: at each fire, ``dev.knative.sources.ping`` with ``data`` into ``sink``."""

    name: str
    namespace: str
    sink: Sink
    data: bytes
    content_type: str
    source: kn.PingSource

    @property
    def schedule(self) -> str:
        """Its schedule's name (``skylet schedule ls``)."""
        return f"pingsource-{self.namespace}-{self.name}"

    @property
    def trigger(self) -> str:
        """The delivery its sink is reached through, when the sink is not a broker."""
        return f"{self.schedule}:sink"


@dataclass(frozen=True, slots=True)
class S3Source:
    name: str
    bucket: str
    broker: str


@dataclass(frozen=True, slots=True)
class Topology:
    #: Broker name → its namespace.
    brokers: Mapping[str, str]
    triggers: Mapping[str, Trigger]
    by_broker: Mapping[str, tuple[Trigger, ...]]
    pings: tuple[Ping, ...] = ()
    s3_sources: tuple[S3Source, ...] = ()

    def matching(self, broker: str, event: Mapping[str, Any]) -> list[Trigger]:
        return [t for t in self.by_broker.get(broker, ()) if t.matches(event)]


EMPTY = Topology({DEFAULT_BROKER: DEFAULT_NAMESPACE}, {}, {})


class _Functions:
    """Function keys and names → deployed names."""

    def __init__(self, manifest: Manifest | None) -> None:
        self.names: dict[str, str] = {}
        for key, spec in manifest.functions.items() if manifest is not None else ():
            self.names[key] = spec.name
            self.names[spec.name] = spec.name

    def resolve(self, name: str, where: str) -> str:
        found = self.names.get(name)
        if found is None:
            known = ", ".join(sorted(set(self.names.values()))) or "none"
            raise ConfigError(
                f"{where}: {name!r} is not a function of the manifest (functions: {known})"
            )
        return found


def _policy(delivery: kn.Delivery | DeliverySpec | None, where: str) -> Policy:
    if delivery is None:
        return DEFAULT
    try:
        delay = duration_s(delivery.backoff_delay) if delivery.backoff_delay else DEFAULT.delay_s
        timeout = duration_s(delivery.timeout) if delivery.timeout else None
    except ValueError as error:
        raise ConfigError(f"{where}: delivery: {error}") from None
    backoff = delivery.backoff_policy or "exponential"
    form: Literal["json", "binary"] = (
        "json" if getattr(delivery, "format", None) == "json" else "binary"
    )
    after = getattr(delivery, "retry_after_max", None)
    try:
        after_max = duration_s(after) if after else None
    except ValueError as error:
        raise ConfigError(f"{where}: delivery: {error}") from None
    return Policy(
        retry=delivery.retry or 0,
        backoff=backoff,
        delay_s=delay,
        timeout_s=timeout,
        format=form,
        retry_after_max_s=after_max,
    )


def _sink(
    destination: kn.Destination, functions: _Functions, brokers: Iterable[str], where: str
) -> Sink:
    if destination.kind == "function":
        return Sink("function", functions.resolve(destination.name, where))
    if destination.kind == "broker":
        if destination.name not in brokers:
            raise ConfigError(f"{where}: Broker {destination.name!r} is not declared")
        return Sink("broker", destination.name)
    return Sink("uri", destination.uri)


def _named_sink(value: str, functions: _Functions, where: str) -> Sink:
    """A manifest's ``dead_letter_sink``: a URL or a function key or name."""
    if value.startswith(("http://", "https://")):
        return Sink("uri", value)
    return Sink("function", functions.resolve(value, where))


def build(manifest: Manifest | None, documents: kn.Documents | None = None) -> Topology:
    """The topology of one deploy; ConfigError for a trigger skylet cannot run."""
    functions = _Functions(manifest)
    documents = documents or kn.Documents()
    brokers: dict[str, str] = {DEFAULT_BROKER: DEFAULT_NAMESPACE}
    broker_delivery: dict[str, kn.Delivery | None] = {}
    for broker in documents.brokers:
        brokers[broker.name] = broker.namespace
        broker_delivery[broker.name] = broker.delivery
    triggers: list[Trigger] = []
    for spec in manifest.functions.values() if manifest is not None else ():
        count = 0
        for event in spec.events:
            if not isinstance(event, CloudEventTrigger):
                continue
            count += 1
            name = f"{spec.name}-cloudevent-{count}"
            where = f"function {spec.key}: cloudevent event {count}"
            brokers.setdefault(event.broker, DEFAULT_NAMESPACE)
            delivery = event.delivery
            dead = None
            if delivery is not None and delivery.dead_letter_sink:
                dead = _named_sink(delivery.dead_letter_sink, functions, where)
            inherited = broker_delivery.get(event.broker)
            if delivery is None and inherited is not None and inherited.dead_letter_sink:
                dead = _sink(inherited.dead_letter_sink, functions, brokers, where)
            triggers.append(
                _trigger(
                    name,
                    event.broker,
                    Sink("function", spec.name),
                    delivery,
                    broker_delivery.get(event.broker),
                    dead,
                    dict(event.attributes),
                    list(event.filters),
                    where,
                )
            )
    for doc in documents.triggers:
        if doc.broker not in brokers:
            raise ConfigError(
                f"{doc.where}: spec.broker {doc.broker!r} is not declared "
                f"(brokers: {', '.join(sorted(brokers))})"
            )
        given = doc.delivery or broker_delivery.get(doc.broker)
        dead = None
        if given is not None and given.dead_letter_sink is not None:
            dead = _sink(given.dead_letter_sink, functions, brokers, doc.where)
        triggers.append(
            _trigger(
                doc.name,
                doc.broker,
                _sink(doc.subscriber, functions, brokers, doc.where),
                doc.delivery,
                broker_delivery.get(doc.broker),
                dead,
                dict(doc.attributes),
                list(doc.filters),
                doc.where,
            )
        )
    named: dict[str, Trigger] = {}
    for trigger in triggers:
        if trigger.name in named:
            raise ConfigError(f"two triggers are named {trigger.name!r}")
        named[trigger.name] = trigger
    by_broker: dict[str, list[Trigger]] = {}
    for trigger in triggers:
        by_broker.setdefault(trigger.broker, []).append(trigger)
    pings = tuple(
        Ping(
            p.name,
            p.namespace,
            _sink(p.sink, functions, brokers, p.where),
            p.data,
            p.content_type,
            p,
        )
        for p in documents.ping_sources
    )
    for ping in pings:  # a function or URI sink: deliveries as a trigger's, matching nothing
        if ping.sink.kind != "broker":
            named[ping.trigger] = Trigger(
                ping.trigger, "", ping.sink, DEFAULT, None, lambda _event: False
            )
    s3 = tuple(
        S3Source(s.name, s.bucket, _sink(s.sink, functions, brokers, s.where).target)
        for s in documents.s3_sources
    )
    return Topology(brokers, named, {b: tuple(ts) for b, ts in by_broker.items()}, pings, s3)


def _trigger(
    name: str,
    broker: str,
    subscriber: Sink,
    own: kn.Delivery | DeliverySpec | None,
    inherited: kn.Delivery | None,
    dead: Sink | None,
    attributes: dict[str, str],
    filters: Sequence[Any],
    where: str,
) -> Trigger:
    try:
        matches = compile_filter(attributes, filters)
    except FilterError as error:
        raise ConfigError(f"{where}: filters: {error}") from None
    return Trigger(name, broker, subscriber, _policy(own or inherited, where), dead, matches)
