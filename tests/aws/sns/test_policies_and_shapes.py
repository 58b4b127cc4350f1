"""Pure parts of SNS: delivery policies' waits, the manifest's declarations, and Pub/Sub's
shapes beside functions-framework's own conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from functions_framework import event_conversion
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from skylet.aws.sns import pubsub
from skylet.aws.sns.declared import declarations
from skylet.aws.sns.messages import Attribute, Message
from skylet.aws.sns.retries import HTTP_DEFAULT, MANAGED, RetryPolicy, parse_delivery_policy
from skylet.errors import ServiceError
from skylet.manifest import load_manifest


@pytest.mark.parametrize(
    ("policy", "waits"),
    [
        pytest.param(
            HTTP_DEFAULT, [20, 20, 20, None], id="SNS's HTTP default: 3 retries 20 s apart"
        ),
        pytest.param(
            RetryPolicy(6, 1, 60, no_delay_retries=1, min_delay_retries=1, max_delay_retries=1),
            [0, 1, 1, 30.5, 60, 60, None],
            id="the four phases in order, linear backoff",
        ),
        pytest.param(
            RetryPolicy(5, 1, 16, backoff="exponential"),
            [1, 2, 4, 8, 16, None],
            id="exponential backoff doubles from min to max",
        ),
    ],
)
def test_delivery_policy_waits(policy: RetryPolicy, waits: list[float | None]) -> None:
    assert [policy.delay_s(i) for i in range(1, len(waits) + 1)] == pytest.approx(waits)


def test_the_managed_policy_retries_for_days() -> None:
    assert [MANAGED.delay_s(i) for i in range(1, 7)] == pytest.approx([0, 0, 0, 1, 1, 1])
    assert MANAGED.delay_s(15) == pytest.approx(20)
    assert MANAGED.delay_s(100_015) == 20 and MANAGED.delay_s(100_016) is None


def test_delivery_policies_are_read_from_topic_and_subscription_documents() -> None:
    topic = {
        "http": {
            "defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 4}
        }
    }
    assert parse_delivery_policy(json.dumps(topic), topic=True).num_retries == 5
    subscription = {
        "healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 1}
    }
    assert parse_delivery_policy(json.dumps(subscription), topic=False).num_retries == 1
    for bad in (
        {"healthyRetryPolicy": {"numRetries": 101}},
        {"healthyRetryPolicy": {"backoffFunction": "cubic"}},
    ):
        with pytest.raises(ServiceError):
            parse_delivery_policy(json.dumps(bad), topic=False)


MESSAGE = Message(
    message_id="5f1c2d7e-0000-4000-8000-000000000001",
    topic_arn="arn:aws:sns:us-east-1:000000000000:images",
    default="pixels",
    timestamp="2026-01-02T03:04:05.678Z",
    attributes={"size": Attribute("String", "L")},
)


def test_the_background_event_is_functions_frameworks_for_a_pubsub_push() -> None:
    push = {
        "message": {
            "data": "cGl4ZWxz",
            "attributes": {"size": "L"},
            "messageId": MESSAGE.message_id,
            "publishTime": MESSAGE.timestamp,
        },
        "subscription": "projects/shop/subscriptions/s",
    }
    request = Request(
        EnvironBuilder(path="/projects/shop/topics/images", method="POST", json=push).get_environ()
    )
    assert event_conversion.marshal_background_event_data(request) == pubsub.background_event(
        MESSAGE, "shop"
    )


def test_the_cloud_event_converts_back_as_functions_framework_converts_it() -> None:
    body = json.dumps(pubsub.cloud_event(MESSAGE, "shop", "s")).encode()
    environ = EnvironBuilder(
        method="POST", data=body, content_type="application/cloudevents+json"
    ).get_environ()
    data, context = event_conversion.cloud_event_to_background_event(Request(environ))
    assert data == {"data": "cGl4ZWxz", "attributes": {"size": "L"}}
    assert context.event_id == MESSAGE.message_id
    assert context.event_type == "google.pubsub.topic.publish"
    assert context.resource["name"] == "projects/shop/topics/images"


def test_declarations_resolve_serverless_sns_events(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        """
service: shop
provider: {name: aws, runtime: python3.11}
functions:
  notify:
    handler: h.notify
    events:
      - sns:
          topicName: orders
          filterPolicy: {kind: [book]}
          filterPolicyScope: MessageBody
          redrivePolicy: {deadLetterTargetRef: NotifyDLQ}
      - sns: {arn: !Ref Alerts, topicName: alerts}
resources:
  Resources:
    NotifyDLQ: {Type: AWS::SQS::Queue, Properties: {QueueName: notify-dlq}}
    Alerts: {Type: AWS::SNS::Topic}
"""
    )
    declared = declarations(load_manifest(tmp_path / "serverless.yml"))
    assert [t.name for t in declared.topics] == ["shop-dev-Alerts", "orders"]
    orders, alerts = declared.subscriptions
    assert (orders.topic, orders.protocol, orders.endpoint) == (
        "orders",
        "lambda",
        "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-notify",
    )
    assert json.loads(orders.attributes["FilterPolicy"]) == {"kind": ["book"]}
    assert orders.attributes["FilterPolicyScope"] == "MessageBody"
    assert json.loads(orders.attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:notify-dlq"
    }
    assert alerts.topic == "shop-dev-Alerts"
