"""The Lambda API's event source mappings for DynamoDB streams, with stock boto3 against a real
platform: create (StartingPosition required, Lambda's defaults and checks), get, list by
stream and function, update, delete, the manifest's mapping read-only, and records flowing to
the function from the mapping the API made, across a restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from botocore.exceptions import ClientError

from tests.aws.sqs import served
from tests.aws.sqs.served import SqsServer

pytestmark = pytest.mark.e2e

MANIFEST = """
service: mapped
provider:
  name: aws
functions:
  recorder:
    handler: stream_handlers.record
    environment: {OUT: recorder.jsonl}
  declared:
    handler: stream_handlers.record
    environment: {OUT: declared.jsonl}
    events:
      - stream: {arn: !GetAtt Declared.StreamArn, startingPosition: LATEST}
resources:
  Resources:
    Failures: {Type: AWS::SQS::Queue, Properties: {QueueName: failures}}
    Declared:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: Declared
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
        StreamSpecification: {StreamViewType: NEW_IMAGE}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqsServer]:
    directory = served.project(tmp_path_factory.mktemp("mapped"), MANIFEST, "serverless.yml")
    running = served.start(directory)
    yield running
    served.stop(running)


def _table(ddb: Any, name: str, stream: bool = True) -> str:
    spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if stream else None
    described = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": spec} if spec else {}),
    )["TableDescription"]
    return str(described.get("LatestStreamArn") or described["TableArn"])


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _records(server: SqsServer, name: str) -> list[dict[str, Any]]:
    path = server.directory / name
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for event in events:
        DynamoDBStreamModel.model_validate(event)
    return [r for e in events for r in e["Records"]]


def test_create_needs_a_starting_position_and_answers_lambdas_document(server: SqsServer) -> None:
    lam, ddb = server.client("lambda"), server.client("dynamodb")
    arn = _table(ddb, "Orders")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
    assert _error(raised) == (
        "InvalidParameterValueException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
    )
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName="recorder",
            StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=time.time(),
        )
    assert _error(raised) == (
        "InvalidParameterValueException",
        f"Unsupported starting position for arn type: {arn}",
    )
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=arn + "x", FunctionName="recorder", StartingPosition="LATEST"
        )
    assert _error(raised)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName="recorder",
            StartingPosition="LATEST",
            ParallelizationFactor=11,
        )
    assert _error(raised)[0] == "ValidationException"
    created = lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="recorder",
        StartingPosition="TRIM_HORIZON",
        BatchSize=50,
        MaximumRetryAttempts=2,
        BisectBatchOnFunctionError=True,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={
            "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}
        },
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    expected = {
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": arn,
        "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:mapped-dev-recorder",
        "State": "Creating",
        "DestinationConfig": {
            "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}
        },
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
    }
    assert {k: created[k] for k in expected} == expected
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="recorder", StartingPosition="LATEST"
        )
    assert _error(raised)[0] == "ResourceConflictException"
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert got["State"] == "Enabled" and got["BatchSize"] == 50
    lam.delete_event_source_mapping(UUID=created["UUID"])


def test_list_update_and_delete(server: SqsServer) -> None:
    lam, ddb = server.client("lambda"), server.client("dynamodb")
    arn = _table(ddb, "Listed")
    made = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="LATEST"
    )
    listed = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [made["UUID"]]
    everything = lam.list_event_source_mappings()["EventSourceMappings"]
    declared_arn = ddb.describe_table(TableName="Declared")["Table"]["LatestStreamArn"]
    assert {made["UUID"]} < {m["UUID"] for m in everything}
    assert declared_arn in {m["EventSourceArn"] for m in everything}
    updated = lam.update_event_source_mapping(
        UUID=made["UUID"], BatchSize=7, Enabled=False, TumblingWindowInSeconds=30
    )
    assert (updated["BatchSize"], updated["TumblingWindowInSeconds"]) == (7, 30)
    assert lam.get_event_source_mapping(UUID=made["UUID"])["State"] == "Disabled"
    with pytest.raises(ClientError) as raised:
        lam.update_event_source_mapping(UUID=made["UUID"], MaximumRecordAgeInSeconds=30)
    assert _error(raised)[0] == "InvalidParameterValueException"
    deleted = lam.delete_event_source_mapping(UUID=made["UUID"])
    assert deleted["State"] == "Deleting"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=made["UUID"])


def test_the_manifests_mapping_is_read_only(server: SqsServer) -> None:
    lam, ddb = server.client("lambda"), server.client("dynamodb")
    arn = ddb.describe_table(TableName="Declared")["Table"]["LatestStreamArn"]
    (declared,) = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert declared["StartingPosition"] == "LATEST"
    with pytest.raises(ClientError) as raised:
        lam.update_event_source_mapping(UUID=declared["UUID"], BatchSize=3)
    assert _error(raised)[0] == "ResourceConflictException"
    with pytest.raises(ClientError) as raised:
        lam.delete_event_source_mapping(UUID=declared["UUID"])
    assert _error(raised)[0] == "ResourceConflictException"


def test_an_api_mapping_delivers_and_survives_a_restart(server: SqsServer) -> None:
    lam, ddb = server.client("lambda"), server.client("dynamodb")
    arn = _table(ddb, "Flowing")
    ddb.put_item(TableName="Flowing", Item={"id": {"S": "before"}})  # TRIM_HORIZON sees it
    made = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON"
    )
    ddb.put_item(TableName="Flowing", Item={"id": {"S": "after"}})
    got = wait_for(lambda: len(_records(server, "recorder.jsonl")) >= 2, "two records")
    assert got
    records = _records(server, "recorder.jsonl")
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in records] == ["before", "after"]
    assert {r["eventSourceARN"] for r in records} == {arn}
    restarted = served.restart(server)
    try:
        lam = restarted.client("lambda")
        assert lam.get_event_source_mapping(UUID=made["UUID"])["EventSourceArn"] == arn
        restarted.client("dynamodb").put_item(TableName="Flowing", Item={"id": {"S": "later"}})
        wait_for(lambda: len(_records(restarted, "recorder.jsonl")) >= 3, "the third record")
        keys = [r["dynamodb"]["Keys"]["id"]["S"] for r in _records(restarted, "recorder.jsonl")]
        assert keys == ["before", "after", "later"]  # the checkpoint held: nothing twice
    finally:
        server.proc = restarted.proc


@pytest.mark.postgres
def test_on_postgresql_an_api_mapping_and_ttl_work_across_a_restart(
    tmp_path_factory: pytest.TempPathFactory, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    directory = served.project(tmp_path_factory.mktemp("mapped-pg"), MANIFEST, "serverless.yml")
    running = served.start(directory, "--store", f"{url}?schema={schema}")
    try:
        lam, ddb = running.client("lambda"), running.client("dynamodb")
        arn = _table(ddb, "OnPg")
        ddb.update_time_to_live(
            TableName="OnPg", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
        lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON"
        )
        ddb.put_item(TableName="OnPg", Item={"id": {"S": "one"}})
        wait_for(lambda: len(_records(running, "recorder.jsonl")) >= 1, "the first record")
        running = served.restart(running)
        ddb = running.client("dynamodb")
        past = str(int(time.time()) - 1)
        ddb.put_item(TableName="OnPg", Item={"id": {"S": "two"}, "ttl": {"N": past}})
        wait_for(lambda: len(_records(running, "recorder.jsonl")) >= 3, "the TTL's REMOVE")
        records = _records(running, "recorder.jsonl")
        assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records] == [
            ("INSERT", "one"),
            ("INSERT", "two"),
            ("REMOVE", "two"),
        ]
        assert records[2]["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    finally:
        served.stop(running)
