"""``skylet generate-event``'s events validate against AWS Powertools' parser models."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import models
from click.testing import CliRunner
from pydantic import BaseModel

from skylet.cli import sample_events as samples
from skylet.cli.group import cli

NOW = 1_765_000_000.25  # 2025-12-06T05:46:40.250Z


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter)))


COMMANDS: list[tuple[list[str], type[BaseModel]]] = [
    (["s3", "put", "--bucket", "b", "--key", "in/a b.csv"], models.S3Model),
    (
        ["apigateway", "http-api-proxy", "--method", "post", "--body", '{"a": 1}'],
        models.APIGatewayProxyEventV2Model,
    ),
    (["apigateway", "aws-proxy", "--path", "/items/7?color=red"], models.APIGatewayProxyEventModel),
    (["sqs", "receive-message", "--body", "hi"], models.SqsModel),
    (["sns", "notification", "--subject", "s"], models.SnsModel),
    (["dynamodb", "update", "--table", "orders"], models.DynamoDBStreamModel),
    (["eventbridge", "event", "--detail", '{"n": 1}'], models.EventBridgeModel),
    (["cloudwatch", "scheduled-event", "--rule", "nightly"], models.EventBridgeModel),
]


@pytest.mark.parametrize(
    ("args", "model"), COMMANDS, ids=[f"{a[0]}_{a[1]}_validates" for a, _ in COMMANDS]
)
def test_each_generated_event_validates_against_powertools(
    args: list[str], model: type[BaseModel]
) -> None:
    done = CliRunner().invoke(cli, ["generate-event", *args])
    assert done.exit_code == 0, done.output
    model.model_validate(json.loads(done.output))


def test_an_s3_events_key_is_url_encoded_as_s3_sends_it() -> None:
    event = samples.s3_put("b", "in/a b+c.csv", size=3, region="eu-west-1", now=NOW, ids=_ids())
    record = event["Records"][0]
    assert record["s3"]["object"]["key"] == "in/a+b%2Bc.csv"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventTime"] == "2025-12-06T05:46:40.250Z"


def test_an_http_api_event_carries_the_path_query_and_body() -> None:
    event = samples.http_api_proxy(
        "POST",
        "/items/7?color=red&size=2",
        '{"a": 1}',
        stage="$default",
        region="us-east-1",
        now=NOW,
        ids=_ids(),
    )
    parsed: Any = models.APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.rawPath == "/items/7"
    assert parsed.rawQueryString == "color=red&size=2"
    assert parsed.queryStringParameters == {"color": "red", "size": "2"}
    assert parsed.requestContext.http.method == "POST"
    assert parsed.body == '{"a": 1}'


def test_a_dynamodb_update_has_the_old_and_new_images() -> None:
    event = samples.dynamodb_update("orders", region="us-east-1", now=NOW, ids=_ids())
    parsed: Any = models.DynamoDBStreamModel.model_validate(event)
    record = parsed.Records[0]
    assert record.eventName == "MODIFY"
    assert record.dynamodb.OldImage["count"] == 1 and record.dynamodb.NewImage["count"] == 2
    assert ":table/orders/stream/" in record.eventSourceARN


def test_an_eventbridge_detail_must_be_an_object() -> None:
    done = CliRunner().invoke(cli, ["generate-event", "eventbridge", "event", "--detail", "[1]"])
    assert done.exit_code == 2
    assert "JSON object" in done.output


def test_the_same_time_and_ids_give_the_same_event() -> None:
    first = samples.sqs_message("x", queue="q", region="us-east-1", now=NOW, ids=_ids())
    again = samples.sqs_message("x", queue="q", region="us-east-1", now=NOW, ids=_ids())
    assert first == again
