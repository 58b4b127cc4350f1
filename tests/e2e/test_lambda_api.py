"""The Lambda Invoke API of a real ``skylet up``, driven by a stock boto3 client: one server
for the module."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, module_server

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
  dry:
    handler: handlers.echo
"""

server = module_server("lambda-api", MANIFEST)


@pytest.fixture(scope="module")
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
    assert "echo call " in log


def test_dry_run_answers_204_without_running(client: Any, server: Server) -> None:
    response = client.invoke(FunctionName="dry", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    logs = httpx.get(f"{server.url}/_skylet/functions/dry/logs").text
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


def _refused(client: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        client.invoke(**kwargs)
    error: dict[str, Any] = caught.value.response
    return error


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("invocation_type", "payload"),
    [
        ("RequestResponse", b'{"a": NaN}'),
        ("Event", b'{"a": NaN}'),
        ("RequestResponse", _nested(1500)),
        ("Event", _nested(1500)),
    ],
    ids=[
        "NaN, invoked synchronously",
        "NaN, as an Event",
        "1500 levels of nesting, invoked synchronously",
        "1500 levels of nesting, as an Event",
    ],
)
def test_a_payload_lambda_cannot_parse_is_invalid_request_content(
    client: Any, invocation_type: str, payload: bytes
) -> None:
    error = _refused(client, FunctionName="echo", InvocationType=invocation_type, Payload=payload)
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"].startswith("Could not parse request body into json: ")


def test_an_accepted_payload_too_deep_to_echo_fails_the_function_not_the_instance(
    client: Any,
) -> None:
    before = json.loads(client.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read())
    response = client.invoke(FunctionName="echo", Payload=_nested(1000))
    error = json.loads(response["Payload"].read())
    after = json.loads(client.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"
    assert after["instance"] == before["instance"]  # the same instance answered, alive
    queued = client.invoke(FunctionName="echo", InvocationType="Event", Payload=_nested(1000))
    assert queued["StatusCode"] == 202
    assert queued["Payload"].read() == b""  # read, so its connection goes back to the pool


def test_a_client_context_over_3583_bytes_is_refused(client: Any) -> None:
    context = {"custom": {"blob": "x" * 8000}}
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    error = _refused(client, FunctionName="echo", Payload=b"{}", ClientContext=encoded)
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "3583 bytes" in error["Error"]["Message"]


@pytest.mark.parametrize(
    ("header", "value", "field", "allowed"),
    [
        ("X-Amz-Log-Type", "Bogus", "logType", "[Tail, None]"),
        ("X-Amz-Invocation-Type", "dry_run", "invocationType", "[DryRun, RequestResponse, Event]"),
    ],
    ids=["an unknown log type", "an unknown invocation type"],
)
def test_an_unknown_enum_value_is_a_validation_exception(
    server: Server, header: str, value: str, field: str, allowed: str
) -> None:
    response = httpx.post(
        f"{server.url}/2015-03-31/functions/echo/invocations",
        content=b"{}",
        headers={header: value},
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert response.json() == {
        "message": f"1 validation error detected: Value '{value}' at '{field}' failed to "
        f"satisfy constraint: Member must satisfy enum value set: {allowed}"
    }


def test_a_dry_run_of_an_unknown_alias_is_not_found(client: Any) -> None:
    error = _refused(client, FunctionName="echo", Qualifier="nope", InvocationType="DryRun")
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo:nope"
    )


def test_an_arn_of_another_region_is_not_reachable(client: Any) -> None:
    arn = "arn:aws:lambda:eu-west-1:000000000000:function:echo"
    error = _refused(client, FunctionName=arn, Payload=b"{}")
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )


def test_an_arn_of_another_account_is_access_denied(client: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:111122223333:function:echo"
    error = _refused(client, FunctionName=arn, Payload=b"{}")
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (
        "is not authorized to perform: lambda:InvokeFunction on resource"
        in (error["Error"]["Message"])
    )
