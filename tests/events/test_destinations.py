"""Lambda's invocation record and dead-letter attributes, exactly."""

from __future__ import annotations

import json

import pytest

from skylet.events.destinations import (
    Response,
    dead_letter_attributes,
    invocation_record,
    iso_timestamp,
)
from skylet.events.envelope import TryError

ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders:$LATEST"


def test_a_success_record_has_lambdas_shape_without_function_error() -> None:
    record = invocation_record(
        request_id="c2a6f2ae-7dbb-4d22-8782-d0485c9877e2",
        function_arn=ARN,
        condition="Success",
        invoke_count=1,
        request_payload=b'{"Success": true}',
        response=Response(200, None, b'{"ok": 1}'),
        executed_version="$LATEST",
        timestamp=1574636905.651,
    )

    assert record == {
        "version": "1.0",
        "timestamp": "2019-11-24T23:08:25.651Z",
        "requestContext": {
            "requestId": "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2",
            "functionArn": ARN,
            "condition": "Success",
            "approximateInvokeCount": 1,
        },
        "requestPayload": {"Success": True},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"ok": 1},
    }
    assert list(record) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]


def test_a_failure_record_carries_the_function_error_and_its_document() -> None:
    error = b'{"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}'
    record = invocation_record(
        request_id="r",
        function_arn=ARN,
        condition="RetriesExhausted",
        invoke_count=3,
        request_payload=b'{"n": 1}',
        response=Response(200, "Unhandled", error),
        executed_version="$LATEST",
        timestamp=0.0,
    )

    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"] == json.loads(error)
    assert record["timestamp"] == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        pytest.param(b"", {}, id="an empty event is the {} the function saw"),
        pytest.param(b"null", None, id="JSON null"),
        pytest.param(b'"text"', "text", id="a JSON string"),
    ],
)
def test_request_payload_is_the_event_as_json(payload: bytes, shown: object) -> None:
    record = invocation_record(
        request_id="r",
        function_arn=ARN,
        condition="Success",
        invoke_count=1,
        request_payload=payload,
        response=Response(200, None, b"null"),
        executed_version="$LATEST",
        timestamp=0.0,
    )
    assert record["requestPayload"] == shown
    assert record["responsePayload"] is None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(
            TryError.of("ValueError", "boom"),
            Response(200, "Unhandled", b'{"errorMessage": "boom", "errorType": "ValueError"}'),
            id="a function error ran the function: 200 Unhandled",
        ),
        pytest.param(
            TryError.of("TooManyRequestsException", "Rate Exceeded.", 429),
            Response(
                429,
                None,
                b'{"errorMessage": "Rate Exceeded.", "errorType": "TooManyRequestsException"}',
            ),
            id="a throttle did not run it: 429",
        ),
        pytest.param(None, Response(500, None, None), id="never tried at all: 500, no payload"),
    ],
)
def test_response_of_a_try_that_left_only_its_error(
    error: TryError | None, expected: Response
) -> None:
    assert Response.of_error(error) == expected


def test_dead_letter_attributes_are_lambdas_three() -> None:
    response = Response.of_error(TryError.of("ValueError", "x" * 3000))

    attributes = dead_letter_attributes("req-1", response)

    assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert attributes["RequestID"] == "req-1"
    assert attributes["ErrorCode"] == "200"
    assert attributes["ErrorMessage"] == "x" * 1024


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        pytest.param(1573755365.568, "2019-11-14T18:16:05.568Z", id="milliseconds"),
        pytest.param(1573755365.0, "2019-11-14T18:16:05.000Z", id="whole seconds"),
    ],
)
def test_timestamps_are_utc_with_milliseconds(epoch: float, text: str) -> None:
    assert iso_timestamp(epoch) == text
