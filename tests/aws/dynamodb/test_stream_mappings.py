"""DynamoDB stream event source mappings (serverless.yml ``stream`` events) against a real
platform: every event checked against Powertools' DynamoDBStreamModel, records of one item in
order, a failing batch bisected and retried while the shard waits, records past their retries
sent to the on-failure queue with Lambda's invocation record, filters, partial batch failures,
and checkpoints that survive kill -9 with nothing lost."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from tests.aws.sqs import served
from tests.aws.sqs.served import SqsServer

pytestmark = pytest.mark.e2e

TABLE = """
    {name}:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: {name}
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
        KeySchema: [{{AttributeName: id, KeyType: HASH}}]
        StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
"""

MANIFEST = """
service: streams
provider:
  name: aws
functions:
  plain:
    handler: stream_handlers.record
    environment: {OUT: plain.jsonl}
    events:
      - stream: {arn: !GetAtt Plain.StreamArn, batchSize: 5}
  bisect:
    handler: stream_handlers.fail_on_poison
    environment: {OUT: bisect.jsonl}
    events:
      - stream:
          arn: !GetAtt Bisect.StreamArn
          batchSize: 4
          bisectBatchOnFunctionError: true
          maximumRetryAttempts: 1
          destinations: {onFailure: {arn: !GetAtt Failed.Arn, type: sqs}}
  partial:
    handler: stream_handlers.report_poison
    environment: {OUT: partial.jsonl}
    events:
      - stream:
          arn: !GetAtt Partial.StreamArn
          batchSize: 10
          maximumRetryAttempts: 0
          functionResponseType: ReportBatchItemFailures
          destinations: {onFailure: {arn: !GetAtt Failed2.Arn, type: sqs}}
  filtered:
    handler: stream_handlers.record
    environment: {OUT: filtered.jsonl}
    events:
      - stream:
          arn: !GetAtt Filtered.StreamArn
          filterPatterns: [{eventName: [INSERT]}]
  parallel:
    handler: stream_handlers.slow_record
    environment: {OUT: parallel.jsonl}
    events:
      - stream: {arn: !GetAtt Parallel.StreamArn, batchSize: 2, parallelizationFactor: 4}
  windowed:
    handler: stream_handlers.count_in_window
    environment: {OUT: windowed.jsonl}
    events:
      - stream: {arn: !GetAtt Windowed.StreamArn, tumblingWindowInSeconds: 2}
  expiring:
    handler: stream_handlers.record
    environment: {OUT: expiring.jsonl}
    events:
      - stream: {arn: !GetAtt Expiring.StreamArn}
resources:
  Resources:
    Failed: {Type: AWS::SQS::Queue, Properties: {QueueName: failed}}
    Failed2: {Type: AWS::SQS::Queue, Properties: {QueueName: failed2}}
""" + "".join(
    TABLE.format(name=n)
    for n in ("Plain", "Bisect", "Partial", "Filtered", "Parallel", "Windowed", "Expiring")
)
MANIFEST += """        TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqsServer]:
    directory = served.project(tmp_path_factory.mktemp("streams"), MANIFEST, "serverless.yml")
    running = served.start(directory)
    yield running
    served.stop(running)


def events(server: SqsServer, name: str) -> list[dict[str, Any]]:
    path = server.directory / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def keys(evs: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for e in evs for r in e["Records"]]


def put(ddb: Any, table: str, item_id: str, **extra: str) -> None:
    item = {"id": {"S": item_id}, **{k: {"S": v} for k, v in extra.items()}}
    ddb.put_item(TableName=table, Item=item)


def test_every_change_reaches_the_function_in_order_as_dynamodb_streams_events(
    server: SqsServer,
) -> None:
    ddb = server.client("dynamodb")
    for n in range(7):
        put(ddb, "Plain", "a", n=str(n))
    ddb.delete_item(TableName="Plain", Key={"id": {"S": "a"}})
    got = wait_for(
        lambda: len(keys(events(server, "plain.jsonl"))) >= 8 and events(server, "plain.jsonl"),
        "8 records",
    )
    for event in got:
        DynamoDBStreamModel.model_validate(event)
        assert len(event["Records"]) <= 5
    records = [r for e in got for r in e["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT"] + ["MODIFY"] * 6 + ["REMOVE"]
    assert [r["dynamodb"].get("NewImage", {}).get("n", {}).get("S") for r in records[:7]] == [
        str(n) for n in range(7)
    ]
    arn = ddb.describe_table(TableName="Plain")["Table"]["LatestStreamArn"]
    assert {r["eventSourceARN"] for r in records} == {arn}


def test_a_failing_batch_is_bisected_and_the_poison_record_goes_to_on_failure(
    server: SqsServer,
) -> None:
    ddb = server.client("dynamodb")
    for item_id in ("b1", "b2", "poison", "b4"):
        put(ddb, "Bisect", item_id)
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="failed")["QueueUrl"]
    message = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
        "the on-failure record",
    )[0]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"] == ddb.describe_table(TableName="Bisect")["Table"]["LatestStreamArn"]

    def b4_after_poison() -> bool:
        batches = [keys([e]) for e in events(server, "bisect.jsonl")]
        last_poison = max(i for i, b in enumerate(batches) if "poison" in b)
        return any("b4" in b for b in batches[last_poison + 1 :])

    # b4 is delivered (again, alone or with later records) only once poison was given up:
    # the shard waited, and nothing after the poison record was skipped.
    wait_for(b4_after_poison, "b4 after the poison record")


def test_reported_failures_checkpoint_before_the_lowest_one(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    # One transaction: the three records are in the log together, so in one batch.
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "Partial", "Item": {"id": {"S": i}}}}
            for i in ("p1", "poison", "p3")
        ]
    )
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="failed2")["QueueUrl"]
    message = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
        "the on-failure record",
    )[0]
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2  # the poison record and the one after it
    got = keys(events(server, "partial.jsonl"))
    assert got.count("p1") == 1  # before the failure: checkpointed, not retried


def test_filter_patterns_keep_only_matching_records(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    put(ddb, "Filtered", "f1")
    put(ddb, "Filtered", "f1", x="modified")
    put(ddb, "Filtered", "f2")
    got = wait_for(
        lambda: "f2" in keys(events(server, "filtered.jsonl")) and events(server, "filtered.jsonl"),
        "f2",
    )
    assert [r["eventName"] for e in got for r in e["Records"]] == ["INSERT", "INSERT"]


def test_after_kill_9_every_acknowledged_write_is_delivered_in_order(
    server: SqsServer,
) -> None:
    ddb = server.client("dynamodb")
    for n in range(30):
        put(ddb, "Plain", "k", n=str(n))
    server.proc = served.restart(server, kill=True).proc
    ddb = server.client("dynamodb")
    for n in range(30, 40):
        put(ddb, "Plain", "k", n=str(n))

    def values() -> list[int]:
        return [
            int(r["dynamodb"]["NewImage"]["n"]["S"])
            for e in events(server, "plain.jsonl")
            for r in e["Records"]
            if r["dynamodb"]["Keys"]["id"]["S"] == "k"
        ]

    wait_for(lambda: 39 in values(), "the last write")
    got = values()
    assert set(got) == set(range(40))  # nothing lost (redelivery after the kill allowed)
    firsts = sorted(set(got), key=got.index)
    assert firsts == list(range(40))  # in order per item


def test_expired_items_are_removed_by_ttl_with_the_service_identity(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    assert ddb.describe_time_to_live(TableName="Expiring")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    past, future = str(int(time.time()) - 5), str(int(time.time()) + 3600)
    ddb.put_item(TableName="Expiring", Item={"id": {"S": "gone"}, "expires": {"N": past}})
    ddb.put_item(TableName="Expiring", Item={"id": {"S": "kept"}, "expires": {"N": future}})
    ddb.delete_item(TableName="Expiring", Key={"id": {"S": "kept2"}})  # nothing: no record

    def removed() -> list[dict[str, Any]]:
        records = [r for e in events(server, "expiring.jsonl") for r in e["Records"]]
        return [r for r in records if r["eventName"] == "REMOVE"]

    (removal,) = wait_for(removed, "the TTL deletion's REMOVE record", timeout_s=20)
    DynamoDBStreamModel.model_validate({"Records": [removal]})
    assert removal["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert removal["dynamodb"]["OldImage"] == {"id": {"S": "gone"}, "expires": {"N": past}}
    assert "Item" not in ddb.get_item(TableName="Expiring", Key={"id": {"S": "gone"}})
    assert "Item" in ddb.get_item(TableName="Expiring", Key={"id": {"S": "kept"}})


def test_parallel_batches_keep_each_items_records_in_order(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    for n in range(3):
        for item in range(8):
            put(ddb, "Parallel", f"k{item}", n=str(n))
    path = server.directory / "parallel.jsonl"

    def runs() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    wait_for(lambda: sum(len(r["event"]["Records"]) for r in runs()) >= 24, "24 records")
    done = runs()
    for run in done:
        DynamoDBStreamModel.model_validate(run["event"])
        assert len(run["event"]["Records"]) <= 2
    by_item: dict[str, list[str]] = {}
    for run in sorted(done, key=lambda r: r["started"]):
        for record in run["event"]["Records"]:
            key = record["dynamodb"]["Keys"]["id"]["S"]
            by_item.setdefault(key, []).append(record["dynamodb"]["NewImage"]["n"]["S"])
    assert by_item == {f"k{i}": ["0", "1", "2"] for i in range(8)}
    overlapping = any(
        a["started"] < b["ended"] and b["started"] < a["ended"]
        for i, a in enumerate(done)
        for b in done[i + 1 :]
    )
    assert overlapping, "no two batches ran side by side"


def test_a_tumbling_window_carries_state_to_its_final_invocation(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    for n in range(5):
        put(ddb, "Windowed", f"w{n}")

    def finals() -> list[dict[str, Any]]:
        return [e for e in events(server, "windowed.jsonl") if e["isFinalInvokeForWindow"]]

    wait_for(
        lambda: sum(f["state"].get("count", 0) for f in finals()) >= 5, "the final invocations"
    )
    got = events(server, "windowed.jsonl")
    arn = ddb.describe_table(TableName="Windowed")["Table"]["LatestStreamArn"]
    for event in got:
        DynamoDBStreamModel.model_validate(event)
        assert event["eventSourceARN"] == arn and event["shardId"].startswith("shardId-")
        assert event["isWindowTerminatedEarly"] is False
        start, end = (
            datetime.datetime.fromisoformat(event["window"][k]).timestamp()
            for k in ("start", "end")
        )
        assert end - start == 2
        for record in event["Records"]:
            assert start <= record["dynamodb"]["ApproximateCreationDateTime"] < end
    for final in finals():
        assert final["Records"] == []
        same = [
            e for e in got if e["window"] == final["window"] and not e["isFinalInvokeForWindow"]
        ]
        assert final["state"]["count"] == sum(len(e["Records"]) for e in same)
    assert sum(len(e["Records"]) for e in got) == 5


def test_parallel_lanes_after_kill_9_lose_nothing_and_keep_each_items_order(
    server: SqsServer,
) -> None:
    ddb = server.client("dynamodb")
    for n in range(4):
        for item in range(6):
            put(ddb, "Parallel", f"p{item}", n=str(n))
    time.sleep(0.4)  # some batches under way (each takes 0.3 s), most not
    server.proc = served.restart(server, kill=True).proc
    ddb = server.client("dynamodb")
    for item in range(6):
        put(ddb, "Parallel", f"p{item}", n="4")
    path = server.directory / "parallel.jsonl"

    def by_item() -> dict[str, list[int]]:
        runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        found: dict[str, list[int]] = {}
        for run in sorted(runs, key=lambda r: r["started"]):
            for record in run["event"]["Records"]:
                key = record["dynamodb"]["Keys"]["id"]["S"]
                if key.startswith("p"):
                    found.setdefault(key, []).append(int(record["dynamodb"]["NewImage"]["n"]["S"]))
        return found

    wait_for(
        lambda: len(by_item()) == 6 and all(4 in v for v in by_item().values()), "every last write"
    )
    for values in by_item().values():
        assert set(values) == set(range(5))  # nothing lost (redelivery after the kill allowed)
        assert sorted(set(values), key=values.index) == list(range(5))  # in order per item
