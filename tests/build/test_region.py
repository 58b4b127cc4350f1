"""The manifest's region reaches everything skylet builds for a function: its environment, its
ARN, API Gateway's events, S3 notification records and destination records."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: regional
region: eu-west-1
functions:
  echo:
    handler: handlers.echo
    on_success: show
    events:
      - http_api: GET /echo
  show:
    handler: printing.show
    events:
      - s3: regional-uploads
"""

server = module_server("region", MANIFEST)


def client(server: Server, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"}),
    )


def printed_events(server: Server, count: int) -> list[dict[str, Any]]:
    """The events ``show`` printed, once there are ``count`` of them."""
    deadline = time.monotonic() + 20
    while True:
        lines = httpx.get(f"{server.url}/_skylet/functions/show/logs").text.splitlines()
        events = [
            json.loads(row.split("EVENT ", 1)[1])
            for line in lines
            for row in json.loads(line)["text"].splitlines()
            if row.startswith("EVENT ")
        ]
        if len(events) >= count:
            return events
        assert time.monotonic() < deadline, f"show printed {events}"
        time.sleep(0.05)


def test_a_function_runs_in_the_manifests_region(server: Server) -> None:
    answer = client(server, "lambda").invoke(FunctionName="echo", Payload=b"{}")
    result = json.loads(answer["Payload"].read())
    assert result["arn"] == "arn:aws:lambda:eu-west-1:000000000000:function:echo"
    assert result["env"]["AWS_REGION"] == result["env"]["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_the_lambda_api_answers_for_the_manifests_region(server: Server) -> None:
    lam = client(server, "lambda")
    arn = "arn:aws:lambda:eu-west-1:000000000000:function:echo"
    assert lam.get_function_configuration(FunctionName="echo")["FunctionArn"] == arn
    # The ARN a function is given is one the Invoke API takes.
    assert lam.invoke(FunctionName=arn, Payload=b"{}")["StatusCode"] == 200
    lam.publish_version(FunctionName="echo")
    lam.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    assert lam.get_alias(FunctionName="echo", Name="live")["AliasArn"] == f"{arn}:live"
    with pytest.raises(lam.exceptions.ResourceNotFoundException, match="eu-west-1"):
        lam.invoke(FunctionName="echo", Qualifier="nope", Payload=b"{}")


def test_an_http_api_event_names_the_manifests_region(server: Server) -> None:
    result = httpx.get(f"{server.url}/echo").json()
    domain = result["event"]["requestContext"]["domainName"]
    assert domain.endswith(".execute-api.eu-west-1.amazonaws.com")


def test_s3_records_and_destination_records_name_the_manifests_region(server: Server) -> None:
    s3 = client(server, "s3")
    s3.put_object(Bucket="regional-uploads", Key="a.txt", Body=b"x")
    assert s3.get_bucket_location(Bucket="regional-uploads")["LocationConstraint"] == "eu-west-1"
    client(server, "lambda").invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
    events = printed_events(server, 2)  # the S3 record's event and the destination record
    (record,) = [r for e in events for r in e.get("Records", [])]
    assert record["awsRegion"] == "eu-west-1"
    (destination,) = [e for e in events if "requestContext" in e]
    arn = destination["requestContext"]["functionArn"]
    assert arn == "arn:aws:lambda:eu-west-1:000000000000:function:echo:$LATEST"
