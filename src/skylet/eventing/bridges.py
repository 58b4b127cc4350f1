"""Bridges into brokers: EventBridge events and S3 notifications as CloudEvents.

- **EventBridge**: a rule's target ``arn:aws:skylet:REGION:ACCOUNT:broker/NAME`` publishes
  each matched event into the broker NAME: ``id``, ``source`` and ``time`` are the event's,
  ``type`` its ``detail-type``, ``subject`` its first resource (when it has one), and ``data``
  what the target would send (the event, or the target's ``Input``/``InputPath``/
  ``InputTransformer`` result), as JSON.
- **S3**: a Knative ``AwsS3Source`` document (``sources.knative.dev/v1alpha1``, ``spec.arn``
  the bucket's ARN, ``spec.sink`` a broker) publishes each change of the bucket: ``type``
  ``aws.s3.`` and S3's event name (``aws.s3.ObjectCreated:Put``), ``source`` the bucket's ARN,
  ``subject`` the key, ``time`` the event's, and ``data`` S3's notification record.

Both publish durably before the change or PutEvents is acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from skylet import fastjson
from skylet.aws.s3_notifications import Subscription
from skylet.eventing.brokers import Brokers
from skylet.eventing.cloudevent import Event
from skylet.eventing.topology import Topology


def eventbridge_event(event: Mapping[str, Any], payload: bytes) -> Event:
    """The CloudEvent of one EventBridge event and what its target renders. Pure."""
    try:
        data: Any = fastjson.loads(payload)
    except ValueError:
        data = payload.decode(errors="replace")
    out: Event = {
        "specversion": "1.0",
        "id": str(event.get("id", "")),
        "source": str(event.get("source", "")),
        "type": str(event.get("detail-type", "")),
        "datacontenttype": "application/json",
        "data": data,
    }
    if event.get("time"):
        out["time"] = str(event["time"])
    resources = event.get("resources") or []
    if resources:
        out["subject"] = str(resources[0])
    return out


def s3_event(record: Mapping[str, Any]) -> Event:
    """The CloudEvent of one S3 notification record. Pure."""
    s3 = record["s3"]
    return {
        "specversion": "1.0",
        "id": f"{s3['bucket']['name']}/{s3['object']['key']}/{s3['object']['sequencer']}",
        "source": s3["bucket"]["arn"],
        "type": f"aws.s3.{record['eventName']}",
        "subject": s3["object"]["key"],
        "time": record["eventTime"],
        "datacontenttype": "application/json",
        "data": dict(record),
    }


def s3_subscriptions(topology: Topology) -> list[Subscription]:
    """The S3 notifications the topology's AwsS3Sources ask for."""
    return [
        Subscription(
            function=source.broker,
            bucket=source.bucket,
            event="s3:*",
            prefix="",
            suffix="",
            configuration_id=f"awss3source-{source.name}",
            shape="broker",
        )
        for source in topology.s3_sources
    ]


class BrokerBridge:
    """The EventBridge router's ``BrokerSink`` and the S3 notifier's ``publish``."""

    def __init__(self, brokers: Brokers) -> None:
        self.brokers = brokers

    async def from_eventbridge(self, broker: str, event: Mapping[str, Any], payload: bytes) -> None:
        await self.brokers.publish(broker, eventbridge_event(event, payload))

    async def from_s3(self, broker: str, record: dict[str, object]) -> int:
        return await self.brokers.publish(broker, s3_event(record))


if TYPE_CHECKING:
    from skylet.aws.eventbridge.delivery import BrokerSink

    _conforms: type[BrokerSink] = BrokerBridge
