"""EventBridge archives and replays on a real ``skylet up`` with stock boto3: an archive keeps
the bus's events its pattern matches, a replay sends them again (with ``replay-name``) to the
rules it names, and bad requests get EventBridge's errors."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
ACCOUNT = "000000000000"
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
MANIFEST = """
service: archived
provider: {name: aws, region: eu-west-1}
functions:
  idle:
    handler: messaging.record
resources:
  Resources:
    Seen:
      Type: AWS::SQS::Queue
      Properties: {QueueName: seen}
    Other:
      Type: AWS::SQS::Queue
      Properties: {QueueName: other}
"""

server = module_server("archives", MANIFEST, serverless=True)


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


def _drain(sqs: Any, name: str) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _entry(n: int, source: str = "shop") -> dict[str, str]:
    return {"Source": source, "DetailType": "Order", "Detail": json.dumps({"n": n})}


def test_an_archive_keeps_the_matching_events_and_a_replay_resends_them(
    events: Any, sqs: Any
) -> None:
    for name, queue in (("to-seen", "seen"), ("to-other", "other")):
        rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": ["shop"]}))
        events.put_targets(
            Rule=name, Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"}]
        )
    seen_rule = rule_arn["RuleArn"].replace("to-other", "to-seen")
    created = events.create_archive(
        ArchiveName="orders",
        EventSourceArn=BUS_ARN,
        EventPattern=json.dumps({"source": ["shop"]}),
        RetentionDays=1,
    )
    assert created["ArchiveArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:archive/orders"
    assert created["State"] == "ENABLED"
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    events.put_events(Entries=[_entry(1), _entry(2), _entry(3, source="bank")])
    assert len(_drain(sqs, "seen")) == 2 and len(_drain(sqs, "other")) == 2
    described = events.describe_archive(ArchiveName="orders")
    assert (described["EventCount"], described["RetentionDays"]) == (2, 1)
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["orders"]

    end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    answer = events.start_replay(
        ReplayName="again",
        EventSourceArn=created["ArchiveArn"],
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": BUS_ARN, "FilterArns": [seen_rule]},
    )
    assert answer["State"] == "STARTING"
    deadline = time.monotonic() + 30
    while (state := events.describe_replay(ReplayName="again")["State"]) != "COMPLETED":
        assert state in ("STARTING", "RUNNING") and time.monotonic() < deadline, state
        time.sleep(0.05)
    replayed = _drain(sqs, "seen")
    assert sorted(e["detail"]["n"] for e in replayed) == [1, 2]
    assert {e["replay-name"] for e in replayed} == {"again"}
    assert _drain(sqs, "other") == []  # not a rule the replay named
    assert events.describe_archive(ArchiveName="orders")["EventCount"] == 2  # not re-archived
    (listed,) = events.list_replays()["Replays"]
    assert (listed["ReplayName"], listed["State"]) == ("again", "COMPLETED")
    with pytest.raises(events.exceptions.IllegalStatusException):
        events.cancel_replay(ReplayName="again")


def test_bad_archive_and_replay_requests_get_eventbridges_errors(events: Any) -> None:
    events.create_archive(ArchiveName="twice", EventSourceArn=BUS_ARN)
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_archive(ArchiveName="twice", EventSourceArn=BUS_ARN)
    with pytest.raises(events.exceptions.ResourceNotFoundException) as caught:
        events.describe_archive(ArchiveName="nope")
    assert caught.value.response["Error"]["Message"] == "Archive nope does not exist."
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.create_archive(ArchiveName="bad", EventSourceArn=BUS_ARN, EventPattern="[]")
    archive = f"arn:aws:events:{REGION}:{ACCOUNT}:archive/twice"
    now = datetime.datetime.now(datetime.UTC)
    events.create_event_bus(Name="elsewhere")
    cases = [
        (
            {"Destination": {"Arn": BUS_ARN}, "EventStartTime": now, "EventEndTime": now},
            "Parameter EventEndTime is not valid. "
            "Reason: EventStartTime must be before EventEndTime.",
        ),
        (
            {
                "Destination": {"Arn": BUS_ARN.replace("default", "elsewhere")},
                "EventStartTime": now - datetime.timedelta(hours=1),
                "EventEndTime": now,
            },
            "Parameter Destination.Arn is not valid. "
            "Reason: Cross event bus replay is not permitted.",
        ),
    ]
    for arguments, message in cases:
        with pytest.raises(events.exceptions.ClientError) as caught:
            events.start_replay(ReplayName="r", EventSourceArn=archive, **arguments)
        assert caught.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    events.delete_archive(ArchiveName="twice")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName="twice")
