"""The topics and subscriptions, kept durably in the store as a log of snapshots.

Each change appends the whole new state of one topic or subscription (or its removal) to the
log ``skylet:sns:catalog``; every node replays the log into memory and reads what it has not
seen yet before answering (``refresh``), so a topic created on one node is known on every
other node on PostgreSQL, and after a restart. Appends are ordered, so replaying them in
sequence gives every node the same state; two nodes writing the same entity at once end with
the later record, as two API calls racing on AWS do.

The log is never compacted: it grows by one record per CreateTopic, Subscribe, attribute
change or deletion, which is small beside the messages a topic carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from skylet.store.base import LogStore

CATALOG_LOG = "skylet:sns:catalog"
_READ_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Topic:
    arn: str
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    created_at: float = 0.0

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic") == "true"


@dataclass(frozen=True, slots=True)
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: An HTTP(S) subscription waits for ConfirmSubscription with ``token``.
    pending: bool = False
    token: str | None = None
    token_created_at: float = 0.0
    #: ConfirmSubscription asked for authenticated unsubscribes only.
    authenticated: bool = False
    created_at: float = 0.0
    #: Made by the manifest (``Sns.declare``): removed when the manifest no longer has it.
    declared: bool = False

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"

    def confirmed(self, *, authenticated: bool) -> Subscription:
        return replace(self, pending=False, token=None, authenticated=authenticated)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The RSA key messages are signed with, and its certificate, as PEM text."""

    key_pem: str
    cert_pem: str


def _encode(kind: str, value: Any) -> bytes:
    return json.dumps({"kind": kind, **asdict(value)}, separators=(",", ":")).encode()


class Catalog:
    """Topics and subscriptions in memory, made durable and shared through the store's log."""

    def __init__(self, store: LogStore) -> None:
        self._store = store
        self._seen = 0
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        #: Subscription ARNs per topic ARN, in creation order.
        self._by_topic: dict[str, dict[str, None]] = {}
        self.key: SigningKey | None = None

    async def start(self) -> None:
        await self._store.create_log(CATALOG_LOG)
        await self.refresh()

    async def refresh(self) -> None:
        """Apply what other nodes (and this one) appended since the last refresh."""
        while records := await self._store.read(
            CATALOG_LOG, 0, after_sequence=self._seen, limit=_READ_LIMIT
        ):
            for record in records:
                self._apply(json.loads(record.data))
            self._seen = records[-1].sequence
            if len(records) < _READ_LIMIT:
                return

    def _apply(self, entry: dict[str, Any]) -> None:
        kind = entry.pop("kind")
        if kind == "topic":
            topic = Topic(**entry)
            self.topics[topic.arn] = topic
            self._by_topic.setdefault(topic.arn, {})
        elif kind == "topic-deleted":
            self.topics.pop(entry["arn"], None)
            for arn in self._by_topic.pop(entry["arn"], {}):
                self.subscriptions.pop(arn, None)
        elif kind == "subscription":
            sub = Subscription(**entry)
            if sub.topic_arn in self.topics:
                self.subscriptions[sub.arn] = sub
                self._by_topic[sub.topic_arn][sub.arn] = None
        elif kind == "subscription-deleted":
            gone = self.subscriptions.pop(entry["arn"], None)
            if gone is not None:
                self._by_topic.get(gone.topic_arn, {}).pop(gone.arn, None)
        elif kind == "key" and self.key is None:  # the first key written wins, on every node
            self.key = SigningKey(**entry)

    async def _write(self, data: bytes) -> None:
        await self._store.append(CATALOG_LOG, [data])
        await self.refresh()

    async def put_topic(self, topic: Topic) -> None:
        await self._write(_encode("topic", topic))

    async def delete_topic(self, arn: str) -> None:
        await self._write(json.dumps({"kind": "topic-deleted", "arn": arn}).encode())

    async def put_subscription(self, subscription: Subscription) -> None:
        await self._write(_encode("subscription", subscription))

    async def delete_subscription(self, arn: str) -> None:
        await self._write(json.dumps({"kind": "subscription-deleted", "arn": arn}).encode())

    async def put_key(self, key: SigningKey) -> SigningKey:
        """Store ``key`` unless a node already did; the key every node then uses."""
        await self._write(_encode("key", key))
        assert self.key is not None
        return self.key

    def of_topic(self, topic_arn: str) -> Iterator[Subscription]:
        for arn in self._by_topic.get(topic_arn, {}):
            yield self.subscriptions[arn]
