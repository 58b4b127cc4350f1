"""Publish → delivery through stock boto3: SQS (envelope and raw), Lambda (SNS's record,
checked with Powertools' SnsModel), HTTP (confirmation, notifications, retries), filter
policies at publish, dead-letter queues, signatures a subscriber verifies, Pub/Sub shapes."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel
from botocore.exceptions import ClientError

from tests.aws.sns.endpoints import (
    Endpoint,
    body_of,
    deliveries_settled,
    make_queue,
    nothing_in,
    received,
    verify,
    wait_for,
)
from tests.aws.sns.served import Served


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


def topic(sns: Any, name: str, **attributes: str) -> str:
    arn: str = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return arn


def test_an_sqs_subscriber_gets_the_json_envelope(served: Served, sns: Any) -> None:
    arn = topic(sns, "to-sqs")
    queue = make_queue(served, "envelopes")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    answer = sns.publish(
        TopicArn=arn,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "a"},
            "n": {"DataType": "Number", "StringValue": "5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    (message,) = received(served, "envelopes")
    document = body_of(message)
    assert list(document) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert document["Type"] == "Notification"
    assert document["MessageId"] == answer["MessageId"]
    assert (document["TopicArn"], document["Subject"], document["Message"]) == (
        arn,
        "greeting",
        "hello",
    )
    assert document["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "a"},
        "n": {"Type": "Number", "Value": "5"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }
    assert document["UnsubscribeURL"].endswith(f"SubscriptionArn={sub.replace(':', '%3A')}")
    assert verify(document)


def test_a_raw_sqs_subscriber_gets_the_message_and_its_attributes(served: Served, sns: Any) -> None:
    arn = topic(sns, "raw")
    queue = make_queue(served, "raw-q")
    sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    sns.publish(
        TopicArn=arn,
        Message="just this",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    (message,) = received(served, "raw-q")
    assert message.body == b"just this"
    assert json.loads(message.attributes["sqs"]) == {
        "k": {"DataType": "String", "StringValue": "v"}
    }


def test_signature_version_2_signs_with_sha256(served: Served, sns: Any) -> None:
    arn = topic(sns, "v2", SignatureVersion="2")
    queue = make_queue(served, "v2-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    sns.publish(TopicArn=arn, Message="signed")
    (message,) = received(served, "v2-q")
    document = body_of(message)
    assert document["SignatureVersion"] == "2"
    assert verify(document)
    document["Message"] = "tampered"
    assert not verify(document)


def test_a_lambda_subscriber_gets_sns_event_record(served: Served, sns: Any) -> None:
    arn = topic(sns, "to-lambda")
    function = "arn:aws:lambda:us-east-1:000000000000:function:worker"
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=function)["SubscriptionArn"]
    answer = sns.publish(
        TopicArn=arn,
        Message="for lambda",
        MessageAttributes={"a": {"DataType": "String", "StringValue": "1"}},
    )
    (message,) = received(served, "lambda-worker")
    event = body_of(message)
    parsed = SnsModel.model_validate(event)
    record = parsed.Records[0]
    assert record.EventSource == "aws:sns"
    assert record.EventSubscriptionArn == sub
    assert record.Sns.MessageId == answer["MessageId"]
    assert record.Sns.Message == "for lambda"
    assert record.Sns.Subject is None
    assert record.Sns.MessageAttributes["a"].Type == "String"
    sns_part = event["Records"][0]["Sns"]
    assert set(sns_part) == {
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    }
    assert verify(sns_part, "SigningCertUrl")


def test_message_structure_json_gives_each_protocol_its_text(served: Served, sns: Any) -> None:
    arn = topic(sns, "structured")
    queue = make_queue(served, "structured-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    sns.subscribe(
        TopicArn=arn,
        Protocol="lambda",
        Endpoint="arn:aws:lambda:us-east-1:000000000000:function:worker",
    )
    sns.publish(
        TopicArn=arn,
        MessageStructure="json",
        Message=json.dumps({"default": "everyone", "sqs": "queues only"}),
    )
    (queued,) = received(served, "structured-q")
    assert body_of(queued)["Message"] == "queues only"
    lambdas = received(served, "lambda-worker")
    assert body_of(lambdas[-1])["Records"][0]["Sns"]["Message"] == "everyone"


def test_filter_policies_choose_the_subscribers(served: Served, sns: Any) -> None:
    arn = topic(sns, "filtered")
    red = make_queue(served, "red")
    big = make_queue(served, "big")
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=red,
        Attributes={"FilterPolicy": '{"color": ["red"]}'},
    )
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=big,
        Attributes={
            "FilterPolicy": '{"order": {"size": [{"numeric": [">", 10]}]}}',
            "FilterPolicyScope": "MessageBody",
        },
    )
    color = {"color": {"DataType": "String", "StringValue": "red"}}
    sns.publish(TopicArn=arn, Message=json.dumps({"order": {"size": 3}}), MessageAttributes=color)
    sns.publish(TopicArn=arn, Message=json.dumps({"order": {"size": 30}}))
    (to_red,) = received(served, "red")
    assert json.loads(body_of(to_red)["Message"]) == {"order": {"size": 3}}
    (to_big,) = received(served, "big")
    assert json.loads(body_of(to_big)["Message"]) == {"order": {"size": 30}}
    wait_for(lambda: deliveries_settled(served), what="the deliveries to settle")
    assert nothing_in(served, "red") and nothing_in(served, "big")


def test_malformed_filter_policies_are_refused_at_subscribe_and_set(
    served: Served, sns: Any
) -> None:
    arn = topic(sns, "refusing")
    queue = make_queue(served, "refused")
    with pytest.raises(ClientError) as caught:
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"FilterPolicy": '{"a": []}'}
        )
    assert caught.value.response["Error"]["Message"] == (
        "Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed"
    )
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    with pytest.raises(ClientError) as caught:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a": {"b": ["c"]}}'
        )
    assert caught.value.response["Error"]["Message"] == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested "
        "filter policy"
    )


def test_http_subscriptions_are_confirmed_with_the_posted_token(
    served: Served, sns: Any, endpoint: Endpoint
) -> None:
    arn = topic(sns, "to-http")
    answer = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint.url + "/hook")
    assert answer["SubscriptionArn"] == "pending confirmation"
    (path, headers, body) = wait_for(
        lambda: endpoint.of_type("SubscriptionConfirmation"), what="the confirmation"
    )[0]
    assert path == "/hook"
    assert headers["x-amz-sns-topic-arn"] == arn
    assert headers["User-Agent"] == "Amazon Simple Notification Service Agent"
    document = json.loads(body)
    assert verify(document)
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert listed[0]["SubscriptionArn"] == "PendingConfirmation"
    sns.publish(TopicArn=arn, Message="not yet")  # a pending subscription gets nothing
    with urllib.request.urlopen(document["SubscribeURL"]) as confirmed:
        assert b"<SubscriptionArn>arn:aws:sns:" in confirmed.read()
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    sub = listed[0]["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    sns.publish(TopicArn=arn, Message="now", Subject="s")
    (_, headers, body) = wait_for(lambda: endpoint.of_type("Notification"), what="a notification")[
        0
    ]
    assert headers["x-amz-sns-subscription-arn"] == sub
    notice = json.loads(body)
    assert (notice["Message"], notice["Subject"]) == ("now", "s")
    assert verify(notice)
    with pytest.raises(ClientError) as caught:
        sns.confirm_subscription(TopicArn=arn, Token=document["Token"])
    assert caught.value.response["Error"]["Message"] == "Invalid parameter: Token"


def test_http_deliveries_are_retried_then_dead_lettered(
    served: Served, sns: Any, endpoint: Endpoint
) -> None:
    arn = topic(sns, "flaky")
    dlq = make_queue(served, "flaky-dlq")
    sub = sns.subscribe(
        TopicArn=arn,
        Protocol="http",
        Endpoint=endpoint.url,
        ReturnSubscriptionArn=True,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})},
    )["SubscriptionArn"]
    token = json.loads(wait_for(lambda: endpoint.of_type("SubscriptionConfirmation"))[0][2])[
        "Token"
    ]
    assert sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"] == sub
    # SNS's default HTTP policy: the first try and 3 retries. 503 twice, then 200: delivered.
    endpoint.statuses = [503, 503]
    sns.publish(TopicArn=arn, Message="third time")
    wait_for(lambda: len(endpoint.of_type("Notification")) == 3 or None, what="three tries")
    wait_for(lambda: deliveries_settled(served), what="the delivery to settle")
    assert nothing_in(served, "flaky-dlq")
    # Failing every time: four tries, then the dead-letter queue.
    endpoint.statuses = [500] * 4
    sns.publish(TopicArn=arn, Message="never")
    (dead,) = received(served, "flaky-dlq")
    assert body_of(dead)["Message"] == "never"
    assert len(endpoint.of_type("Notification")) == 3 + 4


def test_a_client_error_dead_letters_at_once(served: Served, sns: Any) -> None:
    arn = topic(sns, "to-missing")
    dlq = make_queue(served, "missing-dlq")
    sns.subscribe(
        TopicArn=arn,
        Protocol="lambda",
        Endpoint="arn:aws:lambda:us-east-1:000000000000:function:gone",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})},
    )
    sns.publish(TopicArn=arn, Message="nobody home")
    (dead,) = received(served, "missing-dlq")
    assert body_of(dead)["Message"] == "nobody home"


def test_cloud_functions_subscribers_get_pubsub_push_shapes(served: Served, sns: Any) -> None:
    arn = topic(sns, "images")
    for name in ("bg", "ce"):
        sns.subscribe(
            TopicArn=arn,
            Protocol="lambda",
            Endpoint=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        )
    answer = sns.publish(
        TopicArn=arn,
        Message="pixels",
        MessageAttributes={"size": {"DataType": "String", "StringValue": "L"}},
    )
    (background,) = received(served, "lambda-bg")
    event = body_of(background)
    assert event["data"] == {
        "@type": "type.googleapis.com/google.pubsub.v1.PubsubMessage",
        "data": base64.b64encode(b"pixels").decode(),
        "attributes": {"size": "L"},
    }
    assert event["context"]["eventId"] == answer["MessageId"]
    assert event["context"]["eventType"] == "google.pubsub.topic.publish"
    assert event["context"]["resource"]["name"] == "projects/skylet/topics/images"
    (cloud,) = received(served, "lambda-ce")
    ce = body_of(cloud)
    assert ce["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert ce["source"] == "//pubsub.googleapis.com/projects/skylet/topics/images"
    message = ce["data"]["message"]
    assert base64.b64decode(message["data"]) == b"pixels"
    assert message["attributes"] == {"size": "L"}
    assert message["messageId"] == answer["MessageId"] == ce["id"]
    assert message["publishTime"] == ce["time"]
