"""Tracing on a real ``skylet up --otlp-endpoint``, received by a real OTLP/HTTP receiver in the
test (opentelemetry-proto decoding): a span per invocation with Lambda's FaaS conventions and
an init child on a cold start; the caller's ``traceparent`` (HTTP route) or X-Amzn-Trace-Id
(Invoke API) continued; the function's own ``_X_AMZN_TRACE_ID``/``TRACEPARENT`` naming its
span, so a function's own OpenTelemetry SDK makes a child of it; a function error as the span's
status; and one trace across SNS, SQS (``AWSTraceHeader``), DynamoDB stream records, an EventBridge
rule's target, an async event's destination (an SQS one's ``AWSTraceHeader`` too) and a Knative
broker's delivery and its reply (the CloudEvent's ``traceparent`` extension)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, SqsModel
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from skylet.build.deps import cache_dir
from tests.e2e.conftest import Server, serverless_project, start_server, stop_server
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.runtime_fixtures import requirements_dir

pytestmark = pytest.mark.e2e

OTEL_REQUIREMENTS = ("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")

MANIFEST = """
service: traced
provider:
  name: aws
functions:
  context:
    handler: tracing_handlers.context_of
    events:
      - httpApi: {method: GET, path: /context}
  fails:
    handler: tracing_handlers.fails
    maximumRetryAttempts: 0
    destinations:
      onFailure: !Ref Failed
  lost:
    handler: tracing_handlers.fails
    maximumRetryAttempts: 0
    destinations:
      onFailure: !GetAtt Lost.Arn
  asked:
    handler: eventing_handlers.lambda_record
  answered:
    handler: messaging.record
  child:
    handler: tracing_handlers.otel_child
  publish:
    handler: tracing_handlers.publish
  send:
    handler: tracing_handlers.send
  notified:
    handler: messaging.record
    events:
      - sns: {arn: !Ref Done}
  failed:
    handler: messaging.record
    events:
      - sns: {arn: !Ref Failed}
  drain:
    handler: messaging.record
    events:
      - sqs: {arn: !GetAtt Jobs.Arn, batchSize: 1}
  ruled:
    handler: messaging.record
  polled:
    handler: messaging.record
  changed:
    handler: messaging.record
    events:
      - stream:
          {type: dynamodb, arn: !GetAtt Things.StreamArn, batchSize: 1, startingPosition: LATEST}
resources:
  Resources:
    Done:
      Type: AWS::SNS::Topic
      Properties: {TopicName: done}
    Failed:
      Type: AWS::SNS::Topic
      Properties: {TopicName: failed}
    Jobs:
      Type: AWS::SQS::Queue
      Properties: {QueueName: jobs}
    Lost:
      Type: AWS::SQS::Queue
      Properties: {QueueName: lost}
    Things:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: things
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
        StreamSpecification: {StreamViewType: NEW_IMAGE}
"""
#: A broker whose ``traced.ask`` events reach ``asked``, whose reply reaches ``answered``.
EVENTING = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: asks}
spec:
  broker: default
  filter: {attributes: {type: traced.ask}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: asked}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: answers}
spec:
  broker: default
  filter: {attributes: {type: traced.answer}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: answered}
"""
DONE = "arn:aws:sns:us-east-1:000000000000:done"
XRAY = re.compile(r"Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1")


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[Server]:
    directory = serverless_project(tmp_path_factory.mktemp("tracing"), MANIFEST)
    # The function that starts its own span imports the OpenTelemetry SDK: it declares it, as
    # on Lambda (a function sees only its own requirements and boto3).
    requirements = directory / "requirements.txt"
    requirements.write_text("".join(f"{d}\n" for d in OTEL_REQUIREMENTS))
    cached = cache_dir(requirements, directory / ".skylet" / "deps")
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(requirements_dir(*OTEL_REQUIREMENTS), cached, symlinks=True)
    (directory / "eventing.yaml").write_text(EVENTING)
    running = start_server(
        directory,
        "--no-reload",
        "--otlp-endpoint",
        receiver.url,
        "--env",
        f"RECEIVER={receiver.url}",
    )
    yield running
    stop_server(running)


def _root() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(8)


def _of(spans: list[ReceivedSpan], trace_id: str, name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.trace_id == trace_id and s.name == name]


def test_http_route_continues_the_callers_trace(server: Server, receiver: OtlpReceiver) -> None:
    trace_id, parent = _root()
    answer = httpx.get(
        f"{server.url}/context", headers={"traceparent": f"00-{trace_id}-{parent}-01"}
    )
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert "tracing: a span per invocation" in server.output()
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-context")))
    (span,) = _of(spans, trace_id, "traced-dev-context")
    assert span.parent_span_id == parent
    assert span.kind == 2  # SERVER
    attributes = span.attributes
    assert attributes["faas.trigger"] == "http"
    assert attributes["faas.coldstart"] is True
    assert re.fullmatch(r"[0-9a-f-]{36}", attributes["faas.invocation_id"])
    # What describes the function is its span's resource (OpenTelemetry's FaaS conventions).
    resource = span.resource
    assert resource["faas.name"] == "traced-dev-context"
    assert resource["faas.version"] == "$LATEST"
    assert resource["faas.max_memory"] == 1024 * 1024 * 1024
    assert resource["cloud.provider"] == "aws"
    assert resource["cloud.platform"] == "aws_lambda"
    assert resource["cloud.region"] == "us-east-1"
    assert resource["cloud.account.id"] == "000000000000"
    assert resource["cloud.resource_id"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:traced-dev-context"
    )
    assert resource["service.name"] == "skylet"
    # The function saw its own span as the parent of whatever it does next.
    assert seen["traceparent"] == f"00-{trace_id}-{span.span_id}-01"
    assert seen["context"] == seen["traceparent"]
    match = XRAY.fullmatch(seen["xray"])
    assert match is not None, seen["xray"]
    assert match.group(1) + match.group(2) == trace_id
    assert match.group(3) == span.span_id
    # The cold start's init is a child of the invocation, inside it.
    (init,) = _of(spans, trace_id, "init")
    assert init.parent_span_id == span.span_id
    assert span.start_ns <= init.start_ns <= init.end_ns <= span.end_ns
    assert span.status_code == 0  # unset: no error


def test_a_warm_invocation_has_no_init_and_a_new_trace_without_a_caller(
    server: Server, receiver: OtlpReceiver
) -> None:
    httpx.get(f"{server.url}/context")  # warm
    seen = httpx.get(f"{server.url}/context").json()
    trace_id, span_id = seen["traceparent"].split("-")[1:3]
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-context")))
    (span,) = _of(spans, trace_id, "traced-dev-context")
    assert span.span_id == span_id
    assert span.parent_span_id == ""  # a root
    assert span.attributes["faas.coldstart"] is False
    assert not _of(spans, trace_id, "init")


def _with_header(client: Any, name: str, value: str) -> None:
    def add(request: Any, **_: Any) -> None:
        request.headers[name] = value

    client.meta.events.register("before-sign.*.*", add)


def test_invoke_api_continues_x_amzn_trace_id_and_errors_set_the_status(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(
        client, "X-Amzn-Trace-Id", f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={parent};Sampled=1"
    )
    answer = client.invoke(FunctionName="traced-dev-fails", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-fails")))
    (span,) = _of(spans, trace_id, "traced-dev-fails")
    assert span.parent_span_id == parent
    assert span.status_code == 2  # ERROR
    assert span.status_message == "ValueError: told to fail"
    assert span.attributes["error.type"] == "ValueError"
    assert span.attributes["faas.trigger"] == "other"


def test_a_functions_own_otel_span_is_a_child_of_its_invocation(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    answer = client.invoke(FunctionName="traced-dev-child", Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()
    child_id = json.loads(answer["Payload"].read())["span_id"]
    spans = receiver.wait_for(
        lambda s: bool(_of(s, trace_id, "child work") and _of(s, trace_id, "traced-dev-child"))
    )
    (invocation,) = _of(spans, trace_id, "traced-dev-child")
    (child,) = _of(spans, trace_id, "child work")
    assert child.span_id == child_id
    assert child.parent_span_id == invocation.span_id
    assert invocation.parent_span_id == parent
    assert child.attributes["work.items"] == 3


def test_sns_delivery_continues_the_publishers_trace(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    event = json.dumps({"topic": DONE, "n": 1}).encode()
    answer = client.invoke(FunctionName="traced-dev-publish", Payload=event)
    assert "FunctionError" not in answer, answer["Payload"].read()
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-notified")))
    (publisher,) = _of(spans, trace_id, "traced-dev-publish")
    (subscriber,) = _of(spans, trace_id, "traced-dev-notified")
    assert publisher.parent_span_id == parent
    # botocore sent the publisher's _X_AMZN_TRACE_ID; the delivery is its child.
    assert subscriber.parent_span_id == publisher.span_id


def test_sqs_keeps_the_trace_header_and_its_mapping_continues_it(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    queue = server.client("sqs").get_queue_url(QueueName="jobs")["QueueUrl"]
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    answer = client.invoke(
        FunctionName="traced-dev-send", Payload=json.dumps({"queue": queue}).encode()
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-drain")))
    (sender,) = _of(spans, trace_id, "traced-dev-send")
    (drain,) = _of(spans, trace_id, "traced-dev-drain")
    assert drain.parent_span_id == sender.span_id
    assert drain.attributes["faas.trigger"] == "pubsub"
    (event,) = server.printed_events("traced-dev-drain", 1)
    SqsModel.model_validate(event)
    header = event["Records"][0]["attributes"]["AWSTraceHeader"]
    match = XRAY.fullmatch(header)
    assert match is not None, header
    assert (match.group(1) + match.group(2), match.group(3)) == (trace_id, sender.span_id)


def test_an_async_event_and_its_destination_stay_in_the_callers_trace(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    answer = client.invoke(FunctionName="traced-dev-fails", InvocationType="Event", Payload=b"{}")
    assert answer["StatusCode"] == 202
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-failed")))
    (tried,) = _of(spans, trace_id, "traced-dev-fails")
    (landed,) = _of(spans, trace_id, "traced-dev-failed")
    assert tried.parent_span_id == parent
    assert tried.status_code == 2
    assert landed.parent_span_id == parent  # the event's caller: the record is sent for it


def test_an_sqs_destinations_message_carries_the_events_trace_header(server: Server) -> None:
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    answer = client.invoke(FunctionName="traced-dev-lost", InvocationType="Event", Payload=b"{}")
    assert answer["StatusCode"] == 202
    sqs = server.client("sqs")
    queue = sqs.get_queue_url(QueueName="lost")["QueueUrl"]
    messages: list[dict[str, Any]] = []
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=queue,
            MessageSystemAttributeNames=["AWSTraceHeader"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if messages:
            break
    (message,) = messages
    assert json.loads(message["Body"])["requestContext"]["condition"] == "RetriesExhausted"
    match = XRAY.fullmatch(message["Attributes"]["AWSTraceHeader"])
    assert match is not None, message["Attributes"]
    assert (match.group(1) + match.group(2), match.group(3)) == (trace_id, parent)
    assert "MessageAttributes" not in message


@pytest.mark.parametrize("carried", ["traceparent header", "ce-traceparent extension"])
def test_a_broker_delivery_and_its_reply_continue_the_publishers_trace(
    server: Server, receiver: OtlpReceiver, carried: str
) -> None:
    trace_id, parent = _root()
    traceparent = f"00-{trace_id}-{parent}-01"
    attributes = {"type": "traced.ask", "source": "/test", "id": f"ask-{trace_id}"}
    if carried == "ce-traceparent extension":
        attributes["traceparent"] = traceparent
    headers, body = to_binary(CloudEvent(attributes, {"reply": "traced.answer"}))
    if carried == "traceparent header":
        headers["traceparent"] = traceparent
    published = httpx.post(f"{server.url}/_skylet/brokers/default", headers=headers, content=body)
    assert published.status_code == 202, published.text
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-answered")))
    (asked,) = _of(spans, trace_id, "traced-dev-asked")
    (answered,) = _of(spans, trace_id, "traced-dev-answered")
    assert asked.parent_span_id == parent
    assert answered.parent_span_id == parent  # the reply carries the event's trace on
    delivered = [
        e for e in server.printed_events("traced-dev-asked", 1) if e["id"] == attributes["id"]
    ]
    assert [e["traceparent"] for e in delivered] == [traceparent]
    (reply,) = [
        e
        for e in server.printed_events("traced-dev-answered", 1)
        if e.get("data") == {"answered": attributes["id"]}
    ]
    assert reply["traceparent"] == traceparent


def test_a_stream_record_continues_the_writers_trace(
    server: Server, receiver: OtlpReceiver
) -> None:
    trace_id, parent = _root()
    dynamodb = server.client("dynamodb")
    _with_header(dynamodb, "traceparent", f"00-{trace_id}-{parent}-01")
    dynamodb.put_item(TableName="things", Item={"id": {"S": "traced"}})
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-changed")))
    (changed,) = _of(spans, trace_id, "traced-dev-changed")
    assert changed.parent_span_id == parent
    assert changed.attributes["faas.trigger"] == "datasource"
    (event,) = server.printed_events("traced-dev-changed", 1)
    DynamoDBStreamModel.model_validate(event)
    assert "_skylet_trace" not in json.dumps(event)  # skylet's own key stays in the store
    stream = dynamodb.describe_table(TableName="things")["Table"]["LatestStreamArn"]
    streams = server.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert records and all("_skylet_trace" not in record for record in records)


def test_an_eventbridge_targets_invocation_continues_the_put_events_trace(
    server: Server, receiver: OtlpReceiver
) -> None:
    events = server.client("events")
    events.put_rule(Name="traced", EventPattern=json.dumps({"source": ["traced"]}))
    target = "arn:aws:lambda:us-east-1:000000000000:function:traced-dev-ruled"
    events.put_targets(Rule="traced", Targets=[{"Id": "ruled", "Arn": target}])
    trace_id, parent = _root()
    _with_header(events, "traceparent", f"00-{trace_id}-{parent}-01")
    answer = events.put_events(
        Entries=[{"Source": "traced", "DetailType": "t", "Detail": json.dumps({"n": 1})}]
    )
    assert answer["FailedEntryCount"] == 0
    spans = receiver.wait_for(lambda s: bool(_of(s, trace_id, "traced-dev-ruled")))
    (ruled,) = _of(spans, trace_id, "traced-dev-ruled")
    assert ruled.parent_span_id == parent


def test_a_mapping_created_by_a_traced_request_does_not_parent_what_it_polls(
    server: Server, receiver: OtlpReceiver
) -> None:
    sqs = server.client("sqs")
    queue = sqs.create_queue(QueueName="later")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    trace_id, parent = _root()
    client = server.client("lambda")
    _with_header(client, "traceparent", f"00-{trace_id}-{parent}-01")
    client.create_event_source_mapping(
        FunctionName="traced-dev-polled", EventSourceArn=arn, BatchSize=1
    )
    sqs.send_message(QueueUrl=queue, MessageBody="untraced")
    spans = receiver.wait_for(lambda s: any(x.name == "traced-dev-polled" for x in s))
    (polled,) = [x for x in spans if x.name == "traced-dev-polled"]
    # Its poller's task began in that request; the message it ran for carried no trace.
    assert polled.trace_id != trace_id
    assert polled.parent_span_id == ""
