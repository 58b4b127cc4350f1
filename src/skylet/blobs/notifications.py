"""S3 event notifications: a change to a bucket → AWS's event record → the functions subscribed
to it, invoked asynchronously through the durable queue.

The record is the one S3 sends (event structure 2.1): ``eventVersion``, ``eventSource``,
``awsRegion``, ``eventTime``, ``eventName``, ``userIdentity``, ``requestParameters``,
``responseElements``, and ``s3`` with the configuration id, the bucket (name, owner, ARN) and the
object (key URL-encoded as S3 encodes it, size, ETag and a sequencer; a deletion carries only the
key and the sequencer).

The S3 API awaits :meth:`Notifier.notify` after the object is committed and before it answers:
a client that got its 200 knows the notifications are durably queued, so a ``kill -9`` right
after a successful PUT loses none.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote_plus

from skylet.blobs.base import ObjectInfo
from skylet.manifest import Manifest
from skylet.manifest.events import S3Event

#: The principal S3 names as the requester and bucket owner in skylet's records.
PRINCIPAL = "AWS:SKYLETLOCALPRINCIPAL"
OWNER = "SKYLETOWNER"


@dataclass(frozen=True, slots=True)
class Subscription:
    function: str
    bucket: str
    event: str  # "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", …
    prefix: str
    suffix: str
    configuration_id: str

    def matches(self, bucket: str, key: str, event_name: str) -> bool:
        if bucket != self.bucket or not key.startswith(self.prefix):
            return False
        if not key.endswith(self.suffix):
            return False
        wanted = self.event.removeprefix("s3:")
        if wanted.endswith(":*"):
            return event_name.startswith(wanted[:-1])
        return event_name == wanted


def subscriptions_from_manifest(manifest: Manifest) -> list[Subscription]:
    found = []
    for spec in manifest.functions.values():
        for index, event in enumerate(e for e in spec.events if isinstance(e, S3Event)):
            found.append(
                Subscription(
                    function=spec.name,
                    bucket=event.bucket,
                    event=event.event,
                    prefix=event.prefix,
                    suffix=event.suffix,
                    configuration_id=f"{spec.name}-s3-{index + 1}",
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change, with what S3 puts in the record about the request."""

    bucket: str
    key: str
    event_name: str  # "ObjectCreated:Put", "ObjectRemoved:Delete", …
    info: ObjectInfo | None  # None for a deletion
    source_ip: str
    request_id: str


_sequence = itertools.count()


def sequencer() -> str:
    """Increasing per change, as S3's hex sequencer is for one key."""
    return f"{time.time_ns():016X}{next(_sequence) % 0x10000:04X}"


def s3_record(change: Change, subscription: Subscription, region: str) -> dict[str, object]:
    obj: dict[str, object] = {"key": quote_plus(change.key, safe="/")}
    if change.info is not None:
        obj["size"] = change.info.size
        obj["eTag"] = change.info.etag
    obj["sequencer"] = sequencer()
    moment = time.time()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
        + f".{int(moment * 1000) % 1000:03d}Z",
        "eventName": change.event_name,
        "userIdentity": {"principalId": PRINCIPAL},
        "requestParameters": {"sourceIPAddress": change.source_ip},
        "responseElements": {
            "x-amz-request-id": change.request_id,
            "x-amz-id-2": change.request_id,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": subscription.configuration_id,
            "bucket": {
                "name": change.bucket,
                "ownerIdentity": {"principalId": OWNER},
                "arn": f"arn:aws:s3:::{change.bucket}",
            },
            "object": obj,
        },
    }


Enqueue = Callable[[str, bytes], Awaitable[str]]


class Notifier:
    """Sends each change to the subscribed functions through ``enqueue`` (the async invoker)."""

    def __init__(self, enqueue: Enqueue, region: str) -> None:
        self._enqueue = enqueue
        self._region = region
        self.subscriptions: list[Subscription] = []

    async def notify(self, change: Change) -> None:
        for subscription in self.subscriptions:
            if subscription.matches(change.bucket, change.key, change.event_name):
                record = s3_record(change, subscription, self._region)
                payload = json.dumps({"Records": [record]}).encode()
                await self._enqueue(subscription.function, payload)
