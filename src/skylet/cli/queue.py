"""``skylet queue ls|send|receive|purge``: SQS queues from the command line, through boto3's
SQS client (so it talks to any SQS, skylet's by default).

Exit status: 4 for a queue that does not exist, 5 when the server cannot be reached, 1 for
any other refusal (cli/exits.py).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from skylet.cli import auth
from skylet.cli.common import endpoint as endpoint_of
from skylet.cli.common import endpoint_option, unreachable
from skylet.cli.exits import Exit, Status
from skylet.cli.output import Output

_endpoint = endpoint_option("AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL", "SKYLET_ENDPOINT")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_credentials = auth.credentials_option()
_MISSING = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _client(url: str, credentials: str | None) -> Any:
    return auth.boto3_client("sqs", url, credentials, retries={"max_attempts": 2}, read_timeout=30)


@contextlib.contextmanager
def _failures(url: str) -> Iterator[None]:
    """SQS's refusals as the command's exit status."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        yield
    except EndpointConnectionError as error:
        raise unreachable(url, error) from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = Status.NOT_FOUND if code in _MISSING else Status.FAILED
        message = str(error.response.get("Error", {}).get("Message", error))
        http = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        raise Exit(f"{code}: {message}{auth.refusal_hint(http, code)}", status) from error
    except BotoCoreError as error:
        raise Exit(str(error), Status.FAILED) from error


def _url(sqs: Any, name: str) -> str:
    return name if "://" in name else str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


@click.group()
def queue() -> None:
    """SQS queues: list them, send, receive, purge."""


@queue.command("ls")
@click.argument("prefix", required=False, default="")
@_json
@_endpoint
@_credentials
def ls(prefix: str, as_json: bool, endpoint: str | None, credentials: str | None) -> None:
    """List the queues (whose names start with PREFIX) and their message counts."""
    out, url = Output(), endpoint_of(endpoint)
    sqs = _client(url, credentials)
    with _failures(url):
        rows = []
        for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
            for queue_url in page.get("QueueUrls", []):
                attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
                rows.append((queue_url, attributes["Attributes"]))
    if as_json:
        listed = [
            {"QueueUrl": queue_url, "Name": queue_url.rsplit("/", 1)[-1], "Attributes": attrs}
            for queue_url, attrs in rows
        ]
        out.line(json.dumps(listed, indent=2))
        return
    out.table(
        "queues",
        ["name", "visible", "in flight", "delayed", "url"],
        [
            [
                queue_url.rsplit("/", 1)[-1],
                attrs.get("ApproximateNumberOfMessages", "0"),
                attrs.get("ApproximateNumberOfMessagesNotVisible", "0"),
                attrs.get("ApproximateNumberOfMessagesDelayed", "0"),
                queue_url,
            ]
            for queue_url, attrs in rows
        ],
    )


@queue.command("send")
@click.argument("name")
@click.argument("body", required=False)
@click.option(
    "-a",
    "--attribute",
    "attributes",
    multiple=True,
    metavar="NAME=VALUE",
    help="A String message attribute (repeat for more).",
)
@click.option("--group", help="The MessageGroupId (FIFO queues).")
@click.option("--dedup", help="The MessageDeduplicationId (FIFO queues).")
@click.option("--delay", type=click.IntRange(0, 900), help="DelaySeconds.")
@_json
@_endpoint
@_credentials
def send(
    name: str,
    body: str | None,
    attributes: tuple[str, ...],
    group: str | None,
    dedup: str | None,
    delay: int | None,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Send BODY (or standard input, without it or with -) to the queue NAME (or URL)."""
    out, url = Output(), endpoint_of(endpoint)
    text = sys.stdin.read() if body in (None, "-") else body
    request: dict[str, Any] = {"MessageBody": text}
    if attributes:
        request["MessageAttributes"] = {}
        for pair in attributes:
            key, equals, value = pair.partition("=")
            if not equals:
                raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--attribute")
            request["MessageAttributes"][key] = {"DataType": "String", "StringValue": value}
    for field, given in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
        if given is not None:
            request[field] = given
    if delay is not None:
        request["DelaySeconds"] = delay
    sqs = _client(url, credentials)
    with _failures(url):
        sent = sqs.send_message(QueueUrl=_url(sqs, name), **request)
    sent.pop("ResponseMetadata", None)
    out.line(json.dumps(sent, indent=2) if as_json else str(sent["MessageId"]))


@queue.command("receive")
@click.argument("name")
@click.option("-n", "--max", "count", type=click.IntRange(1, 10), default=10, show_default=True)
@click.option(
    "--wait",
    type=click.IntRange(0, 20),
    default=0,
    show_default=True,
    help="Seconds to wait for a message (long polling).",
)
@click.option("--delete", is_flag=True, help="Delete the messages received.")
@_json
@_endpoint
@_credentials
def receive(
    name: str,
    count: int,
    wait: int,
    delete: bool,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Receive up to --max messages from the queue NAME (or URL)."""
    out, url = Output(), endpoint_of(endpoint)
    sqs = _client(url, credentials)
    with _failures(url):
        queue_url = _url(sqs, name)
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if delete and messages:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
    if as_json:
        out.line(json.dumps(messages, indent=2, default=str))
        return
    out.table(
        name,
        ["message id", "receives", "body"],
        [
            [m["MessageId"], m.get("Attributes", {}).get("ApproximateReceiveCount", ""), m["Body"]]
            for m in messages
        ],
    )


@queue.command("purge")
@click.argument("name")
@_endpoint
@_credentials
def purge(name: str, endpoint: str | None, credentials: str | None) -> None:
    """Delete every message of the queue NAME (or URL)."""
    out, url = Output(), endpoint_of(endpoint)
    sqs = _client(url, credentials)
    with _failures(url):
        sqs.purge_queue(QueueUrl=_url(sqs, name))
    out.line(f"purged {name}")
