"""SQS event source mappings end to end: a serverless.yml's queues and ``sqs`` events, real
functions, stock boto3 for SQS and the Lambda API; every event a function gets is checked
against AWS Powertools' ``SqsModel``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: esm
provider:
  name: aws
  runtime: python3.11
functions:
  recorder:
    handler: sqs_handlers.record
    environment: {OUT: recorder.log}
    events:
      - sqs: {arn: !GetAtt Plain.Arn, batchSize: 10}
  failing:
    handler: sqs_handlers.fail_on_poison
    environment: {OUT: failing.log}
    events:
      - sqs: {arn: !GetAtt Flaky.Arn}
  partial:
    handler: sqs_handlers.report_retries
    environment: {OUT: partial.log}
    events:
      - sqs:
          arn: !GetAtt Partial.Arn
          functionResponseType: ReportBatchItemFailures
  filtered:
    handler: sqs_handlers.record
    environment: {OUT: filtered.log}
    events:
      - sqs:
          arn: !GetAtt Filtered.Arn
          filterPatterns:
            - body: {kind: [wanted]}
  sender:
    handler: sqs_handlers.forward
    environment:
      TARGET: !Ref Forwarded
  api:
    handler: sqs_handlers.record
    environment: {OUT: api.log}
resources:
  Resources:
    Plain:
      Type: AWS::SQS::Queue
      Properties: {QueueName: plain-jobs}
    FlakyDlq:
      Type: AWS::SQS::Queue
      Properties: {QueueName: flaky-dlq, MessageRetentionPeriod: 1209600}
    Flaky:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: flaky-jobs
        VisibilityTimeout: 1
        RedrivePolicy:
          deadLetterTargetArn: !GetAtt [FlakyDlq, Arn]
          maxReceiveCount: 2
        Tags:
          - {Key: team, Value: payments}
    Partial:
      Type: AWS::SQS::Queue
      Properties: {QueueName: partial-jobs, VisibilityTimeout: 1}
    Filtered:
      Type: AWS::SQS::Queue
      Properties: {QueueName: filtered-jobs}
    Forwarded:
      Type: AWS::SQS::Queue
"""

server = module_server("sqs-events", MANIFEST, "serverless.yml")


@pytest.fixture(scope="module")
def sqs(server: SqsServer) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def lambda_(server: SqsServer) -> Any:
    return server.client("lambda")


def url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def arn(sqs: Any, name: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url(sqs, name), AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def events_in(server: SqsServer, log: str) -> list[dict[str, Any]]:
    path: Path = server.directory / log
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def eventually(check: Callable[[], Any], timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def records(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for event in events for r in event["Records"]]


def counts(sqs: Any, name: str) -> tuple[int, int]:
    shown = sqs.get_queue_attributes(QueueUrl=url(sqs, name), AttributeNames=["All"])
    attributes = shown["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_the_manifests_queues_exist_with_their_attributes(sqs: Any) -> None:
    shown = sqs.get_queue_attributes(QueueUrl=url(sqs, "flaky-jobs"), AttributeNames=["All"])
    attributes = shown["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:flaky-dlq",
        "maxReceiveCount": 2,
    }
    assert sqs.list_queue_tags(QueueUrl=url(sqs, "flaky-jobs"))["Tags"] == {"team": "payments"}
    dlq = sqs.get_queue_attributes(QueueUrl=url(sqs, "flaky-dlq"), AttributeNames=["All"])
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"
    # Without a QueueName, the name CloudFormation would derive (without its random suffix).
    assert url(sqs, "esm-dev-Forwarded").endswith("/000000000000/esm-dev-Forwarded")


def test_messages_reach_the_function_as_lambdas_sqs_event(sqs: Any, server: SqsServer) -> None:
    queue = url(sqs, "plain-jobs")
    sent = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {
                "Id": "a",
                "MessageBody": '{"order": 1}',
                "MessageAttributes": {
                    "Author": {"DataType": "String", "StringValue": "John Grisham"},
                    "WeeksOn": {"DataType": "Number", "StringValue": "6"},
                    "Cover": {"DataType": "Binary", "BinaryValue": b"\x89PNG"},
                },
            },
            {"Id": "b", "MessageBody": "plain text"},
        ],
    )
    ids = {e["Id"]: e["MessageId"] for e in sent["Successful"]}

    got = eventually(
        lambda: (
            len(records(events_in(server, "recorder.log"))) >= 2
            and events_in(server, "recorder.log")
        )
    )

    for event in got:
        SqsModel.model_validate(event)  # Powertools' model of Lambda's SQS event
    by_id = {r["messageId"]: r for r in records(got)}
    first = by_id[ids["a"]]
    assert list(first) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfMessageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert first["body"] == '{"order": 1}'
    assert list(first["attributes"]) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"]["Author"] == {
        "stringValue": "John Grisham",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert first["messageAttributes"]["Cover"]["binaryValue"] == "iVBORw=="
    assert first["md5OfMessageAttributes"] == sent["Successful"][0]["MD5OfMessageAttributes"]
    assert first["md5OfBody"] == sent["Successful"][0]["MD5OfMessageBody"]
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == (
        "aws:sqs",
        "arn:aws:sqs:us-east-1:000000000000:plain-jobs",
        "us-east-1",
    )
    second = by_id[ids["b"]]
    assert (second["messageAttributes"], second["md5OfMessageAttributes"]) == ({}, None)
    # Delivered and deleted.
    assert eventually(lambda: counts(sqs, "plain-jobs") == (0, 0))


def test_a_failed_batch_comes_back_after_the_visibility_timeout_then_goes_to_the_dlq(
    sqs: Any, server: SqsServer
) -> None:
    sent = sqs.send_message(QueueUrl=url(sqs, "flaky-jobs"), MessageBody="poison")

    def dead_lettered() -> Any:
        received = sqs.receive_message(
            QueueUrl=url(sqs, "flaky-dlq"), AttributeNames=["All"], WaitTimeSeconds=1
        )
        return received.get("Messages")

    (dead,) = eventually(dead_lettered)

    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn(sqs, "flaky-jobs")
    tries = [
        r for r in records(events_in(server, "failing.log")) if r["messageId"] == sent["MessageId"]
    ]
    # Each try counted a receive; the third receive moved it to the DLQ instead.
    assert [r["attributes"]["ApproximateReceiveCount"] for r in tries] == ["1", "2"]


def test_batch_item_failures_redeliver_only_the_failed_messages(
    sqs: Any, server: SqsServer
) -> None:
    queue = url(sqs, "partial-jobs")
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "1", "MessageBody": "ok-1"},
            {"Id": "2", "MessageBody": "retry-2"},
            {"Id": "3", "MessageBody": "ok-3"},
        ],
    )

    def settled() -> Any:
        seen = records(events_in(server, "partial.log"))
        return counts(sqs, "partial-jobs") == (0, 0) and len(seen) >= 4 and seen

    seen = eventually(settled)

    assert seen, "the batch was not settled"
    bodies = [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in seen]
    assert sorted(bodies) == [("ok-1", "1"), ("ok-3", "1"), ("retry-2", "1"), ("retry-2", "2")]


def test_messages_no_filter_pattern_matches_are_deleted_unseen(sqs: Any, server: SqsServer) -> None:
    queue = url(sqs, "filtered-jobs")
    for body in (
        '{"kind": "wanted", "n": 1}',
        '{"kind": "other"}',
        "not json",
        '{"kind": "wanted", "n": 2}',
    ):
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    seen = eventually(
        lambda: (
            len(records(events_in(server, "filtered.log"))) >= 2
            and counts(sqs, "filtered-jobs") == (0, 0)
            and records(events_in(server, "filtered.log"))
        )
    )

    assert sorted(json.loads(r["body"])["n"] for r in seen) == [1, 2]


def test_ref_of_a_queue_gives_a_function_its_url(sqs: Any, lambda_: Any, server: SqsServer) -> None:
    answer = lambda_.invoke(FunctionName="esm-dev-sender", Payload=b'{"hello": "queue"}')
    target = json.loads(answer["Payload"].read())
    assert target == f"{server.url}/000000000000/esm-dev-Forwarded"
    (message,) = sqs.receive_message(QueueUrl=target, WaitTimeSeconds=5)["Messages"]
    assert json.loads(message["Body"]) == {"hello": "queue"}


def test_the_lambda_api_lists_the_manifests_mappings(lambda_: Any) -> None:
    listed = lambda_.list_event_source_mappings(FunctionName="esm-dev-partial")
    (mapping,) = listed["EventSourceMappings"]
    assert mapping["EventSourceArn"] == "arn:aws:sqs:us-east-1:000000000000:partial-jobs"
    assert (
        mapping["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:esm-dev-partial"
    )
    assert (mapping["State"], mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (
        "Enabled",
        10,
        ["ReportBatchItemFailures"],
    )
    assert lambda_.get_event_source_mapping(UUID=mapping["UUID"])["UUID"] == mapping["UUID"]
    with pytest.raises(lambda_.exceptions.ResourceConflictException):
        lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    everything = lambda_.list_event_source_mappings()["EventSourceMappings"]
    assert len(everything) >= 4


def test_the_lambda_api_creates_updates_and_deletes_a_mapping(
    sqs: Any, lambda_: Any, server: SqsServer
) -> None:
    queue = sqs.create_queue(QueueName="api-jobs")["QueueUrl"]
    created = lambda_.create_event_source_mapping(
        EventSourceArn=arn(sqs, "api-jobs"), FunctionName="esm-dev-api", BatchSize=5
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (created["State"], created["StateTransitionReason"], created["BatchSize"]) == (
        "Creating",
        "USER_INITIATED",
        5,
    )
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    sqs.send_message(QueueUrl=queue, MessageBody="through the api's mapping")
    got = eventually(lambda: records(events_in(server, "api.log")))
    assert [r["body"] for r in got] == ["through the api's mapping"]
    SqsModel.model_validate(events_in(server, "api.log")[0])

    with pytest.raises(lambda_.exceptions.ResourceConflictException) as raised:
        lambda_.create_event_source_mapping(
            EventSourceArn=arn(sqs, "api-jobs"), FunctionName="esm-dev-api"
        )
    assert f"existing mapping with UUID {created['UUID']}" in str(raised.value)

    updated = lambda_.update_event_source_mapping(
        UUID=created["UUID"],
        Enabled=False,
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"x": [1]}}'}]},
    )
    assert updated["State"] == "Updating"
    shown = lambda_.get_event_source_mapping(UUID=created["UUID"])
    assert shown["State"] == "Disabled"
    assert shown["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"x": [1]}}'}]}

    deleted = lambda_.delete_event_source_mapping(UUID=created["UUID"])
    assert deleted["State"] == "Deleting"
    with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
        lambda_.get_event_source_mapping(UUID=created["UUID"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            {"BatchSize": 11},
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10",
            id="a batch over ten needs a window",
        ),
        pytest.param(
            {"FilterCriteria": {"Filters": [{"Pattern": '{"eventSource": "aws:sqs"}'}]}},
            "Invalid filter pattern definition.",
            id="a pattern's values are lists",
        ),
        pytest.param(
            {"EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:no-such-queue"},
            "Error occurred while ReceiveMessage. SQS Error Code: "
            "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does "
            "not exist.",
            id="the queue must exist",
        ),
    ],
)
def test_create_event_source_mapping_refuses_what_lambda_refuses(
    sqs: Any, lambda_: Any, arguments: dict[str, Any], message: str
) -> None:
    sqs.create_queue(QueueName="refused-jobs")
    given = {"EventSourceArn": arn(sqs, "refused-jobs"), "FunctionName": "esm-dev-api", **arguments}
    with pytest.raises(ClientError) as raised:
        lambda_.create_event_source_mapping(**given)
    assert raised.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": message,
    }
