"""``kill -9`` of ``skylet up`` amid a stream of PutEvents, then a restart on the same store:
every event PutEvents acknowledged (an entry with an ``EventId``) reaches every matching
target, a function and an SQS queue, at least once. Real processes, stock boto3, both stores."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, serverless_project, start_server, stop_server
from tests.runtime_fixtures import alive, descendants

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
HANDLER = """
import json, os, time


def note(event, context):
    gate = os.environ["GATE"]
    while os.path.exists(gate):  # the deliveries wait: many are queued at the kill
        time.sleep(0.01)
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"id": event["id"]}) + "\\n")
"""
MANIFEST = """
service: crash
provider: {{name: aws, region: us-east-1}}
functions:
  note:
    handler: bridge_crash.note
    environment: {{OUT: "{out}", GATE: "{gate}"}}
    events:
      - eventBridge:
          pattern: {{source: [shop]}}
resources:
  Resources:
    Copies:
      Type: AWS::SQS::Queue
      Properties: {{QueueName: copies}}
    ToQueue:
      Type: AWS::Events::Rule
      Properties:
        EventPattern: {{source: [shop]}}
        Targets:
          - {{Id: q, Arn: !GetAtt Copies.Arn}}
"""


def _kill_9(server: Server) -> None:
    family = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family):
        assert time.monotonic() < deadline, "instances outlived their killed skylet up"
        time.sleep(0.01)


def _stream(server: Server, acknowledged: list[str], stop: threading.Event) -> None:
    """PutEvents of 10 entries at a time until the server dies; the ids it acknowledged."""
    client = server.client("events", REGION)
    n = 0
    try:
        while not stop.is_set():
            entries = [
                {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": n + i})}
                for i in range(10)
            ]
            n += 10
            try:
                answer = client.put_events(Entries=entries)
            except Exception:  # the kill: this call's entries were not acknowledged
                return
            acknowledged.extend(e["EventId"] for e in answer["Entries"] if "EventId" in e)
    finally:
        client.close()


def _ran(out: Path) -> set[str]:
    if not out.exists():
        return set()
    lines = out.read_bytes().split(b"\n")
    return {json.loads(line)["id"] for line in lines[:-1] if line}


def _drain(sqs: Any, url: str, seen: set[str]) -> None:
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            seen.add(json.loads(message["Body"])["id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_kill_9_amid_put_events_loses_no_acknowledged_event(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    out, gate = tmp_path / "ran.jsonl", tmp_path / "gate"
    gate.touch()
    directory = serverless_project(tmp_path, MANIFEST.format(out=out, gate=gate))
    (directory / "bridge_crash.py").write_text(HANDLER)
    args: tuple[str, ...] = ("--no-reload", "--no-sandbox")  # the handler writes a file we read
    if backend == "postgres":
        url, schema = request.getfixturevalue("pg_schema")
        args += ("--store", f"{url}?schema={schema}")
    server = start_server(directory, *args)
    acknowledged: list[str] = []
    stop = threading.Event()
    sender = threading.Thread(target=_stream, args=(server, acknowledged, stop))
    sender.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            time.sleep(0.01)
        _kill_9(server)  # mid-stream: the sender's request in flight fails
    finally:
        stop.set()
        sender.join(60)
        if server.proc.poll() is None:
            stop_server(server)
    assert len(acknowledged) >= 500
    assert len(_ran(out)) < len(acknowledged)  # the gate held the function's deliveries
    gate.unlink()
    server = start_server(directory, *args)
    try:
        sqs = server.client("sqs", REGION)
        url = sqs.get_queue_url(QueueName="copies")["QueueUrl"]
        copied: set[str] = set()
        wanted = set(acknowledged)
        deadline = time.monotonic() + 90
        while True:
            _drain(sqs, url, copied)
            ran = _ran(out)
            if wanted <= copied and wanted <= ran:
                break
            assert time.monotonic() < deadline, (
                f"{len(wanted - copied)} acknowledged events missing from the queue, "
                f"{len(wanted - ran)} from the function"
            )
            time.sleep(0.2)
        sqs.close()
    finally:
        stop_server(server)
