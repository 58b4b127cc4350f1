"""``Sns``: skylet's SNS, one ``Service`` (``service_name = "sns"``) whose operations are in
``topics.py``, ``subscriptions.py`` and ``publishing.py``; the composition root builds it::

    sns = Sns(store, functions, endpoint="http://127.0.0.1:9000", region="us-east-1")  # no I/O
    await sns.start()            # after the store: the catalog, the signing key, the deliveries
    response = await handle(sns, method, path, query, headers, body, models=…, request_id=…)
    sns.certificate(path)        # the PEM a SigningCertURL names (a GET the router serves)
    await sns.aclose()

``TopicPublisher(sns)`` is what Lambda destinations and dead-letter targets that name a topic
publish through. ``declare`` makes the manifest's topics and subscriptions exist.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from skylet import arns
from skylet.aws.protocols.types import Params
from skylet.aws.sns.catalog import Catalog, Subscription, Topic
from skylet.aws.sns.declared import Declarations
from skylet.aws.sns.delivery import Deliveries, DeliverySettings
from skylet.aws.sns.envelopes import Links
from skylet.aws.sns.names import check_topic_name, subscription_arn, topic_arn
from skylet.aws.sns.publishing import PUBLISHES, PublishOps
from skylet.aws.sns.signing import Signer, generate
from skylet.aws.sns.sinks import Functions, HttpPoster, HttpxPoster, QueueSink
from skylet.aws.sns.subscriptions import SubscriptionOps, check_attributes, check_endpoint
from skylet.aws.sns.topics import TopicOps, check_attribute
from skylet.errors import ConfigError, ResourceNotFound, ServiceError
from skylet.ids import UuidPool
from skylet.store.base import Store


class Sns(TopicOps, SubscriptionOps, PublishOps):
    """SNS over the durable store. Built without I/O; ``start`` once the store is started."""

    def __init__(
        self,
        store: Store,
        functions: Functions,
        *,
        endpoint: str,
        region: str = "us-east-1",
        account_id: str = arns.ACCOUNT_ID,
        queues: QueueSink | None = None,
        http: HttpPoster | None = None,
        settings: DeliverySettings | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._owned_http = HttpxPoster() if http is None else None
        deliveries = Deliveries(
            store,
            functions,
            http or self._owned_http,  # type: ignore[arg-type]
            queues,
            settings or DeliverySettings(),
        )
        super().__init__(Catalog(store), deliveries, now=now)
        self.store = store
        #: Where subscribers reach skylet: the base of SigningCertURL, UnsubscribeURL and
        #: SubscribeURL.
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.account_id = account_id
        self.signer: Signer | None = None
        self._ids = UuidPool()
        self._policies = {}

    @property
    def queues(self) -> QueueSink | None:
        return self.deliveries.queues

    @queues.setter
    def queues(self, sink: QueueSink | None) -> None:
        """The SQS service, bound by the composition root once it exists."""
        self.deliveries.queues = sink

    async def start(self) -> None:
        await self.catalog.start()
        key = self.catalog.key
        if key is None:
            moment = datetime.datetime.fromtimestamp(self.now(), tz=datetime.UTC)
            key = await self.catalog.put_key(generate(moment))
        self.signer = Signer(key)
        await self.store.create_queue(PUBLISHES, retention_s=60.0, fifo=True)
        await self.deliveries.start(Links(self.endpoint, self.signer))

    async def aclose(self, grace_s: float = 10.0) -> None:
        await self.deliveries.aclose(grace_s)
        if self._owned_http is not None:
            await self._owned_http.aclose()

    def certificate(self, path: str) -> str | None:
        """The signing certificate (PEM) when ``path`` is its SigningCertURL's path."""
        signer = self.signer
        return signer.cert_pem if signer is not None and path == signer.cert_path else None

    def arn(self, name: str, region: str | None = None) -> str:
        return topic_arn(region or self.region, self.account_id, name)

    async def publish_message(
        self,
        topic: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        group_id: str | None = None,
    ) -> Params:
        """Publish to a topic by name or ARN, as the Publish operation would (its checks and
        errors), for skylet's own publishers (destinations, alarms, ``skylet topic publish``)."""
        await self.catalog.refresh()
        arn = topic if topic.startswith("arn:") else self.arn(topic)
        found = self.catalog.topics.get(arn)
        if found is None:
            raise ResourceNotFound(f"Topic does not exist: {arn}")
        request: dict[str, Any] = {"Message": message}
        if subject is not None:
            request["Subject"] = subject
        if attributes:
            request["MessageAttributes"] = attributes
        if found.fifo:
            request["MessageGroupId"] = group_id or "skylet"
            request.setdefault("MessageDeduplicationId", next(iter(self._ids.take(1))))
        return await self.fan_out(found, self.message_of(found, request))

    async def ensure_topic(
        self, name: str, *, region: str | None = None, attributes: Mapping[str, str] | None = None
    ) -> str:
        """Create the topic unless it exists (a declared one keeps what the API set since)."""
        await self.catalog.refresh()
        arn = self.arn(name, region)
        if arn not in self.catalog.topics:
            given = dict(attributes or {})
            if name.endswith(".fifo"):
                given["FifoTopic"] = "true"
                given.setdefault("ContentBasedDeduplication", "false")
            await self.catalog.put_topic(Topic(arn, name, given, {}, self.now()))
        return arn

    async def ensure_subscription(
        self, topic: str, protocol: str, endpoint: str, attributes: Mapping[str, str]
    ) -> str:
        """Subscribe unless an equal subscription exists (confirmed: the manifest's author
        owns the endpoint); a declared subscription's attributes follow the manifest."""
        await self.catalog.refresh()
        for existing in self.catalog.of_topic(topic):
            if existing.protocol == protocol and existing.endpoint == endpoint:
                if dict(existing.attributes) != dict(attributes) or not existing.declared:
                    changed = replace(existing, attributes=dict(attributes), declared=True)
                    await self.catalog.put_subscription(changed)
                return existing.arn
        subscription = Subscription(
            subscription_arn(topic),
            topic,
            protocol,
            endpoint,
            dict(attributes),
            created_at=self.now(),
            declared=True,
        )
        await self.catalog.put_subscription(subscription)
        return subscription.arn

    async def declare(self, declared: Declarations, region: str) -> None:
        """Make the manifest's topics and subscriptions exist (``region``: the manifest's),
        their attributes checked as the API checks them; remove the subscriptions an earlier
        manifest declared that this one does not. What SNS would refuse is a ``ConfigError``
        naming the declaration."""
        self.region = region
        for topic in declared.topics:
            fifo = topic.name.endswith(".fifo")
            try:
                check_topic_name(topic.name, fifo=fifo)
                for key, value in topic.attributes.items():
                    if key != "FifoTopic":
                        check_attribute(key, value, fifo=fifo, reason="")
            except ServiceError as error:
                raise ConfigError(f"topic {topic.name}: {error.message}") from None
            await self.ensure_topic(topic.name, attributes=topic.attributes)
        wanted: set[str] = set()
        for sub in declared.subscriptions:
            arn = self.arn(sub.topic)
            found = self.catalog.topics.get(arn)
            if found is None:
                raise ConfigError(f"a subscription names topic {sub.topic}, which does not exist")
            try:
                check_endpoint(sub.protocol, sub.endpoint, found)
                attributes = check_attributes(sub.attributes, sub.protocol, found, subscribe=False)
            except ServiceError as error:
                raise ConfigError(
                    f"the {sub.protocol} subscription of {sub.endpoint} to {sub.topic}: "
                    f"{error.message}"
                ) from None
            wanted.add(await self.ensure_subscription(arn, sub.protocol, sub.endpoint, attributes))
        for gone in [s for s in self.catalog.subscriptions.values() if s.declared]:
            if gone.arn not in wanted:
                await self.catalog.delete_subscription(gone.arn)


class TopicPublisher:
    """``events.destinations.TopicPublisher`` over SNS: a destination record (or a dead
    letter) published to the topic the destination names."""

    def __init__(self, sns: Sns) -> None:
        self._sns = sns

    async def publish(self, topic: str, message: bytes, attributes: Mapping[str, str]) -> None:
        typed = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v}
        await self._sns.publish_message(topic, message.decode(), attributes=typed)
