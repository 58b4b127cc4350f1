"""SNS's names and ARNs: topic names, topic and subscription ARNs, the endpoints a protocol
takes, as SNS checks them. Pure.

    arn:aws:sns:us-east-1:000000000000:orders                 a topic
    arn:aws:sns:us-east-1:000000000000:orders:5f1c…-…         one of its subscriptions
    arn:aws:sns:us-east-1:000000000000:orders.fifo            a FIFO topic
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from skylet import arns
from skylet.errors import ServiceError

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: What ListSubscriptions and Subscribe show for a subscription not confirmed yet.
PENDING = "PendingConfirmation"
PENDING_ARN = "pending confirmation"
FIFO_NAME_RULE = (
    "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase "
    "ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
    "characters long."
)


def invalid(message: str) -> ServiceError:
    """SNS's InvalidParameter (400), its message starting as SNS's do."""
    return ServiceError("InvalidParameter", f"Invalid parameter: {message}")


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFound", message)


@dataclass(frozen=True, slots=True)
class TopicArn:
    region: str
    account: str
    name: str

    def __str__(self) -> str:
        return arns.arn("sns", self.name, region=self.region, account=self.account)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def check_topic_name(name: str, *, fifo: bool) -> str:
    """A name CreateTopic accepts: 1-256 letters, digits, ``-`` and ``_``; FIFO: ``.fifo``."""
    if fifo:
        if not _FIFO_NAME.match(name):
            raise invalid(FIFO_NAME_RULE)
    elif not _TOPIC_NAME.match(name):  # a .fifo name too: it needs FifoTopic=true
        raise invalid("Topic Name")
    return name


def topic_arn(region: str, account: str, name: str) -> str:
    return str(TopicArn(region, account, name))


def parse_topic_arn(value: str, *, parameter: str = "TopicArn") -> TopicArn:
    """``value`` as a topic ARN, else InvalidParameter naming ``parameter`` as SNS does."""
    parts = value.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or not all(parts[3:]):
        raise invalid(parameter)
    name = parts[5]
    if not (_TOPIC_NAME.match(name) or _FIFO_NAME.match(name)):
        raise invalid(parameter)
    return TopicArn(parts[3], parts[4], name)


def subscription_arn(topic: str) -> str:
    return f"{topic}:{uuid.uuid4()}"


def parse_subscription_arn(value: str, *, parameter: str = "SubscriptionArn") -> str:
    """The topic ARN of a subscription ARN, else InvalidParameter."""
    topic, _, tail = value.rpartition(":")
    if not _UUID.match(tail):
        raise invalid(parameter)
    parse_topic_arn(topic, parameter=parameter)
    return topic


@dataclass(frozen=True, slots=True)
class FunctionEndpoint:
    """A Lambda subscriber: the function's name and qualifier (``None``: ``$LATEST``)."""

    name: str
    qualifier: str | None


def lambda_endpoint(endpoint: str) -> FunctionEndpoint:
    """``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``, else InvalidParameter."""
    parts = endpoint.split(":")
    if (
        len(parts) not in (7, 8)
        or parts[:3] != ["arn", "aws", "lambda"]
        or parts[5] != "function"
        or not re.match(r"^[A-Za-z0-9_-]{1,64}$", parts[6])
    ):
        raise invalid("Lambda endpoint ARN")
    qualifier = parts[7] if len(parts) == 8 else None
    return FunctionEndpoint(parts[6], None if qualifier == "$LATEST" else qualifier)


def sqs_endpoint(endpoint: str) -> str:
    """A queue ARN (``arn:aws:sqs:REGION:ACCOUNT:NAME``), else InvalidParameter."""
    parts = endpoint.split(":")
    if (
        len(parts) != 6
        or parts[:3] != ["arn", "aws", "sqs"]
        or not re.match(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$", parts[5])
    ):
        raise invalid("SQS endpoint ARN")
    return endpoint


def queue_name(queue_arn: str) -> str:
    return queue_arn.rsplit(":", 1)[-1]


def http_endpoint(protocol: str, endpoint: str) -> str:
    """An http(s) URL of the protocol's scheme, else SNS's message."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep or scheme.lower() != protocol or not rest or rest.startswith("/"):
        raise invalid("Endpoint must match the specified protocol")
    return endpoint
