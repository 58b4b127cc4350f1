"""Google Cloud Pub/Sub's push shapes, for Cloud Functions style subscribers of a topic. Pure.

A function of ``style: cloudevent`` gets the CloudEvent Eventarc delivers for a Pub/Sub
message (structured mode, as JSON)::

    {"specversion": "1.0", "id": MESSAGE_ID, "time": PUBLISH_TIME,
     "type": "google.cloud.pubsub.topic.v1.messagePublished",
     "source": "//pubsub.googleapis.com/projects/P/topics/T",
     "datacontenttype": "application/json",
     "data": {"message": {"data": BASE64, "attributes": {…}, "messageId", "publishTime"},
              "subscription": "projects/P/subscriptions/S"}}

A ``style: background`` function gets the legacy event functions-framework hands it: ``data``
the ``PubsubMessage`` (``@type``, ``data``, ``attributes``) and ``context`` (``eventId``,
``timestamp``, ``eventType: google.pubsub.topic.publish``, ``resource``). The topic is the SNS
topic's name; the project is the one the platform names (the manifest's service).
"""

from __future__ import annotations

import base64
from typing import Any

from skylet.aws.sns.messages import Message

SERVICE = "pubsub.googleapis.com"
MESSAGE_TYPE = "type.googleapis.com/google.pubsub.v1.PubsubMessage"
CLOUD_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
BACKGROUND_EVENT_TYPE = "google.pubsub.topic.publish"


def topic_path(project: str, message: Message) -> str:
    return f"projects/{project}/topics/{message.topic_arn.rsplit(':', 1)[-1]}"


def _data(message: Message) -> str:
    return base64.b64encode(message.default.encode()).decode()


def _attributes(message: Message) -> dict[str, str]:
    # Pub/Sub attributes are strings; SNS's values are their text (Binary: base64).
    return {name: a.value for name, a in message.attributes.items()}


def cloud_event(message: Message, project: str, subscription: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": message.message_id,
        "time": message.timestamp,
        "type": CLOUD_EVENT_TYPE,
        "source": f"//{SERVICE}/{topic_path(project, message)}",
        "datacontenttype": "application/json",
        "data": {
            "message": {
                "data": _data(message),
                "attributes": _attributes(message),
                "messageId": message.message_id,
                "publishTime": message.timestamp,
            },
            "subscription": f"projects/{project}/subscriptions/{subscription}",
        },
    }


def background_event(message: Message, project: str) -> dict[str, Any]:
    return {
        "data": {
            "@type": MESSAGE_TYPE,
            "data": _data(message),
            "attributes": _attributes(message),
        },
        "context": {
            "eventId": message.message_id,
            "timestamp": message.timestamp,
            "eventType": BACKGROUND_EVENT_TYPE,
            "resource": {
                "service": SERVICE,
                "name": topic_path(project, message),
                "type": MESSAGE_TYPE,
            },
        },
    }
