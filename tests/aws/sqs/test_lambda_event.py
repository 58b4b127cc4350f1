"""Lambda's SQS event and its batchItemFailures answer, as pure functions."""

from __future__ import annotations

import pytest

from skylet.aws.sqs import lambda_event
from skylet.aws.sqs.messages import Stored
from skylet.store.types import TRACE_ATTRIBUTE, Message

IDS = ["m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("payload", "kept"),
    [
        pytest.param(b"", set(), id="an empty answer succeeds"),
        pytest.param(b"null", set(), id="a null answer succeeds"),
        pytest.param(b"{}", set(), id="an empty object succeeds"),
        pytest.param(b'{"batchItemFailures": []}', set(), id="no failures succeed"),
        pytest.param(b'{"batchItemFailures": null}', set(), id="null failures succeed"),
        pytest.param(
            b'{"batchItemFailures": [{"itemIdentifier": "m2"}]}', {"m2"}, id="one failure is kept"
        ),
        pytest.param(
            b'{"batchItemFailures": [{"foo": "notvalid"}]}', None, id="a bad key fails all"
        ),
        pytest.param(
            b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None, id="an empty id fails all"
        ),
        pytest.param(
            b'{"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}',
            None,
            id="an unknown message fails all",
        ),
        pytest.param(b"not json", None, id="an answer that is not JSON fails all"),
        pytest.param(b"[1]", None, id="a list fails all"),
        pytest.param(b'"text"', None, id="a string fails all"),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(
    payload: bytes, kept: set[str] | None
) -> None:
    assert lambda_event.failed_items(payload, IDS) == kept


def test_a_record_carries_what_lambda_puts_in_one() -> None:
    stored = Stored(
        {"n": {"DataType": "Number", "StringValue": "6"}},
        trace_header="Root=1-abc",
        sequence_number="00000000000000000001",
        dedup_id="d",
        sender="000000000000",
    )
    message = Message(
        id="m1",
        body=b'{"x": 1}',
        attributes=stored.encode(),
        receipt="1-0123456789abcdef",
        attempts=2,
        sent_at=1_700_000_000.5,
        first_received_at=1_700_000_001.25,
        group_id="g",
    )
    record = lambda_event.record(
        message,
        queue_arn="arn:aws:sqs:eu-west-1:000000000000:q.fifo",
        region="eu-west-1",
        sender="000000000000",
        arn=lambda name: f"arn:aws:sqs:eu-west-1:000000000000:{name}",
    )
    assert record["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1700000000500",
        "SenderId": "000000000000",
        "ApproximateFirstReceiveTimestamp": "1700000001250",
        "AWSTraceHeader": "Root=1-abc",
        "MessageDeduplicationId": "d",
        "MessageGroupId": "g",
        "SequenceNumber": "00000000000000000001",
    }
    assert record["messageAttributes"] == {
        "n": {
            "stringValue": "6",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number",
        }
    }
    assert lambda_event.filter_view(record)["body"] == {"x": 1}


def test_a_message_another_part_of_skylet_sent_reads_as_string_attributes() -> None:
    message = Message(
        id="m",
        body=b"{}",
        attributes={"RequestID": "r", "ErrorCode": "200"},
        receipt="1-0123456789abcdef",
        attempts=1,
        sent_at=1.0,
        first_received_at=1.0,
    )
    record = lambda_event.record(message, queue_arn="a", region="r", sender="s", arn=str)
    assert record["messageAttributes"]["RequestID"]["dataType"] == "String"
    assert record["messageAttributes"]["ErrorCode"]["dataType"] == "Number"  # as Lambda sends it


def test_the_trace_header_another_part_of_skylet_kept_is_the_records_aws_trace_header() -> None:
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    message = Message(
        id="m",
        body=b"{}",
        attributes={"RequestID": "r", TRACE_ATTRIBUTE: header},
        receipt="1-0123456789abcdef",
        attempts=1,
        sent_at=1.0,
        first_received_at=1.0,
    )
    record = lambda_event.record(message, queue_arn="a", region="r", sender="s", arn=str)
    assert record["attributes"]["AWSTraceHeader"] == header
    assert set(record["messageAttributes"]) == {"RequestID"}
