"""Topics through stock boto3: create (standard, FIFO, idempotent), list, attributes, delete,
tags, and SNS's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_create_topic_answers_its_arn(sns: Any) -> None:
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:orders"


def test_create_topic_is_idempotent_with_the_same_attributes(sns: Any) -> None:
    first = sns.create_topic(Name="same", Attributes={"DisplayName": "Same"})["TopicArn"]
    again = sns.create_topic(Name="same", Attributes={"DisplayName": "Same"})["TopicArn"]
    assert first == again
    code, message, status = error_of(
        sns.create_topic, Name="same", Attributes={"DisplayName": "Other"}
    )
    assert (code, status) == ("InvalidParameter", 400)
    assert (
        message
        == "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    )


def test_a_fifo_topic_needs_the_fifo_suffix(sns: Any) -> None:
    arn = sns.create_topic(Name="jobs.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    code, message, _ = error_of(sns.create_topic, Name="jobs", Attributes={"FifoTopic": "true"})
    assert code == "InvalidParameter" and "Fifo Topic names must end with .fifo" in message
    assert error_of(sns.create_topic, Name="nofifo.fifo")[:2] == (
        "InvalidParameter",
        "Invalid parameter: Topic Name",
    )


def test_bad_names_are_refused(sns: Any) -> None:
    assert error_of(sns.create_topic, Name="has space")[1] == "Invalid parameter: Topic Name"
    assert error_of(sns.create_topic, Name="x" * 257)[1] == "Invalid parameter: Topic Name"


def test_list_topics_pages_with_next_token(sns: Any) -> None:
    for i in range(105):
        sns.create_topic(Name=f"page-{i:03d}")
    arns: list[str] = []
    token = None
    pages = 0
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        pages += 1
        arns += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 2
    assert {f"arn:aws:sns:us-east-1:000000000000:page-{i:03d}" for i in range(105)} <= set(arns)
    paginated = [
        t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]
    ]
    assert paginated == arns


def test_topic_attributes_read_and_set(sns: Any) -> None:
    arn = sns.create_topic(Name="attrs")["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == "000000000000"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    assert attributes["SubscriptionsConfirmed"] == "0"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shown")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Shown"
    assert (
        error_of(sns.set_topic_attributes, TopicArn=arn, AttributeName="Nope", AttributeValue="x")[
            1
        ]
        == "Invalid parameter: AttributeName"
    )
    assert (
        error_of(
            sns.set_topic_attributes,
            TopicArn=arn,
            AttributeName="SignatureVersion",
            AttributeValue="3",
        )[0]
        == "InvalidParameter"
    )


def test_a_missing_topic_is_not_found(sns: Any) -> None:
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    assert error_of(sns.get_topic_attributes, TopicArn=missing) == (
        "NotFound",
        "Topic does not exist",
        404,
    )
    assert error_of(sns.get_topic_attributes, TopicArn="not-an-arn")[:2] == (
        "InvalidParameter",
        "Invalid parameter: TopicArn",
    )


def test_another_accounts_topic_is_an_authorization_error(sns: Any) -> None:
    code, message, status = error_of(
        sns.publish, TopicArn="arn:aws:sns:us-east-1:111111111111:theirs", Message="m"
    )
    assert (code, status) == ("AuthorizationError", 403)
    assert "not authorized to perform: SNS:Publish" in message


def test_delete_topic_is_idempotent_and_removes_its_subscriptions(sns: Any) -> None:
    arn = sns.create_topic(Name="doomed")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q")
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert all(s["TopicArn"] != arn for s in sns.list_subscriptions()["Subscriptions"])


def test_tags(sns: Any) -> None:
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "a"},
    ]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    missing = "arn:aws:sns:us-east-1:000000000000:untagged-missing"
    assert error_of(sns.list_tags_for_resource, ResourceArn=missing)[:2] == (
        "ResourceNotFound",
        "Resource does not exist",
    )
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(sns.tag_resource, ResourceArn=arn, Tags=many)[0] == "TagLimitExceeded"


def test_topics_survive_a_restart(served: Any, tmp_path: Any) -> None:
    from tests.aws.sns.served import Served

    first = Served(tmp_path)
    try:
        client = first.client()
        arn = client.create_topic(Name="durable")["TopicArn"]
        client.close()
    finally:
        first.close()
    second = Served(tmp_path)
    try:
        client = second.client()
        assert arn in [t["TopicArn"] for t in client.list_topics()["Topics"]]
        client.close()
    finally:
        second.close()
