"""Subscriptions and Publish through stock boto3: attributes, listings, unsubscribe, FIFO
topics, PublishBatch, and SNS's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sns.endpoints import body_of, make_queue, received
from tests.aws.sns.served import Served

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:worker"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_subscription_attributes_read_set_and_listed(served: Served, sns: Any) -> None:
    arn = sns.create_topic(Name="subs")["TopicArn"]
    queue = make_queue(served, "subs-q")
    sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "True"}
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert (attributes["Protocol"], attributes["Endpoint"], attributes["TopicArn"]) == (
        "sqs",
        queue,
        arn,
    )
    assert attributes["PendingConfirmation"] == "false"
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a": ["b"]}'
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["FilterPolicy"] == '{"a": ["b"]}'
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    assert error_of(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="Bogus",
        AttributeValue="x",
    ) == ("InvalidParameter", "Invalid parameter: AttributeName")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert listed == [
        {
            "SubscriptionArn": sub,
            "Owner": "000000000000",
            "Protocol": "sqs",
            "Endpoint": queue,
            "TopicArn": arn,
        }
    ]
    assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]


def test_subscribing_twice_answers_the_same_subscription(sns: Any) -> None:
    arn = sns.create_topic(Name="twice")["TopicArn"]
    first = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]
    again = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]
    assert first == again


def test_unsubscribe_is_idempotent(sns: Any) -> None:
    arn = sns.create_topic(Name="unsub")["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=sub) == (
        "NotFound",
        "Subscription does not exist",
    )
    assert error_of(sns.unsubscribe, SubscriptionArn="nonsense")[0] == "InvalidParameter"


SUBSCRIBE_REFUSALS = [
    (
        "an unknown protocol",
        {"Protocol": "pigeon", "Endpoint": "x"},
        "Invalid parameter: Amazon SNS does not support this protocol string: pigeon",
    ),
    (
        "a queue that is not an ARN",
        {"Protocol": "sqs", "Endpoint": "jobs"},
        "Invalid parameter: SQS endpoint ARN",
    ),
    (
        "a function that is not an ARN",
        {"Protocol": "lambda", "Endpoint": "worker"},
        "Invalid parameter: Lambda endpoint ARN",
    ),
    (
        "an https URL for http",
        {"Protocol": "http", "Endpoint": "https://example.com"},
        "Invalid parameter: Endpoint must match the specified protocol",
    ),
    (
        "raw delivery to a function",
        {"Protocol": "lambda", "Endpoint": FUNCTION, "Attributes": {"RawMessageDelivery": "true"}},
        "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw "
        "message delivery.",
    ),
    (
        "an unknown attribute",
        {"Protocol": "lambda", "Endpoint": FUNCTION, "Attributes": {"Colour": "red"}},
        "Invalid parameter: Attributes Reason: Unknown attribute [Colour]",
    ),
    (
        "a redrive policy without a queue ARN",
        {
            "Protocol": "lambda",
            "Endpoint": FUNCTION,
            "Attributes": {"RedrivePolicy": '{"deadLetterTargetArn": "q"}'},
        },
        "Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is an "
        "invalid arn",
    ),
]


@pytest.mark.parametrize(
    ("request_", "message"),
    [c[1:] for c in SUBSCRIBE_REFUSALS],
    ids=[c[0] for c in SUBSCRIBE_REFUSALS],
)
def test_subscribe_refusals(sns: Any, request_: dict[str, Any], message: str) -> None:
    arn = sns.create_topic(Name="refusals")["TopicArn"]
    assert error_of(sns.subscribe, TopicArn=arn, **request_) == ("InvalidParameter", message)


def test_subscribing_to_a_missing_topic_is_not_found(sns: Any) -> None:
    missing = "arn:aws:sns:us-east-1:000000000000:nowhere"
    assert error_of(sns.subscribe, TopicArn=missing, Protocol="lambda", Endpoint=FUNCTION) == (
        "NotFound",
        "Topic does not exist",
    )


PUBLISH_REFUSALS = [
    ("an empty message", {"Message": ""}, "Invalid parameter: Empty message"),
    (
        "a message over 256 KiB",
        {"Message": "x" * (262_144 + 1)},
        "Invalid parameter: Message too long",
    ),
    (
        "a subject with a line break",
        {"Message": "m", "Subject": "a\nb"},
        "Invalid parameter: Subject",
    ),
    (
        "structured JSON without default",
        {"Message": '{"sqs": "x"}', "MessageStructure": "json"},
        "Invalid parameter: Message Structure - No default entry in JSON message body",
    ),
    (
        "structured text that is not JSON",
        {"Message": "nope", "MessageStructure": "json"},
        "Invalid parameter: Message Structure - JSON message body failed to parse",
    ),
    (
        "a Number attribute that is not a number",
        {"Message": "m", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "ten"}}},
        "Invalid parameter: Could not cast message attribute 'n' value to number.",
    ),
    (
        "an attribute of an unknown type",
        {"Message": "m", "MessageAttributes": {"n": {"DataType": "Blob", "StringValue": "x"}}},
        "Invalid parameter: The message attribute 'n' has an invalid message attribute type, "
        "the set of supported type prefixes is Binary, Number, and String.",
    ),
    (
        "a deduplication id on a standard topic",
        {"Message": "m", "MessageDeduplicationId": "d"},
        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
        "MessageDeduplicationId parameter that is not valid for this topic type",
    ),
]


@pytest.mark.parametrize(
    ("request_", "message"),
    [c[1:] for c in PUBLISH_REFUSALS],
    ids=[c[0] for c in PUBLISH_REFUSALS],
)
def test_publish_refusals(sns: Any, request_: dict[str, Any], message: str) -> None:
    arn = sns.create_topic(Name="publish-refusals")["TopicArn"]
    assert error_of(sns.publish, TopicArn=arn, **request_) == ("InvalidParameter", message)


def test_a_message_of_exactly_256_kib_is_published(sns: Any) -> None:
    arn = sns.create_topic(Name="big")["TopicArn"]
    assert sns.publish(TopicArn=arn, Message="x" * 262_144)["MessageId"]


def test_publish_takes_target_arn_too(served: Served, sns: Any) -> None:
    arn = sns.create_topic(Name="target")["TopicArn"]
    queue = make_queue(served, "target-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    sns.publish(TargetArn=arn, Message="by target")
    (message,) = received(served, "target-q")
    assert body_of(message)["Message"] == "by target"


def test_fifo_topics_keep_order_and_drop_duplicates(served: Served, sns: Any) -> None:
    arn = sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    queue = make_queue(served, "orders-q.fifo", fifo=True)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    assert error_of(sns.publish, TopicArn=arn, Message="no group") == (
        "InvalidParameter",
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
    )
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION) == (
        "InvalidParameter",
        "Invalid parameter: Invalid protocol type: lambda",
    )
    answers = [
        sns.publish(
            TopicArn=arn, Message=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
        for i in range(5)
    ]
    duplicate = sns.publish(
        TopicArn=arn, Message="m0", MessageGroupId="g", MessageDeduplicationId="d0"
    )
    assert duplicate["MessageId"] == answers[0]["MessageId"]
    assert all(a["SequenceNumber"] for a in answers)
    by_content = sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")
    assert (
        sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")["MessageId"]
        == by_content["MessageId"]
    )
    messages = received(served, "orders-q.fifo", count=6)
    assert [body_of(m)["Message"] for m in messages] == ["m0", "m1", "m2", "m3", "m4", "same"]
    assert all(body_of(m)["SequenceNumber"] for m in messages)


def test_fifo_topics_need_a_deduplication_id_without_content_deduplication(sns: Any) -> None:
    arn = sns.create_topic(Name="strict.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageGroupId="g")[1] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )


def test_publish_batch_answers_per_entry(served: Served, sns: Any) -> None:
    arn = sns.create_topic(Name="batch")["TopicArn"]
    queue = make_queue(served, "batch-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    answer = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "two", "Message": ""},
            {"Id": "three", "Message": "third", "Subject": "s"},
        ],
    )
    assert [s["Id"] for s in answer["Successful"]] == ["one", "three"]
    assert answer["Failed"] == [
        {
            "Id": "two",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]
    messages = received(served, "batch-q", count=2)
    assert sorted(body_of(m)["Message"] for m in messages) == ["first", "third"]


BATCH_REFUSALS = [
    ("no entries", [], "EmptyBatchRequest"),
    (
        "eleven entries",
        [{"Id": f"e{i}", "Message": "m"} for i in range(11)],
        "TooManyEntriesInBatchRequest",
    ),
    (
        "the same id twice",
        [{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "m"}],
        "BatchEntryIdsNotDistinct",
    ),
    ("an id with a space", [{"Id": "a b", "Message": "m"}], "InvalidBatchEntryId"),
    (
        "over 256 KiB together",
        [{"Id": f"e{i}", "Message": "x" * 100_000} for i in range(3)],
        "BatchRequestTooLong",
    ),
]


@pytest.mark.parametrize(
    ("entries", "code"), [c[1:] for c in BATCH_REFUSALS], ids=[c[0] for c in BATCH_REFUSALS]
)
def test_publish_batch_refusals(sns: Any, entries: list[dict[str, str]], code: str) -> None:
    arn = sns.create_topic(Name="batch-refusals")["TopicArn"]
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=entries)[0] == code


def test_unsubscribe_url_unsubscribes(served: Served, sns: Any) -> None:
    import urllib.request

    arn = sns.create_topic(Name="leaving")["TopicArn"]
    queue = make_queue(served, "leaving-q")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    sns.publish(TopicArn=arn, Message="bye")
    (message,) = received(served, "leaving-q")
    with urllib.request.urlopen(json.loads(message.body)["UnsubscribeURL"]) as answer:
        assert answer.status == 200
    assert sub not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
