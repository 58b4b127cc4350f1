"""SQS's queues and messages live in the durable store: they survive a restart, and a
``kill -9`` in the middle of a stream of SendMessage calls loses no acknowledged message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.aws.sqs import served
from tests.e2e.conftest import project_dir

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_dir(tmp_path, served.NO_FUNCTIONS)


@pytest.fixture
def running(project: Path) -> Iterator[list[served.SqsServer]]:
    """The servers a test started (the last one is stopped after it)."""
    servers: list[served.SqsServer] = []
    yield servers
    if servers:
        served.stop(servers[-1])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_queues_and_messages_survive_a_restart(
    project: Path, running: list[served.SqsServer], backend: str, request: pytest.FixtureRequest
) -> None:
    store: tuple[str, ...] = ()
    if backend == "postgres":
        url, schema = request.getfixturevalue("pg_schema")
        store = ("--store", f"{url}?schema={schema}")
    running.append(served.start(project, *store))
    sqs = running[-1].client()
    dlq = sqs.create_queue(QueueName="kept-dlq")["QueueUrl"]
    url = sqs.create_queue(
        QueueName="kept",
        Attributes={
            "VisibilityTimeout": "45",
            "MaximumMessageSize": "4096",
            "RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:kept-dlq",'
            '"maxReceiveCount":3}',
        },
        tags={"team": "a"},
    )["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName="kept.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="durable",
        MessageAttributes={"k": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    )
    sqs.send_message(QueueUrl=fifo, MessageBody="first", MessageGroupId="g")
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    running.append(served.restart(running[-1]))
    sqs = running[-1].client()

    assert sqs.get_queue_url(QueueName="kept")["QueueUrl"] == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] == before
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert (message["MessageId"], message["Body"]) == (sent["MessageId"], "durable")
    assert message["MessageAttributes"]["k"]["BinaryValue"] == b"\x00\x01"
    # The FIFO queue still remembers what it was sent: a resend within 5 minutes stays out.
    sqs.send_message(QueueUrl=fifo, MessageBody="first", MessageGroupId="g")
    assert [
        m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    ] == ["first"]


def test_kill_9_during_a_stream_of_sends_loses_no_acknowledged_message(
    project: Path, running: list[served.SqsServer]
) -> None:
    running.append(served.start(project))
    url = running[-1].client().create_queue(QueueName="stream")["QueueUrl"]
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def send(worker: int) -> None:
        sqs = running[0].client()
        i = 0
        while not stop.is_set():
            body = f"{worker}-{i}"
            try:
                sqs.send_message(QueueUrl=url, MessageBody=body)
            except (BotoCoreError, ClientError):
                return  # the server is gone: what was not answered was not acknowledged
            with lock:
                acknowledged.add(body)
            i += 1

    senders = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    running.append(served.restart(running[-1], kill=True))  # kill -9 while they send
    stop.set()
    for sender in senders:
        sender.join(30)
    assert len(acknowledged) >= 300

    sqs = running[-1].client()
    stored: set[str] = set()
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        stored.update(m["Body"] for m in batch)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    assert acknowledged <= stored
    # Sends under way at the kill may have been stored without an answer: at most a few.
    assert len(stored - acknowledged) <= 4


RECORDER = """
service: kept
functions:
  recorder:
    handler: sqs_handlers.record
    environment: {OUT: recorder.log}
"""


def test_an_event_source_mapping_made_through_the_api_survives_a_restart(
    tmp_path: Path, running: list[served.SqsServer]
) -> None:
    running.append(served.start(served.project(tmp_path / "recorder", RECORDER)))
    sqs, lambda_ = running[-1].client(), running[-1].client("lambda")
    sqs.create_queue(QueueName="mapped")
    created = lambda_.create_event_source_mapping(
        EventSourceArn="arn:aws:sqs:us-east-1:000000000000:mapped", FunctionName="recorder"
    )

    running.append(served.restart(running[-1]))
    sqs, lambda_ = running[-1].client(), running[-1].client("lambda")
    assert lambda_.get_event_source_mapping(UUID=created["UUID"])["State"] == "Enabled"
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="mapped")["QueueUrl"], MessageBody="after"
    )
    log = running[-1].directory / "recorder.log"
    deadline = time.monotonic() + 60
    while not (log.exists() and "after" in log.read_text()):
        assert time.monotonic() < deadline, running[-1].output()
        time.sleep(0.05)
