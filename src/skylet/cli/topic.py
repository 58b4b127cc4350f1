"""``skylet topic ls|publish``: SNS topics from the command line, through boto3's SNS client
(what ``aws sns`` would send), against skylet's port.

Exit status: 4 for a topic that does not exist, 5 when the server cannot be reached, 1 for
any other refusal (cli/exits.py).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import click

from skylet.cli import auth
from skylet.cli.common import endpoint, endpoint_option
from skylet.cli.exits import Exit, Status
from skylet.cli.output import Output

_UNREACHABLE = {"EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError"}


def _client(url: str, credentials: str | None) -> Any:
    return auth.boto3_client("sns", url, credentials)


@contextlib.contextmanager
def _failures(url: str) -> Iterator[None]:
    from botocore.exceptions import ClientError, EndpointConnectionError

    try:
        yield
    except EndpointConnectionError as error:
        raise Exit(
            f"cannot reach {url}: {error} (is `skylet up` running?)", Status.UNREACHABLE
        ) from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        status = Status.NOT_FOUND if code == "NotFound" else Status.FAILED
        http = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        raise Exit(f"{code}: {message}{auth.refusal_hint(http, code)}", status) from error


def _topics(client: Any) -> list[str]:
    pages = client.get_paginator("list_topics").paginate()
    return [t["TopicArn"] for page in pages for t in page["Topics"]]


def _arn(client: Any, topic: str) -> str:
    """A topic's ARN from its ARN or its name."""
    if topic.startswith("arn:"):
        return topic
    for arn in _topics(client):
        if arn.rsplit(":", 1)[-1] == topic:
            return arn
    raise Exit(f"no topic named {topic!r}", Status.NOT_FOUND)


@click.group()
def topic() -> None:
    """SNS topics: list them, publish to them."""


_endpoint = endpoint_option("AWS_ENDPOINT_URL_SNS", "SKYLET_ENDPOINT")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_credentials = auth.credentials_option()


@topic.command("ls")
@_json
@_endpoint
@_credentials
def ls(as_json: bool, endpoint: str | None, credentials: str | None) -> None:
    """List topics with their subscriptions (confirmed, pending)."""
    url = _url(endpoint)
    out = Output()
    with _failures(url):
        client = _client(url, credentials)
        rows = []
        for arn in _topics(client):
            attributes = client.get_topic_attributes(TopicArn=arn)["Attributes"]
            rows.append(
                {
                    "Name": arn.rsplit(":", 1)[-1],
                    "TopicArn": arn,
                    "SubscriptionsConfirmed": int(attributes.get("SubscriptionsConfirmed", 0)),
                    "SubscriptionsPending": int(attributes.get("SubscriptionsPending", 0)),
                    "Fifo": attributes.get("FifoTopic") == "true",
                }
            )
    if as_json:
        out.line(json.dumps(rows, indent=2))
        return
    out.table(
        "topics",
        ["name", "subscriptions", "pending", "ARN"],
        [
            [
                r["Name"],
                str(r["SubscriptionsConfirmed"]),
                str(r["SubscriptionsPending"]),
                r["TopicArn"],
            ]
            for r in rows
        ],
    )


@topic.command("publish")
@click.argument("name")
@click.argument("message")
@click.option("-s", "--subject", help="The message's Subject.")
@click.option(
    "-a",
    "--attribute",
    "attributes",
    multiple=True,
    metavar="KEY=VALUE",
    help="A String message attribute (repeatable).",
)
@click.option("--group-id", help="The MessageGroupId, for a FIFO topic.")
@click.option("--dedup-id", help="The MessageDeduplicationId, for a FIFO topic.")
@_json
@_endpoint
@_credentials
def publish(
    name: str,
    message: str,
    subject: str | None,
    attributes: tuple[str, ...],
    group_id: str | None,
    dedup_id: str | None,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Publish MESSAGE to the topic NAME (its name or ARN); prints the MessageId."""
    request: dict[str, Any] = {"Message": message}
    if subject is not None:
        request["Subject"] = subject
    typed = {}
    for pair in attributes:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--attribute")
        typed[key] = {"DataType": "String", "StringValue": value}
    if typed:
        request["MessageAttributes"] = typed
    if group_id is not None:
        request["MessageGroupId"] = group_id
    if dedup_id is not None:
        request["MessageDeduplicationId"] = dedup_id
    url = _url(endpoint)
    with _failures(url):
        client = _client(url, credentials)
        answer = client.publish(TopicArn=_arn(client, name), **request)
    out = Output()
    answer.pop("ResponseMetadata", None)
    out.line(json.dumps(answer, indent=2) if as_json else answer["MessageId"])


def _url(given: str | None) -> str:
    return endpoint(given)
