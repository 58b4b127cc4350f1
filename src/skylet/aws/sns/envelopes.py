"""What a subscriber receives, in SNS's shapes. Pure (the signer passed in).

- **The JSON notification** (SQS and HTTP/S subscribers, unless raw)::

    {"Type": "Notification", "MessageId", ["SequenceNumber"], "TopicArn", ["Subject"],
     "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL",
     "UnsubscribeURL", ["MessageAttributes": {name: {"Type", "Value"}}]}

- **Lambda's event** ``{"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
  "EventSubscriptionArn", "Sns": {…}}]}``, where ``Sns`` has the same fields, with Lambda's
  spellings ``SigningCertUrl`` and ``UnsubscribeUrl``, ``Subject`` null when absent and
  ``MessageAttributes`` always present.
- **SubscriptionConfirmation**, POSTed to an HTTP/S endpoint on Subscribe, with ``Token`` and
  ``SubscribeURL`` (a GET of it confirms the subscription).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from skylet.aws.sns.messages import Attribute, Message
from skylet.aws.sns.signing import Signer

USER_AGENT = "Amazon Simple Notification Service Agent"


@dataclass(frozen=True, slots=True)
class Links:
    """Where a subscriber reaches skylet's SNS: ``endpoint`` is its base URL."""

    endpoint: str
    signer: Signer

    @property
    def cert_url(self) -> str:
        return self.endpoint + self.signer.cert_path

    def unsubscribe_url(self, subscription_arn: str) -> str:
        query = urlencode({"Action": "Unsubscribe", "SubscriptionArn": subscription_arn})
        return f"{self.endpoint}/?{query}"

    def subscribe_url(self, topic_arn: str, token: str) -> str:
        query = urlencode({"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": token})
        return f"{self.endpoint}/?{query}"


def _attributes(attributes: Mapping[str, Attribute]) -> dict[str, dict[str, str]]:
    return {name: {"Type": a.type, "Value": a.value} for name, a in attributes.items()}


def notification(
    message: Message, subscription_arn: str, links: Links, signature_version: str
) -> dict[str, Any]:
    """The JSON notification an SQS or HTTP/S subscriber gets (``message`` holds its text)."""
    document: dict[str, Any] = {"Type": "Notification", "MessageId": message.message_id}
    if message.sequence_number is not None:
        document["SequenceNumber"] = message.sequence_number
    document["TopicArn"] = message.topic_arn
    if message.subject is not None:
        document["Subject"] = message.subject
    document["Message"] = message.default
    document["Timestamp"] = message.timestamp
    document["SignatureVersion"] = signature_version
    document["Signature"] = links.signer.sign(document, signature_version)
    document["SigningCertURL"] = links.cert_url
    document["UnsubscribeURL"] = links.unsubscribe_url(subscription_arn)
    if message.attributes:
        document["MessageAttributes"] = _attributes(message.attributes)
    return document


def lambda_event(
    message: Message, subscription_arn: str, links: Links, signature_version: str
) -> dict[str, Any]:
    """The event a function subscribed to a topic is invoked with."""
    signed = {
        "Type": "Notification",
        "MessageId": message.message_id,
        "TopicArn": message.topic_arn,
        "Subject": message.subject,
        "Message": message.default,
        "Timestamp": message.timestamp,
    }
    sns: dict[str, Any] = {
        **signed,
        "SignatureVersion": signature_version,
        "Signature": links.signer.sign(signed, signature_version),
        "SigningCertUrl": links.cert_url,
        "UnsubscribeUrl": links.unsubscribe_url(subscription_arn),
        "MessageAttributes": _attributes(message.attributes),
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }


def confirmation(
    *,
    message_id: str,
    topic_arn: str,
    token: str,
    timestamp: str,
    links: Links,
    signature_version: str,
) -> dict[str, Any]:
    """The SubscriptionConfirmation an HTTP/S endpoint gets on Subscribe."""
    document: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": links.subscribe_url(topic_arn, token),
        "Timestamp": timestamp,
        "SignatureVersion": signature_version,
    }
    document["Signature"] = links.signer.sign(document, signature_version)
    document["SigningCertURL"] = links.cert_url
    return document


def http_headers(
    kind: str, message_id: str, topic_arn: str, subscription_arn: str | None, *, raw: bool
) -> dict[str, str]:
    """The headers SNS POSTs with."""
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": USER_AGENT,
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if subscription_arn is not None:
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    return headers


def sqs_attributes(attributes: Mapping[str, Attribute]) -> dict[str, dict[str, Any]]:
    """A raw delivery's message attributes as SQS's MessageAttributeValue (SendMessage's)."""
    out: dict[str, dict[str, Any]] = {}
    for name, a in attributes.items():
        if a.type.startswith("Binary"):
            out[name] = {"DataType": a.type, "BinaryValue": base64.b64decode(a.value)}
        else:
            out[name] = {"DataType": a.type, "StringValue": a.value}
    return out
