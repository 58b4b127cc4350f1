"""``skylet queue ls|send|receive|purge`` against a running server, tables and --json."""

from __future__ import annotations

import json

import pytest

from tests.aws.sqs.served import SqsServer, module_server
from tests.e2e.conftest import cli

pytestmark = pytest.mark.e2e

server = module_server("sqs-cli")


def test_queues_are_listed_with_their_counts(server: SqsServer) -> None:
    server.client().create_queue(QueueName="listed")
    assert cli("queue", "send", "listed", "one", "--endpoint-url", server.url).returncode == 0

    shown = cli("queue", "ls", "list", "--endpoint-url", server.url)
    listed = cli("queue", "ls", "--json", "--endpoint-url", server.url)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "queues"
    assert lines[1].split() == ["name", "visible", "in", "flight", "delayed", "url"]
    assert lines[2].split()[:4] == ["listed", "1", "0", "0"]
    (entry,) = [q for q in json.loads(listed.stdout) if q["Name"] == "listed"]
    assert entry["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_a_message_sent_from_standard_input_is_received_and_deleted(server: SqsServer) -> None:
    server.client().create_queue(QueueName="piped")
    sent = cli(
        "queue",
        "send",
        "piped",
        "-a",
        "kind=test",
        "--endpoint-url",
        server.url,
        input="from stdin",
    )
    assert sent.returncode == 0, sent.stderr

    received = cli("queue", "receive", "piped", "--delete", "--json", "--endpoint-url", server.url)

    (message,) = json.loads(received.stdout)
    assert message["MessageId"] == sent.stdout.strip()
    assert (message["Body"], message["MessageAttributes"]["kind"]["StringValue"]) == (
        "from stdin",
        "test",
    )
    again = cli("queue", "receive", "piped", "--json", "--endpoint-url", server.url)
    assert json.loads(again.stdout) == []


def test_purge_empties_a_queue_and_a_missing_queue_is_status_4(server: SqsServer) -> None:
    server.client().create_queue(QueueName="to-purge")
    cli("queue", "send", "to-purge", "x", "--endpoint-url", server.url)
    purged = cli("queue", "purge", "to-purge", "--endpoint-url", server.url)
    assert (purged.returncode, purged.stdout.strip()) == (0, "purged to-purge")
    missing = cli("queue", "send", "no-such-queue", "x", "--endpoint-url", server.url)
    assert missing.returncode == 4
    assert "The specified queue does not exist." in missing.stderr


def test_a_server_that_is_not_there_is_status_5() -> None:
    result = cli("queue", "ls", "--endpoint-url", "http://127.0.0.1:9")
    assert result.returncode == 5
    assert "is `skylet up` running?" in result.stderr
