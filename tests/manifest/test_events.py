"""Each event kind parses in its long and short forms, in both manifest formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skylet.errors import ConfigError
from skylet.manifest import (
    CloudEventTrigger,
    CorsConfig,
    EventBridgeEvent,
    HttpApiEvent,
    HttpEvent,
    Intrinsic,
    S3Event,
    ScheduleEvent,
    SnsEvent,
    SqsEvent,
    StreamEvent,
    load_manifest,
)


@pytest.fixture
def events(write: Callable[..., Path]) -> Callable[..., tuple[Any, ...]]:
    """Load one function ``api`` with the given events YAML and return its events."""

    def _events(text: str, name: str = "serverless.yml", extra: str = "") -> tuple[Any, ...]:
        indented = "\n".join("      " + line for line in text.strip("\n").splitlines())
        body = f"service: svc\nfunctions:\n  api:\n    handler: app.main\n    events:\n{indented}\n"
        return load_manifest(write(body + extra, name)).functions["api"].events

    return _events


Events = Callable[..., tuple[Any, ...]]


def test_http_short_form_and_method_spellings(events: Events) -> None:
    a, b, c = events(
        "- http: GET users/{id}\n- http: {path: /x, method: any}\n- http: {path: /, method: '*'}"
    )
    assert isinstance(a, HttpEvent) and (a.method, a.path, a.cors) == ("GET", "/users/{id}", None)
    assert b.method == c.method == "ANY"
    assert c.path == "/"


def test_http_detailed_cors(events: Events) -> None:
    (event,) = events(
        """
- http:
    path: /items/{proxy+}
    method: put
    private: true
    authorizer: {name: auth}
    cors:
      origin: https://example.com
      headers: [Content-Type, X-Token]
      allowCredentials: true
      maxAge: 600
"""
    )
    assert event.path == "/items/{proxy+}" and event.private is True
    assert event.cors == CorsConfig(
        origins=("https://example.com",),
        headers=("Content-Type", "X-Token"),
        allow_credentials=True,
        max_age_s=600,
    )


def test_http_api_catch_all_and_route_strings(events: Events) -> None:
    a, b, c = events(
        "- httpApi: '*'\n- httpApi: 'PATCH /users/{id}'\n- httpApi: {method: any, path: /x}"
    )
    assert isinstance(a, HttpApiEvent) and (a.method, a.path) == ("*", "*")
    assert (b.method, b.path) == ("PATCH", "/users/{id}")
    assert c.method == "*"


def test_s3_short_form_and_existing_bucket(events: Events) -> None:
    a, b = events(
        "- s3: photos\n"
        "- s3: {bucket: docs, event: 's3:ObjectRemoved:*', existing:"
        " true, forceDeploy: true}"
    )
    assert isinstance(a, S3Event) and (a.bucket, a.event, a.rules) == (
        "photos",
        "s3:ObjectCreated:*",
        (),
    )
    assert (b.event, b.existing, b.prefix, b.suffix) == ("s3:ObjectRemoved:*", True, "", "")


def test_stream_short_form_infers_the_type_from_the_arn(events: Events) -> None:
    a, b = events(
        "- stream: arn:aws:dynamodb:us-east-1:1:table/Orders/stream/2024\n"
        "- stream: arn:aws:kinesis:us-east-1:1:stream/clicks"
    )
    assert isinstance(a, StreamEvent) and a.type == "dynamodb" and a.batch_size == 10
    assert a.starting_position == "TRIM_HORIZON"  # the framework's default
    assert b.type == "kinesis"


def test_stream_with_every_option(events: Events) -> None:
    (event,) = events(
        """
- stream:
    type: kinesis
    arn: !ImportValue clicks-stream-arn
    batchSize: 500
    startingPosition: AT_TIMESTAMP
    startingPositionTimestamp: 1700000000
    maximumRetryAttempts: 3
    maximumRecordAgeInSeconds: 3600
    bisectBatchOnFunctionError: true
    parallelizationFactor: 4
    batchWindow: 5
    filterPatterns:
      - data: {kind: [click]}
    functionResponseType: ReportBatchItemFailures
    enabled: false
    destinations:
      onFailure: arn:aws:sqs:us-east-1:1:dlq
"""
    )
    assert event.arn == Intrinsic("Fn::ImportValue", ("clicks-stream-arn",))
    assert (event.batch_size, event.starting_position_timestamp) == (500, 1700000000)
    assert (event.maximum_retry_attempts, event.maximum_record_age_s) == (3, 3600)
    assert event.bisect_batch_on_function_error and not event.enabled
    assert (event.parallelization_factor, event.batch_window_s) == (4, 5)
    assert event.filter_patterns == ({"data": {"kind": ("click",)}},)
    assert event.function_response_type == "ReportBatchItemFailures"
    assert event.on_failure == "arn:aws:sqs:us-east-1:1:dlq"


def test_at_timestamp_is_only_for_kinesis(events: Events) -> None:
    with pytest.raises(ConfigError, match="AT_TIMESTAMP is only for kinesis streams"):
        events(
            "- stream: {arn: 'arn:aws:dynamodb:r:1:table/t/stream/x',"
            " startingPosition: AT_TIMESTAMP}"
        )


def test_schedule_forms(events: Events) -> None:
    a, b = events(
        """
- schedule: rate(1 hour)
- schedule:
    rate: [rate(10 minutes), 'cron(0 12 * * ? *)']
    enabled: false
    input: {key: value}
    timezone: Europe/Paris
"""
    )
    assert isinstance(a, ScheduleEvent) and [s.rate_s for s in a.expressions] == [3600]
    assert [str(s) for s in b.expressions] == ["rate(10 minutes)", "cron(0 12 * * ? *)"]
    assert (b.enabled, b.input, b.timezone) == (False, {"key": "value"}, "Europe/Paris")


def test_sqs_forms_and_queue_name(events: Events) -> None:
    extra = "resources:\n  Resources:\n    Jobs:\n      Type: AWS::SQS::Queue\n"
    a, b = events(
        """
- sqs: arn:aws:sqs:us-east-1:1:jobs.fifo
- sqs:
    arn: !GetAtt Jobs.Arn
    batchSize: 100
    maximumBatchingWindow: 2
    functionResponseType: ReportBatchItemFailures
    maximumConcurrency: 5
""",
        extra=extra,
    )
    assert isinstance(a, SqsEvent) and a.queue_name == "jobs.fifo" and a.batch_size == 10
    assert b.queue == Intrinsic("Fn::GetAtt", ("Jobs", "Arn")) and b.queue_name is None
    assert (b.batch_size, b.maximum_batching_window_s, b.maximum_concurrency) == (100, 2, 5)


def test_fifo_queue_batches_are_at_most_ten(events: Events) -> None:
    with pytest.raises(ConfigError, match=r"too large for a FIFO queue \(allowed: 1\u201310\)"):
        events("- sqs: {arn: 'arn:aws:sqs:r:1:q.fifo', batchSize: 20, maximumBatchingWindow: 1}")


def test_sns_forms(events: Events) -> None:
    a, b, c = events(
        """
- sns: order-events
- sns: arn:aws:sns:us-east-1:1:alerts
- sns:
    topicName: payments
    filterPolicy: {status: [paid]}
    filterPolicyScope: MessageBody
"""
    )
    assert isinstance(a, SnsEvent) and (a.topic_name, a.arn, a.topic) == (
        "order-events",
        None,
        "order-events",
    )
    assert (b.arn, b.topic) == ("arn:aws:sns:us-east-1:1:alerts", "alerts")
    assert c.filter_policy == {"status": ("paid",)} and c.filter_policy_scope == "MessageBody"


def test_event_bridge_pattern_and_schedule(events: Events) -> None:
    a, b = events(
        """
- eventBridge:
    eventBus: arn:aws:events:us-east-1:1:event-bus/orders
    pattern: {source: [shop.orders]}
- eventBridge:
    schedule: rate(10 minutes)
    input: {a: 1}
"""
    )
    assert isinstance(a, EventBridgeEvent) and a.pattern == {"source": ("shop.orders",)}
    assert b.schedule is not None and b.schedule.rate_s == 600 and b.event_bus is None


def test_cloud_event_trigger_forms(events: Events) -> None:
    a, b = events(
        """
- cloudEvent: com.example.order.created
- cloudEvent:
    broker: orders
    filter:
      attributes: {type: com.example.payment.completed, source: shop}
    filters:
      - prefix: {type: com.example.}
      - any: [{exact: {source: a}}, {not: {suffix: {subject: .tmp}}}]
    delivery:
      retry: 5
      backoffPolicy: linear
      backoffDelay: PT2S
      deadLetterSink: https://dlq.example.com
"""
    )
    assert isinstance(a, CloudEventTrigger)
    assert (a.broker, a.attributes) == ("default", {"type": "com.example.order.created"})
    assert b.broker == "orders" and b.attributes["source"] == "shop"
    assert b.filters[0] == {"prefix": {"type": "com.example."}}
    assert b.delivery is not None and (b.delivery.retry, b.delivery.backoff_policy) == (5, "linear")


def test_skylet_events_use_field_names(events: Events) -> None:
    extra = "resources:\n  Jobs: {type: AWS::SQS::Queue, properties: {QueueName: jobs}}\n"
    a, b, c, d = events(
        """
- http_api: GET /health
- sqs: {queue: jobs, batch_size: 5, maximum_batching_window_s: 1}
- schedule: {expressions: rate(1 day), enabled: false}
- cloudevent: {broker: default, attributes: {type: t}, delivery: {backoff_delay: PT1S}}
""",
        name="skylet.yaml",
        extra=extra,
    )
    assert isinstance(a, HttpApiEvent) and a.path == "/health"
    assert isinstance(b, SqsEvent) and (b.queue, b.batch_size) == ("jobs", 5)
    assert isinstance(c, ScheduleEvent) and not c.enabled
    assert isinstance(d, CloudEventTrigger) and d.delivery is not None


def test_a_function_without_events_has_none(write: Callable[..., Path]) -> None:
    manifest = load_manifest(write("service: svc\nfunctions:\n  api:\n    handler: app.main\n"))
    assert manifest.functions["api"].events == ()


def test_a_reference_to_an_undeclared_resource_is_kept_as_external(
    write: Callable[..., Path],
) -> None:
    text = """service: svc
functions:
  api:
    handler: app.main
    events:
      - stream: {type: dynamodb, arn: !GetAtt SharedTable.StreamArn}
      - sqs: {Fn::ImportValue: shared-queue-arn}
"""
    manifest = load_manifest(write(text))
    stream, sqs = manifest.functions["api"].events
    assert stream.arn == Intrinsic("Fn::GetAtt", ("SharedTable", "StreamArn"))
    assert sqs.queue == Intrinsic("Fn::ImportValue", ("shared-queue-arn",))
    assert manifest.event_resource(stream) is None and manifest.event_resource(sqs) is None
