"""Dead-letter queues with a stock boto3 client: RedrivePolicy moves a message received too
often, RedriveAllowPolicy guards the DLQ, ListDeadLetterSourceQueues, and message move tasks
that redrive back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-redrive")


@pytest.fixture(scope="module")
def sqs(server: SqsServer) -> Any:
    return server.client()


def arn(sqs: Any, url: str) -> str:
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def redrive(dlq_arn: str, count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": count})


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def eventually(check: Callable[[], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_a_message_received_past_max_receive_count_moves_to_the_dlq_with_its_history(
    sqs: Any,
) -> None:
    dlq = sqs.create_queue(QueueName="poison-dlq")["QueueUrl"]
    source = sqs.create_queue(
        QueueName="poison-source", Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 1)}
    )["QueueUrl"]
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=source,
        MessageBody="message-1",
        MessageAttributes={"MyAttribute": {"DataType": "String", "StringValue": "foobar"}},
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert len(sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=source)  # this receive moved it

    (dead,) = sqs.receive_message(
        QueueUrl=dlq, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]

    assert (dead["MessageId"], dead["Body"]) == (sent["MessageId"], "message-1")
    assert dead["MD5OfMessageAttributes"] == "adb59cd4678ea5a855436b949cd07ab6"
    assert dead["Attributes"]["ApproximateReceiveCount"] == "2"  # SQS counts on in the DLQ
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn(sqs, source)
    assert dead["Attributes"]["AWSTraceHeader"] == trace
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert policy == {"deadLetterTargetArn": arn(sqs, dlq), "maxReceiveCount": 1}


def test_list_dead_letter_source_queues_names_the_queues_that_use_a_dlq(
    sqs: Any, server: SqsServer
) -> None:
    dlq = sqs.create_queue(QueueName="shared-dlq")["QueueUrl"]
    for name in ("uses-dlq-a", "uses-dlq-b"):
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 3)})
    sqs.create_queue(QueueName="uses-no-dlq")
    listed = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    assert listed == [f"{server.url}/000000000000/uses-dlq-{x}" for x in "ab"]


def test_an_empty_redrive_policy_removes_it(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="removed-dlq")["QueueUrl"]
    source = sqs.create_queue(
        QueueName="removed-policy", Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 3)}
    )["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": ""})
    shown = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in shown


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        pytest.param(
            {
                "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nowhere",
                "maxReceiveCount": 2,
            },
            "Dead letter target does not exist.",
            id="a DLQ that does not exist",
        ),
        pytest.param(
            {
                "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:checked-dlq",
                "maxReceiveCount": 0,
            },
            "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive.",
            id="a receive count of 0",
        ),
        pytest.param(
            {"maxReceiveCount": 2},
            "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            id="no target",
        ),
    ],
)
def test_a_redrive_policy_sqs_refuses_is_refused(
    sqs: Any, policy: dict[str, Any], reason: str
) -> None:
    sqs.create_queue(QueueName="checked-dlq")
    url = sqs.create_queue(QueueName="checked-source")["QueueUrl"]
    text = json.dumps(policy)
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": text})
    assert error(raised) == (
        "InvalidParameterValue",
        f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}",
    )


def test_a_dead_letter_queue_must_be_of_its_sources_type(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="typed-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(
            QueueName="typed-source", Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 2)}
        )
    assert error(raised)[1].endswith(
        "Reason: Dead-letter queue must be same type of queue as the source."
    )


def test_a_redrive_allow_policy_decides_who_may_use_a_dlq(sqs: Any) -> None:
    allowed = sqs.create_queue(QueueName="allowed-source")["QueueUrl"]
    dlq = sqs.create_queue(
        QueueName="guarded-dlq",
        Attributes={
            "RedriveAllowPolicy": json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [arn(sqs, allowed)]}
            )
        },
    )["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=allowed, Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 2)}
    )
    other = sqs.create_queue(QueueName="other-source")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(
            QueueUrl=other, Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 2)}
        )
    assert "does not allow this queue as a source" in error(raised)[1]


def _dead_letter(sqs: Any, source: str, count: int) -> None:
    """Send ``count`` messages to ``source`` and receive each twice: they end in its DLQ."""
    sqs.send_message_batch(
        QueueUrl=source, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(count)]
    )
    for _ in range(2):
        sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)


def test_a_move_task_redrives_a_dlq_back_to_each_messages_source(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="redriven-dlq")["QueueUrl"]
    sources = [
        sqs.create_queue(
            QueueName=f"redriven-{x}", Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 1)}
        )["QueueUrl"]
        for x in "ab"
    ]
    for source in sources:
        _dead_letter(sqs, source, 2)

    handle = sqs.start_message_move_task(SourceArn=arn(sqs, dlq))["TaskHandle"]

    def done() -> Any:
        (task,) = sqs.list_message_move_tasks(SourceArn=arn(sqs, dlq))["Results"]
        return task if task["Status"] == "COMPLETED" else None

    task = eventually(done)
    assert task is not None and handle
    assert (
        task["ApproximateNumberOfMessagesMoved"],
        task["ApproximateNumberOfMessagesToMove"],
    ) == (4, 4)
    assert "DestinationArn" not in task and "TaskHandle" not in task
    for source in sources:
        received = sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        assert sorted(m["Body"] for m in received["Messages"]) == ["m0", "m1"]
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in received["Messages"]} == {"1"}


def test_a_move_task_to_a_destination_at_a_rate_can_be_cancelled(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="slow-dlq")["QueueUrl"]
    source = sqs.create_queue(
        QueueName="slow-source", Attributes={"RedrivePolicy": redrive(arn(sqs, dlq), 1)}
    )["QueueUrl"]
    target = sqs.create_queue(QueueName="slow-target")["QueueUrl"]
    _dead_letter(sqs, source, 10)

    handle = sqs.start_message_move_task(
        SourceArn=arn(sqs, dlq), DestinationArn=arn(sqs, target), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=arn(sqs, dlq))
    assert error(raised)[1].startswith("There is already a task running.")
    (running,) = sqs.list_message_move_tasks(SourceArn=arn(sqs, dlq))["Results"]
    assert (running["Status"], running["TaskHandle"], running["MaxNumberOfMessagesPerSecond"]) == (
        "RUNNING",
        handle,
        1,
    )
    assert running["DestinationArn"] == arn(sqs, target)

    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]

    (cancelled,) = sqs.list_message_move_tasks(SourceArn=arn(sqs, dlq))["Results"]
    assert cancelled["Status"] == "CANCELLED"
    counts = sqs.get_queue_attributes(
        QueueUrl=target, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert int(counts["Attributes"]["ApproximateNumberOfMessages"]) == moved < 10


def test_move_tasks_refuse_what_sqs_refuses(sqs: Any) -> None:
    plain = sqs.create_queue(QueueName="not-a-dlq")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=arn(sqs, plain))
    assert error(raised) == (
        "InvalidParameterValue",
        "Source queue must be configured as a Dead Letter Queue.",
    )
    with pytest.raises(sqs.exceptions.ResourceNotFoundException) as raised:
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:000000000000:nowhere")
    assert error(raised)[1] == (
        "The resource that you specified for the SourceArn parameter doesn't exist."
    )
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle="not a handle")
    assert error(raised) == ("InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
