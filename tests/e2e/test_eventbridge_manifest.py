"""EventBridge rules a serverless.yml declares, on a real ``skylet up`` with stock boto3:
``eventBridge`` events (a pattern on a custom bus, a schedule with input) and
``AWS::Events::Rule``/``AWS::Events::EventBus`` resources run; events reach the function
(checked against Powertools' EventBridgeModel) and the queue; ``Ref``/``GetAtt`` of a bus and a
rule resolve in the environment as CloudFormation's; a reload that drops a rule removes it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
ACCOUNT = "000000000000"
MANIFEST = """
service: shop
provider:
  name: aws
  region: eu-west-1
functions:
  notify:
    handler: messaging.record
    events:
      - eventBridge:
          eventBus: orders
          pattern: {source: [shop], detail: {total: [{numeric: [">", 100]}]}}
          retryPolicy: {maximumEventAge: 3600, maximumRetryAttempts: 3}
          deadLetterQueueArn: !GetAtt Dead.Arn
      - eventBridge:
          name: tick
          schedule: rate(1 hour)
          input: {kind: tick}
  failing:
    handler: handlers.fail
    maximumRetryAttempts: 0
    destinations:
      onFailure: !GetAtt Failures.Arn
    events:
      - eventBridge:
          pattern: {source: [doomed]}
  env:
    handler: handlers.echo
    environment:
      BUS: !Ref Audit
      BUS_ARN: !GetAtt Audit.Arn
      RULE: !Ref AuditRule
      RULE_ARN: !GetAtt AuditRule.Arn
resources:
  Resources:
    Dead:
      Type: AWS::SQS::Queue
      Properties: {QueueName: dead}
    Audited:
      Type: AWS::SQS::Queue
      Properties: {QueueName: audited}
    Failures:
      Type: AWS::SQS::Queue
      Properties: {QueueName: failures}
    Audit:
      Type: AWS::Events::EventBus
      Properties: {Name: audit}
    AuditRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: !Ref Audit
        EventPattern: {source: [shop]}
        Targets:
          - Id: q
            Arn: !GetAtt Audited.Arn
            InputPath: $.detail
"""

server = module_server("bridge-manifest", MANIFEST, "--reload", serverless=True)


@pytest.fixture(scope="module")
def events(server: Server) -> Iterator[Any]:
    client = server.client("events", REGION)
    yield client
    client.close()


def test_the_declared_rules_are_listed_with_their_targets(events: Any) -> None:
    (rule,) = events.list_rules(EventBusName="orders")["Rules"]
    assert rule["Name"] == "shop-dev-notify-rule-1"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName="orders")["Targets"]
    assert target["Arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-dev-notify"
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead"}
    tick = events.describe_rule(Name="tick")
    assert tick["ScheduleExpression"] == "rate(1 hour)"
    names = {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    assert {"default", "orders", "audit"} <= names


def test_an_event_on_the_declared_bus_reaches_the_function(server: Server, events: Any) -> None:
    entries = [
        {
            "EventBusName": "orders",
            "Source": "shop",
            "DetailType": "Order Placed",
            "Detail": json.dumps({"total": total}),
        }
        for total in (250, 5)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    (event,) = server.printed_events("notify", 1)
    parsed = EventBridgeModel.model_validate(event)
    assert (parsed.source, parsed.detail) == ("shop", {"total": 250})


def test_a_declared_schedule_fires_its_input(server: Server) -> None:
    listed = {s["name"]: s for s in httpx.get(f"{server.url}/_skylet/schedules").json()}
    assert listed["tick"]["expression"] == "rate(1 hour)" and listed["tick"]["next"]
    assert httpx.post(f"{server.url}/_skylet/schedules/tick/run").status_code == 202
    found = server.printed_events("notify", 2)
    assert {"kind": "tick"} in found


def test_an_events_rule_resource_delivers_to_its_queue(server: Server, events: Any) -> None:
    entry = {"EventBusName": "audit", "Source": "shop", "DetailType": "x", "Detail": '{"a": 1}'}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    sqs = server.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="audited")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"]) == {"a": 1}


def test_a_function_error_behind_a_rule_follows_the_functions_async_config(
    server: Server, events: Any
) -> None:
    # As on AWS: EventBridge's part ends when the invocation is queued; the function's own
    # retries and on-failure destination take its errors.
    entry = {"Source": "doomed", "DetailType": "x", "Detail": '{"n": 1}'}
    answer = events.put_events(Entries=[entry])
    sqs = server.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="failures")["QueueUrl"]
    deadline = time.monotonic() + 30
    while not (found := sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")):
        assert time.monotonic() < deadline, server.output()
    record = json.loads(found[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"]["id"] == answer["Entries"][0]["EventId"]
    EventBridgeModel.model_validate(record["requestPayload"])


def test_ref_and_getatt_of_bus_and_rule_resolve_as_cloudformations(server: Server) -> None:
    answer = server.client("lambda", REGION).invoke(FunctionName="env", Payload=b"{}")
    env = json.loads(answer["Payload"].read())["env"]
    assert env["BUS"] == "audit"
    assert env["BUS_ARN"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/audit"
    assert env["RULE"] == "audit|shop-dev-AuditRule"
    assert env["RULE_ARN"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/audit/shop-dev-AuditRule"


def test_a_reload_without_a_rule_removes_it(server: Server, events: Any) -> None:
    manifest = server.directory / "serverless.yml"
    text = manifest.read_text()
    start = text.index("      - eventBridge:\n          name: tick")
    end = text.index("  env:")
    manifest.write_text(text[:start] + text[end:])
    deadline = time.monotonic() + 30
    while "tick" in {r["Name"] for r in events.list_rules()["Rules"]}:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)
    assert "tick" not in {s["name"] for s in httpx.get(f"{server.url}/_skylet/schedules").json()}
