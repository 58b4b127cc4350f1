"""SQS and SNS on a real ``skylet up``, through the service router, with stock boto3: the
manifest's topic, queue and subscriptions exist at start; a publish reaches the queue
subscriber (SNS's envelope) and the function subscriber (SNS's event, checked against
Powertools' SnsModel); an SQS event source mapping delivers what the queue receives; the
banner of ``skylet up`` lists the queues and topics and what each is wired to."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel, SqsModel

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"

MANIFEST = """
service: messaging
provider:
  name: aws
  region: eu-west-1
functions:
  notify:
    handler: messaging.record
    events:
      - sns:
          arn: !Ref Alerts
          filterPolicy: {level: [error]}
  drain:
    handler: messaging.record
    events:
      - sqs:
          arn: !GetAtt Jobs.Arn
          batchSize: 10
resources:
  Resources:
    Alerts:
      Type: AWS::SNS::Topic
      Properties: {TopicName: alerts}
    Inbox:
      Type: AWS::SQS::Queue
      Properties: {QueueName: inbox}
    Jobs:
      Type: AWS::SQS::Queue
      Properties: {QueueName: jobs, VisibilityTimeout: 5}
    InboxSubscription:
      Type: AWS::SNS::Subscription
      Properties:
        TopicArn: !Ref Alerts
        Protocol: sqs
        Endpoint: !GetAtt Inbox.Arn
"""


server = module_server("messaging", MANIFEST, serverless=True)


@pytest.fixture(scope="module")
def sns(server: Server) -> Iterator[Any]:
    client = server.client("sns", REGION)
    yield client
    client.close()


@pytest.fixture(scope="module")
def sqs(server: Server) -> Iterator[Any]:
    client = server.client("sqs", REGION)
    yield client
    client.close()


def test_the_manifests_topic_queues_and_subscriptions_exist_at_start(sns: Any, sqs: Any) -> None:
    arn = "arn:aws:sns:eu-west-1:000000000000:alerts"
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    protocols = {
        s["Protocol"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    }
    assert protocols == {"sqs", "lambda"}
    urls = sqs.list_queues()["QueueUrls"]
    assert {url.rsplit("/", 1)[1] for url in urls} >= {"inbox", "jobs"}


def test_a_publish_reaches_the_queue_and_the_filtered_function(
    server: Server, sns: Any, sqs: Any
) -> None:
    arn = "arn:aws:sns:eu-west-1:000000000000:alerts"
    level = {"DataType": "String", "StringValue": "error"}
    published = sns.publish(
        TopicArn=arn, Message="disk full", Subject="ops", MessageAttributes={"level": level}
    )
    sns.publish(
        TopicArn=arn,
        Message="all fine",
        MessageAttributes={"level": {"DataType": "String", "StringValue": "info"}},
    )
    inbox = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(bodies) < 2 and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        for message in answer.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
    by_message = {b["Message"]: b for b in bodies}
    assert set(by_message) == {"disk full", "all fine"}  # the queue has no filter
    envelope = by_message["disk full"]
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == arn
    assert envelope["MessageId"] == published["MessageId"] and envelope["Subject"] == "ops"
    assert envelope["MessageAttributes"]["level"] == {"Type": "String", "Value": "error"}
    (event,) = server.printed_events("notify", 1)
    record = SnsModel.model_validate(event).Records[0].Sns
    assert record.Message == "disk full" and str(record.TopicArn) == arn


def test_an_sqs_event_source_delivers_what_the_queue_receives(server: Server, sqs: Any) -> None:
    jobs = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=jobs, Entries=[{"Id": str(i), "MessageBody": f"job {i}"} for i in range(3)]
    )
    events = server.printed_events("drain", 1)
    bodies = set()
    deadline = time.monotonic() + 30
    while len(bodies) < 3 and time.monotonic() < deadline:
        for event in server.printed_events("drain", 1):
            for record in SqsModel.model_validate(event).Records:
                assert record.eventSourceARN == "arn:aws:sqs:eu-west-1:000000000000:jobs"
                bodies.add(record.body)
        time.sleep(0.1)
    assert events and bodies == {"job 0", "job 1", "job 2"}


def test_skylet_up_lists_the_queues_and_topics_and_what_they_are_wired_to(server: Server) -> None:
    # Piped, the banner's tables are plain text, their columns two spaces or more apart.
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in server.output().splitlines()}
    base = f"{server.url}/000000000000"
    assert ("queue", "url", "wired to") in rows
    assert ("inbox", f"{base}/inbox", "subscribed to alerts") in rows
    assert ("jobs", f"{base}/jobs", "feeds messaging-dev-drain") in rows
    arn = "arn:aws:sns:eu-west-1:000000000000:alerts"
    (topic,) = [row for row in rows if row[0] == "alerts"]
    assert topic[2] == arn
    assert set(topic[1].split(", ")) == {"sqs inbox", "lambda messaging-dev-notify"}
