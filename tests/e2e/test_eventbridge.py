"""EventBridge on a real ``skylet up`` with stock boto3 ``events``: the default bus, custom
buses, rules (patterns refused as EventBridge refuses them, schedule rules refused clearly),
targets, PutEvents' per-entry failures, TestEventPattern; a matched event reaches a function
(the event checked against Powertools' EventBridgeModel), an SQS queue (through an
InputTransformer) and an SNS topic; rules and targets survive a restart."""

from __future__ import annotations

import datetime
import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from tests.e2e.conftest import (
    SKYLET,
    Server,
    module_server,
    serverless_project,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.e2e

MANIFEST = """
service: bridge
provider:
  name: aws
  region: eu-west-1
functions:
  notify:
    handler: messaging.record
  ticker:
    handler: messaging.record
resources:
  Resources:
    Dead:
      Type: AWS::SQS::Queue
      Properties: {QueueName: dead}
    Orders:
      Type: AWS::SQS::Queue
      Properties: {QueueName: orders}
    Copies:
      Type: AWS::SQS::Queue
      Properties: {QueueName: copies}
    Alerts:
      Type: AWS::SNS::Topic
      Properties: {TopicName: alerts}
    CopiesSubscription:
      Type: AWS::SNS::Subscription
      Properties:
        TopicArn: !Ref Alerts
        Protocol: sqs
        Endpoint: !GetAtt Copies.Arn
        RawMessageDelivery: "true"
"""
REGION = "eu-west-1"
ACCOUNT = "000000000000"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
ORDER_PATTERN = json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}})


server = module_server("bridge", MANIFEST, serverless=True)


@pytest.fixture(scope="module")
def events(server: Server) -> Iterator[Any]:
    client = server.client("events", REGION)
    yield client
    client.close()


@pytest.fixture(scope="module")
def sqs(server: Server) -> Iterator[Any]:
    client = server.client("sqs", REGION)
    yield client
    client.close()


def _drain(sqs: Any, name: str) -> list[str]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _order(total: int, bus: str | None = None) -> dict[str, Any]:
    entry = {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"total": total})}
    return {**entry, "EventBusName": bus} if bus else entry


def test_the_default_bus_exists_and_custom_buses_come_and_go(events: Any) -> None:
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names
    arn = events.create_event_bus(Name="payments")["EventBusArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/payments"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="payments")
    assert events.describe_event_bus(Name="payments")["Arn"] == arn
    events.delete_event_bus(Name="payments")
    assert "payments" not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]


def test_an_invalid_pattern_is_refused_with_eventbridges_reason(events: Any) -> None:
    with pytest.raises(events.exceptions.InvalidEventPatternException) as caught:
        events.put_rule(Name="bad", EventPattern='{"source": "shop"}')
    message = caught.value.response["Error"]["Message"]
    assert message == 'Event pattern is not valid. Reason: "source" must be an object or an array'


def test_a_schedule_rule_is_refused_off_the_default_bus_and_when_malformed(events: Any) -> None:
    events.create_event_bus(Name="elsewhere")
    with pytest.raises(events.exceptions.ClientError) as caught:
        events.put_rule(Name="t", EventBusName="elsewhere", ScheduleExpression="rate(1 hour)")
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "ScheduleExpression is supported only on the default event bus.",
    }
    for bad in ("rate(0 minutes)", "cron(0 1 * * *)", "every day"):
        with pytest.raises(events.exceptions.ClientError) as caught:
            events.put_rule(Name="t", ScheduleExpression=bad)
        assert caught.value.response["Error"]["Message"] == (
            "Parameter ScheduleExpression is not valid."
        )


def _schedules(server: Server) -> dict[str, Any]:
    return {s["name"]: s for s in httpx.get(f"{server.url}/_skylet/schedules").json()}


def test_a_schedule_rule_fires_the_scheduled_event_to_its_targets(
    server: Server, events: Any, sqs: Any
) -> None:
    arn = events.put_rule(Name="tick", ScheduleExpression="cron(0 1 * * ? *)")["RuleArn"]
    assert events.describe_rule(Name="tick")["ScheduleExpression"] == "cron(0 1 * * ? *)"
    events.put_targets(
        Rule="tick",
        Targets=[
            {"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ticker"},
            {"Id": "q", "Arn": QUEUE_ARN, "InputPath": "$.resources"},
        ],
    )
    listed = _schedules(server)["tick"]
    assert listed["expression"] == "cron(0 1 * * ? *)"
    due = datetime.datetime.fromisoformat(listed["next"])
    assert (due.hour, due.minute) == (1, 0) and due > datetime.datetime.now(datetime.UTC)
    done = subprocess.run(
        [SKYLET, "schedule", "run", "tick", "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "fired tick: the Scheduled Event sent to the rule's targets"
    (event,) = server.printed_events("ticker", 1)
    parsed = EventBridgeModel.model_validate(event)
    assert (parsed.source, parsed.detail_type, parsed.detail) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert parsed.resources == [arn] and event["region"] == REGION
    assert [json.loads(b) for b in _drain(sqs, "orders")] == [[arn]]
    events.disable_rule(Name="tick")
    assert _schedules(server)["tick"]["next"] is None
    events.enable_rule(Name="tick")
    assert _schedules(server)["tick"]["next"] is not None
    events.remove_targets(Rule="tick", Ids=["fn", "q"])
    events.delete_rule(Name="tick")
    assert "tick" not in _schedules(server)


def test_rules_are_described_listed_disabled_and_deleted(events: Any) -> None:
    arn = events.put_rule(Name="audit", EventPattern=ORDER_PATTERN, Description="d")["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/audit"
    described = events.describe_rule(Name="audit")
    assert (described["State"], described["EventPattern"]) == ("ENABLED", ORDER_PATTERN)
    assert "audit" in [r["Name"] for r in events.list_rules(NamePrefix="aud")["Rules"]]
    events.disable_rule(Name="audit")
    assert events.describe_rule(Name="audit")["State"] == "DISABLED"
    events.enable_rule(Name="audit")
    events.put_targets(Rule="audit", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    with pytest.raises(events.exceptions.ClientError):
        events.delete_rule(Name="audit")  # it has targets
    events.remove_targets(Rule="audit", Ids=["q"])
    events.delete_rule(Name="audit")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="audit")


def test_put_events_reports_each_failed_entry_as_aws_does(events: Any) -> None:
    answer = events.put_events(
        Entries=[
            _order(5),
            {"Source": "shop", "DetailType": "x"},
            {"Source": "shop", "DetailType": "x", "Detail": "[1]"},
            _order(5, bus="nowhere"),
        ]
    )
    assert answer["FailedEntryCount"] == 3
    first, missing, malformed, unknown = answer["Entries"]
    assert "EventId" in first
    assert missing["ErrorCode"] == "InvalidArgument"
    assert (
        missing["ErrorMessage"]
        == "Parameter Detail is not valid. Reason: Detail is a required argument."
    )
    assert (malformed["ErrorCode"], malformed["ErrorMessage"]) == (
        "MalformedDetail",
        "Detail is malformed.",
    )
    assert unknown["ErrorCode"] == "ResourceNotFoundException"


def test_a_matched_event_reaches_function_queue_and_topic_targets(
    server: Server, events: Any, sqs: Any
) -> None:
    events.put_rule(Name="big-orders", EventPattern=ORDER_PATTERN)
    events.put_targets(
        Rule="big-orders",
        Targets=[
            {"Id": "fn", "Arn": FUNCTION_ARN},
            {
                "Id": "queue",
                "Arn": QUEUE_ARN,
                "InputTransformer": {
                    "InputPathsMap": {"total": "$.detail.total"},
                    "InputTemplate": '{"big": <total>, "rule": "<aws.events.rule-name>"}',
                },
            },
            {"Id": "topic", "Arn": TOPIC_ARN, "InputPath": "$.detail"},
        ],
    )
    listed = events.list_targets_by_rule(Rule="big-orders")["Targets"]
    assert [t["Id"] for t in listed] == ["fn", "queue", "topic"]
    answer = events.put_events(Entries=[_order(250), _order(7)])
    assert answer["FailedEntryCount"] == 0
    # Deliveries to queues are made before PutEvents answers: no waiting for these.
    assert [json.loads(b) for b in _drain(sqs, "orders")] == [{"big": 250, "rule": "big-orders"}]
    copies = _drain(sqs, "copies")
    deadline = time.monotonic() + 30
    while not copies and time.monotonic() < deadline:  # SNS delivers on its own loop
        time.sleep(0.1)
        copies = _drain(sqs, "copies")
    assert [json.loads(b) for b in copies] == [{"total": 250}]
    (event,) = server.printed_events("notify", 1)
    parsed = EventBridgeModel.model_validate(event)
    assert (parsed.source, parsed.detail_type, parsed.detail) == (
        "shop",
        "Order Placed",
        {"total": 250},
    )
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["account"] == ACCOUNT and event["region"] == REGION


def test_a_target_that_does_not_exist_sends_the_event_to_its_dead_letter_queue(
    events: Any, sqs: Any
) -> None:
    events.put_rule(Name="lost", EventPattern=json.dumps({"source": ["lost"]}))
    with pytest.raises(events.exceptions.ClientError) as caught:
        events.put_targets(
            Rule="lost",
            Targets=[{"Id": "x", "Arn": QUEUE_ARN, "RetryPolicy": {"MaximumRetryAttempts": 186}}],
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    gone = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nobody"
    events.put_targets(
        Rule="lost",
        Targets=[
            {
                "Id": "gone",
                "Arn": gone,
                "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600},
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead"},
            }
        ],
    )
    answer = events.put_events(Entries=[{"Source": "lost", "DetailType": "x", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    url = sqs.get_queue_url(QueueName="dead")["QueueUrl"]
    (message,) = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert json.loads(message["Body"])["id"] == answer["Entries"][0]["EventId"]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes.pop("ERROR_MESSAGE")
    assert attributes == {
        "RULE_ARN": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lost",
        "TARGET_ARN": gone,
        "ERROR_CODE": "NO_RESOURCE",
        "RETRY_ATTEMPTS": "0",
    }


def test_a_disabled_rule_delivers_nothing(events: Any, sqs: Any) -> None:
    events.put_rule(Name="quiet", EventPattern=json.dumps({"source": ["quiet"]}), State="DISABLED")
    events.put_targets(Rule="quiet", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    events.put_events(Entries=[{"Source": "quiet", "DetailType": "x", "Detail": "{}"}])
    assert _drain(sqs, "orders") == []
    events.enable_rule(Name="quiet")
    events.put_events(Entries=[{"Source": "quiet", "DetailType": "x", "Detail": "{}"}])
    assert [json.loads(b)["source"] for b in _drain(sqs, "orders")] == ["quiet"]


def test_a_custom_bus_routes_only_its_own_rules(events: Any, sqs: Any) -> None:
    events.create_event_bus(Name="partners")
    events.put_rule(
        Name="all", EventBusName="partners", EventPattern=json.dumps({"source": ["shop"]})
    )
    events.put_targets(Rule="all", EventBusName="partners", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    events.put_events(Entries=[_order(1, bus="partners")])
    (body,) = _drain(sqs, "orders")
    assert json.loads(body)["detail"] == {"total": 1}


def test_test_event_pattern_answers_as_eventbridge(events: Any) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "shop",
        "time": "2026-01-01T00:00:00Z",
        "region": REGION,
        "detail-type": "Order Placed",
        "resources": [],
        "detail": {"total": 101},
    }
    assert events.test_event_pattern(EventPattern=ORDER_PATTERN, Event=json.dumps(event))["Result"]
    event["detail"] = {"total": 100}
    assert not events.test_event_pattern(EventPattern=ORDER_PATTERN, Event=json.dumps(event))[
        "Result"
    ]
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern="[]", Event=json.dumps(event))


def test_rules_and_targets_survive_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = serverless_project(tmp_path_factory.mktemp("bridge-restart"), MANIFEST)
    first = start_server(directory, "--no-reload")
    try:
        client = first.client("events", REGION)
        client.put_rule(Name="kept", EventPattern=ORDER_PATTERN)
        client.put_targets(Rule="kept", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    finally:
        stop_server(first)
    second = start_server(directory, "--no-reload")
    try:
        client, queues = second.client("events", REGION), second.client("sqs", REGION)
        assert client.describe_rule(Name="kept")["EventPattern"] == ORDER_PATTERN
        client.put_events(Entries=[_order(500)])
        assert [json.loads(b)["detail"] for b in _drain(queues, "orders")] == [{"total": 500}]
    finally:
        stop_server(second)
