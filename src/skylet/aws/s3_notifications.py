"""S3 event notifications: a change to a bucket → AWS's event record → the functions subscribed
to it, invoked asynchronously through the durable queue.

The record is the one S3 sends (event structure 2.1): ``eventVersion``, ``eventSource``,
``awsRegion``, ``eventTime``, ``eventName``, ``userIdentity``, ``requestParameters``,
``responseElements``, and ``s3`` with the configuration id, the bucket (name, owner, ARN) and the
object (key URL-encoded as S3 encodes it, size, ETag and a sequencer; a deletion carries only the
key and the sequencer).

A Cloud Functions background function (``style: background``) gets Cloud Storage's shape
instead: the object resource (bucket, name, generation, metageneration, timeCreated, updated,
contentType, size, md5Hash, …) and the event context, as the seed's §4.2 function expects.

The S3 API awaits :meth:`Notifier.notify` after the object is committed and before it answers:
a client that got its 200 knows the notifications are durably queued, so a ``kill -9`` right
after a successful PUT loses none.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from skylet import arns
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
    #: ``s3``: S3's record; ``gcs``: Cloud Storage's object, for background functions;
    #: ``broker``: S3's record to ``Notifier.publish`` (``function`` names the broker).
    shape: str = "s3"

    def matches(self, bucket: str, key: str, event_name: str) -> bool:
        if bucket != self.bucket or not key.startswith(self.prefix):
            return False
        if not key.endswith(self.suffix):
            return False
        wanted = self.event.removeprefix("s3:")
        if wanted == "*":
            return True
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
                    shape="gcs" if spec.style == "background" else "s3",
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


def s3_record(
    change: Change, subscription: Subscription, region: str, *, now: float, sequencer: str
) -> dict[str, object]:
    """S3's record of ``change`` for ``subscription``, at ``now`` (epoch seconds); pure."""
    obj: dict[str, object] = {"key": quote_plus(change.key, safe="/")}
    if change.info is not None:
        obj["size"] = change.info.size
        obj["eTag"] = change.info.etag
    obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": _rfc3339(now),
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
                "arn": arns.bucket_arn(change.bucket),
            },
            "object": obj,
        },
    }


def _rfc3339(epoch: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"
    )


def gcs_event(change: Change) -> dict[str, object]:
    """A Cloud Functions background event for a change: Cloud Storage's object resource as
    ``data`` and the event's ``context`` (``google.storage.object.finalize`` or ``.delete``)."""
    bucket, key, info = change.bucket, change.key, change.info
    moment = info.last_modified if info is not None else time.time()
    generation = str(int(moment * 1_000_000))
    quoted = quote(key, safe="")
    data: dict[str, object] = {
        "kind": "storage#object",
        "id": f"{bucket}/{key}/{generation}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{quoted}",
        "name": key,
        "bucket": bucket,
        "generation": generation,
        "metageneration": "1",
        "timeCreated": _rfc3339(moment),
        "updated": _rfc3339(moment),
        "storageClass": "STANDARD",
        "timeStorageClassUpdated": _rfc3339(moment),
        "mediaLink": (
            f"https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/{quoted}"
            f"?generation={generation}&alt=media"
        ),
    }
    if info is not None:
        data["contentType"] = info.content_type
        data["size"] = str(info.size)
        data["etag"] = info.etag
        if "-" not in info.etag:  # a multipart ETag is not an MD5 of the content
            data["md5Hash"] = base64.b64encode(bytes.fromhex(info.etag)).decode()
        if info.metadata:
            data["metadata"] = dict(info.metadata)
    created = change.event_name.startswith("ObjectCreated")
    return {
        "data": data,
        "context": {
            "eventId": sequencer(),
            "timestamp": _rfc3339(time.time()),
            "eventType": "google.storage.object." + ("finalize" if created else "delete"),
            "resource": {
                "service": "storage.googleapis.com",
                "name": f"projects/_/buckets/{bucket}/objects/{key}",
                "type": "storage#object",
            },
        },
    }


Enqueue = Callable[[str, bytes], Awaitable[str]]
#: Publishes one S3 record into a broker (skylet.eventing.bridges), durable when it returns.
Publish = Callable[[str, dict[str, object]], Awaitable[object]]


class Notifier:
    """Sends each change to the subscribed functions through ``enqueue`` (the async invoker)."""

    def __init__(self, enqueue: Enqueue, region: str) -> None:
        self._enqueue = enqueue
        #: The records' awsRegion: the manifest's, set with the subscriptions.
        self.region = region
        self.subscriptions: list[Subscription] = []
        self.publish: Publish | None = None

    async def notify(self, change: Change) -> None:
        for subscription in self.subscriptions:
            if subscription.matches(change.bucket, change.key, change.event_name):
                if subscription.shape == "broker":
                    if self.publish is not None:
                        record = s3_record(
                            change,
                            subscription,
                            self.region,
                            now=time.time(),
                            sequencer=sequencer(),
                        )
                        await self.publish(subscription.function, record)
                    continue
                if subscription.shape == "gcs":
                    event: dict[str, object] = gcs_event(change)
                else:
                    record = s3_record(
                        change, subscription, self.region, now=time.time(), sequencer=sequencer()
                    )
                    event = {"Records": [record]}
                await self._enqueue(subscription.function, json.dumps(event).encode())
