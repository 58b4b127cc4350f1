"""The Lambda Invoke API of a real ``skylet up``, driven by a stock boto3 client."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: e2e
functions:
  echo:
    handler: handlers.echo
    memory_size: 256
    environment:
      GREETING: hello
  fail:
    handler: handlers.fail
  disabled:
    handler: handlers.echo
    reserved_concurrency: 0
"""


@pytest.fixture
def server(project: Callable[[str], Path], serve: Callable[..., Server]) -> Server:
    return serve(project(MANIFEST))


@pytest.fixture
def client(server: Server) -> Iterator[Any]:
    lambda_client: Any = server.lambda_client()
    yield lambda_client
    lambda_client.close()


def test_request_response_returns_the_payload(client: Any) -> None:
    response = client.invoke(FunctionName="echo", Payload=json.dumps({"name": "World"}))
    body = json.loads(response["Payload"].read())
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert body["event"] == {"name": "World"}
    assert body["memory"] == "256"
    assert body["env"]["GREETING"] == "hello"
    assert response["ResponseMetadata"]["RequestId"] == body["request_id"]


def test_function_error_sets_the_function_error_header(client: Any) -> None:
    response = client.invoke(FunctionName="fail", Payload=b"{}")
    error = json.loads(response["Payload"].read())
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "something broke"


def test_log_type_tail_returns_the_last_4kb_of_the_log(client: Any) -> None:
    response = client.invoke(FunctionName="echo", Payload=b"{}", LogType="Tail")
    response["Payload"].read()
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
    assert f"END RequestId: {request_id}\n" in log
    assert f"REPORT RequestId: {request_id}\tDuration: " in log
    assert "echo call 1" in log


def test_dry_run_answers_204_without_running(client: Any, server: Server) -> None:
    response = client.invoke(FunctionName="echo", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    logs = httpx.get(f"{server.url}/_skylet/functions/echo/logs").text
    assert logs == ""


def test_unknown_function_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="nope", Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:nope" in error["Error"]["Message"]


def test_qualifiers_and_arns_name_the_same_function(client: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:echo"
    for name, qualifier in [(arn, None), ("echo", "$LATEST"), ("echo:$LATEST", None)]:
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        response = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
        assert response["StatusCode"] == 200
        assert json.loads(response["Payload"].read())["function_name"] == "echo"
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="echo", Qualifier="3", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_payload_over_6mb_is_request_entity_too_large(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="echo", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    error = caught.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_reserved_concurrency_zero_throttles_with_429(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="disabled", Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["message"] == "Rate Exceeded."


def test_malformed_json_payload_is_invalid_request_content(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="echo", Payload=b"{not json")
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_client_context_reaches_the_handler(client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    response = client.invoke(FunctionName="echo", Payload=b"{}", ClientContext=context)
    assert json.loads(response["Payload"].read())["client_custom"] == {"tenant": "t1"}


def test_an_event_invocation_is_accepted_with_202_and_runs(client: Any, server: Server) -> None:
    response = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"n": 1}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    request_id = response["ResponseMetadata"]["RequestId"]
    url = f"{server.url}/_skylet/functions/echo/invocations"
    deadline = time.monotonic() + 10
    while True:
        records = httpx.get(url, params={"status": "succeeded"}).json()
        if any(r["requestId"] == request_id for r in records):
            break
        assert time.monotonic() < deadline, records
        time.sleep(0.05)


def test_an_event_payload_over_one_megabyte_is_too_large(client: Any) -> None:
    payload = b'"' + b"x" * (1024 * 1024 - 1) + b'"'
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="echo", InvocationType="Event", Payload=payload)
    error = caught.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
