"""SNS in the platform: the manifest's topics and subscriptions exist when it starts, real
functions receive SNS's record (checked with Powertools' SnsModel) or, in Cloud Functions
style, Pub/Sub's push shapes as functions-framework hands them; ``!Ref Topic`` is the ARN;
destinations that name a topic publish to it."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel

from skylet.aws.protocols.models import ServiceModels
from skylet.config import RuntimeSettings
from skylet.gateway.http1 import Listener
from skylet.platform import Platform
from skylet.platform_config import PlatformConfig
from tests.aws.sns.endpoints import wait_for
from tests.aws.sns.served import SnsApp
from tests.events.harness import FAST

pytestmark = pytest.mark.e2e

HANDLERS = """
import json, os


def _note(kind, event, extra=None):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"kind": kind, "event": event, **(extra or {})}) + "\\n")


def notify(event, context):
    _note(os.environ["AWS_LAMBDA_FUNCTION_NAME"], event, {"topic_env": os.environ.get("TOPIC_ARN")})


def failing(event, context):
    raise RuntimeError("failed on purpose")


def background(data, context):
    _note("background", data, {"context": {"event_id": context.event_id,
          "event_type": context.event_type, "resource": context.resource}})


def cloud(cloud_event):
    _note("cloudevent", cloud_event.data, {"attributes": dict(cloud_event.get_attributes())})
"""

SERVERLESS = """
service: pics
provider:
  name: aws
  runtime: python3.11
  environment:
    OUT: {out}
functions:
  notify:
    handler: handlers.notify
    environment:
      TOPIC_ARN: !Ref NotificationTopic
    events:
      - sns:
          arn: !Ref NotificationTopic
          topicName: ImageProcessingComplete
  short:
    handler: handlers.notify
    events:
      - sns: alerts
  errors:
    handler: handlers.notify
    events:
      - sns:
          topicName: alerts
          filterPolicy: {{level: [error]}}
  failing:
    handler: handlers.failing
    maximumRetryAttempts: 0
    destinations:
      onFailure: !Ref FailureTopic
resources:
  Resources:
    NotificationTopic:
      Type: AWS::SNS::Topic
      Properties:
        TopicName: ImageProcessingComplete-dev
    FailureTopic:
      Type: AWS::SNS::Topic
    FailureWatch:
      Type: AWS::SNS::Subscription
      Properties:
        TopicArn: !Ref FailureTopic
        Protocol: lambda
        Endpoint: !GetAtt NotifyLambdaFunction.Arn
"""

SKYLET = """
service: gcf
functions:
  background:
    handler: handlers.background
    style: background
    environment: {{OUT: {out}}}
    events:
      - sns: images
  cloud:
    handler: handlers.cloud
    style: cloudevent
    environment: {{OUT: {out}}}
    events:
      - sns: images
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running:
    """A Platform in a thread, its SNS behind the tests' ASGI app on the platform's port."""

    def __init__(self, manifest: Path) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        config = PlatformConfig(
            manifest_path=manifest,
            port=self.port,
            data_dir=manifest.parent / ".skylet",
            dispatcher=FAST,
            runtime=RuntimeSettings(sandbox=False),  # its handlers write files the tests read
        )
        self.platform = Platform(config)
        self.call(self._start())

    async def _start(self) -> None:
        await self.platform.start()
        app = SnsApp(self.platform.sns, ServiceModels())
        self.listener = Listener(app, "127.0.0.1", self.port)  # type: ignore[arg-type]
        await self.listener.start()

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def client(self) -> Any:
        return boto3.client(
            "sns",
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def close(self) -> None:
        async def stop() -> None:
            await self.listener.shutdown(1.0)
            await self.platform.aclose()

        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def notes(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def serverless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Path]]:
    directory = Path(tmp_path_factory.mktemp("serverless"))
    out = directory / "out.jsonl"
    (directory / "handlers.py").write_text(HANDLERS)
    (directory / "serverless.yml").write_text(SERVERLESS.format(out=out))
    running = Running(directory / "serverless.yml")
    yield running, out
    running.close()


def test_declared_topics_and_subscriptions_exist_at_start(serverless: tuple[Running, Path]) -> None:
    running, _ = serverless
    client = running.client()
    topics = {t["TopicArn"] for t in client.list_topics()["Topics"]}
    assert {
        "arn:aws:sns:us-east-1:000000000000:ImageProcessingComplete-dev",
        "arn:aws:sns:us-east-1:000000000000:alerts",
        "arn:aws:sns:us-east-1:000000000000:pics-dev-FailureTopic",
    } <= topics
    endpoints = {
        (s["TopicArn"].rsplit(":", 1)[-1], s["Endpoint"].rsplit(":", 1)[-1])
        for s in client.list_subscriptions()["Subscriptions"]
    }
    assert {
        ("ImageProcessingComplete-dev", "pics-dev-notify"),
        ("alerts", "pics-dev-short"),
        ("alerts", "pics-dev-errors"),
        ("pics-dev-FailureTopic", "pics-dev-notify"),
    } <= endpoints
    client.close()


def test_a_function_subscriber_gets_sns_record(serverless: tuple[Running, Path]) -> None:
    running, out = serverless
    client = running.client()
    arn = "arn:aws:sns:us-east-1:000000000000:ImageProcessingComplete-dev"
    answer = client.publish(TopicArn=arn, Message=json.dumps({"key": "a.png"}), Subject="done")
    client.close()
    note = wait_for(
        lambda: next(
            (
                n
                for n in notes(out)
                if n["kind"] == "pics-dev-notify"
                and n["event"]["Records"][0]["Sns"]["MessageId"] == answer["MessageId"]
            ),
            None,
        ),
        60,
        "the notify function's event",
    )
    record = SnsModel.model_validate(note["event"]).Records[0]
    assert record.Sns.TopicArn == arn
    assert record.Sns.Subject == "done"
    assert json.loads(record.Sns.Message) == {"key": "a.png"}
    assert note["topic_env"] == arn  # !Ref NotificationTopic


def test_filter_policies_of_sns_events_apply(serverless: tuple[Running, Path]) -> None:
    running, out = serverless
    client = running.client()
    arn = "arn:aws:sns:us-east-1:000000000000:alerts"
    level = lambda v: {"level": {"DataType": "String", "StringValue": v}}  # noqa: E731
    info = client.publish(TopicArn=arn, Message="fine", MessageAttributes=level("info"))
    error = client.publish(TopicArn=arn, Message="bad", MessageAttributes=level("error"))
    client.close()

    def by(kind: str) -> set[str]:
        return {
            n["event"]["Records"][0]["Sns"]["MessageId"] for n in notes(out) if n["kind"] == kind
        }

    wait_for(lambda: {info["MessageId"], error["MessageId"]} <= by("pics-dev-short"), 60, "short's")
    wait_for(lambda: error["MessageId"] in by("pics-dev-errors"), 60, "errors' event")
    assert info["MessageId"] not in by("pics-dev-errors")


def test_an_on_failure_destination_naming_a_topic_publishes_to_it(
    serverless: tuple[Running, Path],
) -> None:
    running, out = serverless
    # An Event invocation as the Invoke API makes it (the gateway is not served here).
    request_id = running.call(running.platform.async_invoker.enqueue("failing", b'{"n": 1}'))

    def failure() -> dict[str, Any] | None:
        for n in notes(out):
            if n["kind"] != "pics-dev-notify":
                continue
            sns = n["event"]["Records"][0]["Sns"]
            if sns["TopicArn"].endswith(":pics-dev-FailureTopic"):
                document = json.loads(sns["Message"])
                if document["requestContext"]["requestId"] == request_id:
                    return document
        return None

    record = wait_for(failure, 60, "the failure record through the topic")
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "failed on purpose"


def test_cloud_functions_subscribers_get_pubsub_shapes(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "skylet.yaml").write_text(SKYLET.format(out=out))
    running = Running(tmp_path / "skylet.yaml")
    try:
        client = running.client()
        arn = "arn:aws:sns:us-east-1:000000000000:images"
        attributes = {"size": {"DataType": "String", "StringValue": "L"}}
        answer = client.publish(TopicArn=arn, Message="pixels", MessageAttributes=attributes)
        client.close()
        kinds = lambda: {n["kind"]: n for n in notes(out)}  # noqa: E731
        wait_for(lambda: {"background", "cloudevent"} <= set(kinds()), 60, "both functions")
        background, cloud = kinds()["background"], kinds()["cloudevent"]
    finally:
        running.close()
    assert background["event"] == {
        "@type": "type.googleapis.com/google.pubsub.v1.PubsubMessage",
        "data": base64.b64encode(b"pixels").decode(),
        "attributes": {"size": "L"},
    }
    assert background["context"]["event_id"] == answer["MessageId"]
    assert background["context"]["event_type"] == "google.pubsub.topic.publish"
    assert background["context"]["resource"]["name"] == "projects/gcf/topics/images"
    attributes = cloud["attributes"]
    assert attributes["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert attributes["source"] == "//pubsub.googleapis.com/projects/gcf/topics/images"
    assert attributes["id"] == answer["MessageId"]
    message = cloud["event"]["message"]
    assert base64.b64decode(message["data"]) == b"pixels"
    assert message["messageId"] == answer["MessageId"]
    assert uuid.UUID(answer["MessageId"])


def test_sns_starts_only_once_a_project_uses_it(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    manifest = tmp_path / "skylet.yaml"
    manifest.write_text("service: plain\nfunctions:\n  f:\n    handler: handlers.notify\n")
    config = PlatformConfig(manifest_path=manifest, data_dir=tmp_path / ".skylet")

    async def run(use: bool) -> bool:
        platform = Platform(config)
        await platform.start()
        try:
            started = platform.sns is not None
            if use:
                await platform.topics()
            return started
        finally:
            await platform.aclose()

    assert asyncio.run(run(use=False)) is False  # no topics anywhere: none of SNS is loaded
    assert asyncio.run(run(use=True)) is False
    assert asyncio.run(run(use=False)) is True  # the store has SNS's catalog: it starts
