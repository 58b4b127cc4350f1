"""SQS's queue operations with a stock boto3 client: create (idempotent, QueueAlreadyExists),
find, list, attributes, tags, purge, delete, in the forms SDKs send."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-queues")


@pytest.fixture(scope="module")
def sqs(server: SqsServer) -> Any:
    return server.client()


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_create_queue_answers_its_url_and_again_for_the_same_attributes(
    sqs: Any, server: SqsServer
) -> None:
    url = sqs.create_queue(
        QueueName="same", Attributes={"DelaySeconds": "1", "ReceiveMessageWaitTimeSeconds": "1"}
    )["QueueUrl"]
    assert url == f"{server.url}/000000000000/same"
    assert sqs.create_queue(QueueName="same")["QueueUrl"] == url  # nothing given: nothing differs
    assert sqs.create_queue(QueueName="same", Attributes={"DelaySeconds": "01"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as raised:
        sqs.create_queue(QueueName="same", Attributes={"DelaySeconds": "2"})
    assert error(raised) == (
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute "
        "DelaySeconds",
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert sqs.create_queue(QueueName="same", Attributes={"DelaySeconds": "2"})["QueueUrl"] == url


def test_a_fifo_queue_is_created_with_its_defaults_and_compared_on_them(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: shown[k] for k in ("FifoQueue", "ContentBasedDeduplication")} == {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
    }
    assert (shown["DeduplicationScope"], shown["FifoThroughputLimit"]) == ("queue", "perQueue")
    with pytest.raises(sqs.exceptions.QueueNameExists) as raised:
        sqs.create_queue(
            QueueName="orders.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )
    assert error(raised)[1].endswith("attribute ContentBasedDeduplication")


@pytest.mark.parametrize(
    ("name", "attributes", "code", "message"),
    [
        pytest.param(
            "plain",
            {"FifoQueue": "false"},
            "InvalidAttributeName",
            "Unknown Attribute FifoQueue.",
            id="a standard queue takes no FifoQueue attribute",
        ),
        pytest.param(
            "plain",
            {"ContentBasedDeduplication": "false"},
            "InvalidAttributeName",
            "Unknown Attribute ContentBasedDeduplication.",
            id="nor ContentBasedDeduplication",
        ),
        pytest.param(
            "plain",
            {"DeduplicationScope": "queue"},
            "InvalidAttributeName",
            "You can specify the DeduplicationScope only when FifoQueue is set to true.",
            id="nor a deduplication scope",
        ),
        pytest.param(
            "plain.fifo",
            {},
            "InvalidParameterValue",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            id="a .fifo name needs FifoQueue",
        ),
        pytest.param(
            "plain",
            {"FifoQueue": "true"},
            "InvalidParameterValue",
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length.",
            id="FifoQueue needs a .fifo name",
        ),
        pytest.param(
            "a" * 81,
            {},
            "InvalidParameterValue",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            id="names are at most 80 characters",
        ),
        pytest.param(
            "plain",
            {"VisibilityTimeout": "43201"},
            "InvalidAttributeValue",
            "Invalid value for the parameter VisibilityTimeout.",
            id="the visibility timeout is at most 12 hours",
        ),
        pytest.param(
            "plain",
            {"MaximumMessageSize": "1048577"},
            "InvalidAttributeValue",
            "Invalid value for the parameter MaximumMessageSize.",
            id="messages are at most 1 MiB",
        ),
        pytest.param(
            "plain",
            {"Colour": "blue"},
            "InvalidAttributeName",
            "Unknown Attribute Colour.",
            id="an unknown attribute",
        ),
    ],
)
def test_create_queue_refuses_what_sqs_refuses(
    sqs: Any, name: str, attributes: dict[str, str], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    assert error(raised) == (code, message)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_queue_attributes_shows_every_attribute_and_the_counts(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=600)
    sqs.send_message(QueueUrl=url, MessageBody="held")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)

    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    created = shown.pop("CreatedTimestamp")
    assert created.isdigit() and shown.pop("LastModifiedTimestamp") == created
    assert shown == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesDelayed": "1",
        "ApproximateNumberOfMessagesNotVisible": "1",
        "DelaySeconds": "0",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:counted",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
        "VisibilityTimeout": "30",
    }
    some = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "DelaySeconds"])
    assert some["Attributes"] == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:counted",
        "DelaySeconds": "0",
    }
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)


def test_set_queue_attributes_changes_them_and_the_last_modified_time(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="changed")["QueueUrl"]
    policy = {"Version": "2012-10-17", "Statement": []}
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "VisibilityTimeout": "69",
            "MaximumMessageSize": "2048",
            "DelaySeconds": "420",
            "Policy": json.dumps(policy),
            "KmsMasterKeyId": "alias/mine",
        },
    )
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (shown["VisibilityTimeout"], shown["MaximumMessageSize"], shown["DelaySeconds"]) == (
        "69",
        "2048",
        "420",
    )
    assert json.loads(shown["Policy"]) == policy
    assert (shown["KmsMasterKeyId"], shown["SqsManagedSseEnabled"]) == ("alias/mine", "false")
    assert int(shown["LastModifiedTimestamp"]) >= int(shown["CreatedTimestamp"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "", "KmsMasterKeyId": ""})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "Policy" not in shown and "KmsMasterKeyId" not in shown
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})


def test_a_fifo_queue_cannot_become_standard(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="stays.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert error(raised) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
    )


def test_get_queue_url_finds_a_queue_and_names_the_missing_one_as_sqs_does(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="findable")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="findable")["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
        sqs.get_queue_url(QueueName="missing")
    assert error(raised) == (
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )


def test_a_queue_url_in_the_legacy_aws_form_or_a_bare_name_names_the_queue(sqs: Any) -> None:
    sqs.create_queue(QueueName="anywhere")
    for url in (
        "https://sqs.us-east-1.amazonaws.com/000000000000/anywhere",
        "https://queue.amazonaws.com/000000000000/anywhere",
        "anywhere",
    ):
        sqs.send_message(QueueUrl=url, MessageBody=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(
            QueueUrl="https://sqs.us-east-1.amazonaws.com/111111111111/anywhere",
            MessageBody="another account's queue",
        )
    shown = sqs.get_queue_attributes(QueueUrl="anywhere", AttributeNames=["All"])
    assert shown["Attributes"]["ApproximateNumberOfMessages"] == "3"


def test_list_queues_filters_by_prefix_and_pages(sqs: Any, server: SqsServer) -> None:
    for i in range(5):
        sqs.create_queue(QueueName=f"paged-{i}")
    every = sqs.list_queues(QueueNamePrefix="paged-")
    assert every["QueueUrls"] == [f"{server.url}/000000000000/paged-{i}" for i in range(5)]
    assert "NextToken" not in every
    first = sqs.list_queues(QueueNamePrefix="paged-", MaxResults=2)
    second = sqs.list_queues(QueueNamePrefix="paged-", MaxResults=2, NextToken=first["NextToken"])
    third = sqs.list_queues(QueueNamePrefix="paged-", MaxResults=2, NextToken=second["NextToken"])
    pages = [first["QueueUrls"], second["QueueUrls"], third["QueueUrls"]]
    assert [url.rsplit("-", 1)[1] for page in pages for url in page] == list("01234")
    assert "NextToken" not in third
    paginated = sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix="paged-", PaginationConfig={"PageSize": 3}
    )
    assert sum(len(page["QueueUrls"]) for page in paginated) == 5
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="nothing-")


def test_the_platforms_own_queues_are_not_listed(sqs: Any) -> None:
    # The dispatcher keeps a store queue per function (skylet:async:NAME): not SQS's.
    assert all(":" not in url.rsplit("/", 1)[1] for url in sqs.list_queues().get("QueueUrls", []))


def test_tags_are_added_listed_and_removed(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="tagged", tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "prod"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_purge_queue_empties_it_once_a_minute(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)]
    )
    sqs.receive_message(QueueUrl=url)
    sqs.purge_queue(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        counts["ApproximateNumberOfMessages"],
        counts["ApproximateNumberOfMessagesNotVisible"],
    ) == ("0", "0")
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as raised:
        sqs.purge_queue(QueueUrl=url)
    assert error(raised) == (
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "Only one PurgeQueue operation on purged is allowed every 60 seconds.",
    )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_delete_queue_removes_it_and_its_messages(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="deleted")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone with it")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="deleted")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)
    url = sqs.create_queue(QueueName="deleted")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_an_operation_skylet_does_not_serve_is_named(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="permissions")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["1"], Actions=["SendMessage"])
    code, message = error(raised)
    assert code == "UnknownOperationException" and "AddPermission" in message
