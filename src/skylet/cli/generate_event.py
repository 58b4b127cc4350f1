"""``skylet generate-event SERVICE EVENT``: print a sample event to invoke a function with,
e.g. ``skylet generate-event s3 put --bucket b --key k | skylet invoke f``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import click

from skylet.cli import sample_events as samples
from skylet.cli.output import Output

F = TypeVar("F", bound=Callable[..., Any])


def _region(command: F) -> F:
    return click.option("--region", default="us-east-1", show_default=True)(command)


def _print(event: samples.Event) -> None:
    Output().line(json.dumps(event, indent=2))


def _ids() -> str:
    return str(uuid.uuid4())


@click.group("generate-event")
def generate_event() -> None:
    """Print a sample event of a service that triggers functions (as JSON, on standard
    output), to pipe into `skylet invoke FUNCTION`."""


@generate_event.group()
def s3() -> None:
    """Amazon S3 notifications."""


@s3.command("put")
@click.option("--bucket", default="example-bucket", show_default=True)
@click.option("--key", default="incoming/report.csv", show_default=True)
@click.option("--size", default=1024, show_default=True, type=click.IntRange(0))
@_region
def s3_put(bucket: str, key: str, size: int, region: str) -> None:
    """An object was created (ObjectCreated:Put)."""
    _print(samples.s3_put(bucket, key, size=size, region=region, now=time.time(), ids=_ids))


@generate_event.group()
def apigateway() -> None:
    """Amazon API Gateway requests."""


def _request(command: F) -> F:
    for option in (
        click.option("--method", default="GET", show_default=True),
        click.option("--path", default="/hello?name=skylet", show_default=True),
        click.option("--body", help="The request body (JSON, say)."),
        click.option("--stage", default="$default", show_default=True),
    ):
        command = option(command)
    return command


@apigateway.command("http-api-proxy")
@_request
@_region
def http_api_proxy(method: str, path: str, body: str | None, stage: str, region: str) -> None:
    """An HTTP API request (payload format 2.0)."""
    event = samples.http_api_proxy(
        method.upper(), path, body, stage=stage, region=region, now=time.time(), ids=_ids
    )
    _print(event)


@apigateway.command("aws-proxy")
@_request
@_region
def aws_proxy(method: str, path: str, body: str | None, stage: str, region: str) -> None:
    """A REST API request through the proxy integration (payload format 1.0)."""
    stage = "prod" if stage == "$default" else stage  # a REST API has no $default stage
    event = samples.rest_api_proxy(
        method.upper(), path, body, stage=stage, region=region, now=time.time(), ids=_ids
    )
    _print(event)


@generate_event.group()
def sqs() -> None:
    """Amazon SQS messages."""


@sqs.command("receive-message")
@click.option("--body", default='{"order": 42}', show_default=True)
@click.option("--queue", default="example-queue", show_default=True)
@_region
def sqs_receive(body: str, queue: str, region: str) -> None:
    """A message received from a queue."""
    _print(samples.sqs_message(body, queue=queue, region=region, now=time.time(), ids=_ids))


@generate_event.group()
def sns() -> None:
    """Amazon SNS notifications."""


@sns.command("notification")
@click.option("--message", default="hello from skylet", show_default=True)
@click.option("--topic", default="example-topic", show_default=True)
@click.option("--subject")
@_region
def sns_notification(message: str, topic: str, subject: str | None, region: str) -> None:
    """A message published to a topic."""
    event = samples.sns_notification(
        message, topic=topic, subject=subject, region=region, now=time.time(), ids=_ids
    )
    _print(event)


@generate_event.group()
def dynamodb() -> None:
    """Amazon DynamoDB streams."""


@dynamodb.command("update")
@click.option("--table", default="example-table", show_default=True)
@_region
def dynamodb_update(table: str, region: str) -> None:
    """An item was modified (MODIFY, new and old images)."""
    _print(samples.dynamodb_update(table, region=region, now=time.time(), ids=_ids))


@generate_event.group()
def eventbridge() -> None:
    """Amazon EventBridge events."""


@eventbridge.command("event")
@click.option("--source", default="com.example.orders", show_default=True)
@click.option("--detail-type", default="Order Placed", show_default=True)
@click.option("--detail", default='{"order": 42}', show_default=True, help="A JSON object.")
@_region
def eventbridge_event(source: str, detail_type: str, detail: str, region: str) -> None:
    """An event a rule matched."""
    try:
        parsed = samples.parse_detail(detail)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--detail") from None
    event = samples.eventbridge_event(
        source, detail_type, parsed, region=region, now=time.time(), ids=_ids
    )
    _print(event)


@generate_event.group()
def cloudwatch() -> None:
    """Amazon CloudWatch Events (EventBridge) schedules."""


@cloudwatch.command("scheduled-event")
@click.option("--rule", default="every-five-minutes", show_default=True)
@_region
def cloudwatch_scheduled(rule: str, region: str) -> None:
    """What a schedule rule sends."""
    _print(samples.scheduled_event(rule, region=region, now=time.time(), ids=_ids))
