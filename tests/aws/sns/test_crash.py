"""Durable fan-out: a server killed with ``kill -9`` right after Publish answered loses no
delivery; after a restart on the same store every acknowledged message reaches every
subscriber (at least once)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from skylet.store.sqlite import SqliteStore
from tests.aws.sns.endpoints import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
MESSAGES = 300


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], Any]:
    port_file = data_dir / "port"
    port_file.unlink(missing_ok=True)
    with (data_dir / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.aws.sns.served", str(data_dir)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    wait_for(lambda: port_file.exists() and port_file.read_text(), 60, "the server's port")
    client = boto3.client(
        "sns",
        endpoint_url=f"http://127.0.0.1:{port_file.read_text()}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return process, client


def drain(path: Path, queues: list[str]) -> dict[str, list[str]]:
    """The Message ids in each queue, read (and deleted) from this process."""

    async def read() -> dict[str, list[str]]:
        store = SqliteStore(path)
        await store.start()
        found: dict[str, list[str]] = {q: [] for q in queues}
        try:
            for queue in queues:
                while messages := await store.receive(queue, max_messages=500):
                    for m in messages:
                        document = json.loads(m.body)
                        if "Records" in document:
                            document = document["Records"][0]["Sns"]
                        found[queue].append(document["MessageId"])
                    await store.delete_batch(queue, [m.receipt for m in messages])
        finally:
            await store.aclose()
        return found

    return asyncio.run(read())


def test_kill_9_after_publish_loses_no_delivery(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()  # the queue subscriber's deliveries wait: they are all in flight at the kill
    process, client = start(tmp_path)
    try:
        asyncio.run(_make_queue(tmp_path / "state.db", "crash-q"))
        arn = client.create_topic(Name="crash")["TopicArn"]
        client.subscribe(
            TopicArn=arn,
            Protocol="lambda",
            Endpoint="arn:aws:lambda:us-east-1:000000000000:function:worker",
        )
        client.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:crash-q"
        )
        acknowledged = [
            client.publish(TopicArn=arn, Message=f"m{i}")["MessageId"] for i in range(MESSAGES)
        ]
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        client.close()
    before = drain(tmp_path / "state.db", ["lambda-worker", "crash-q"])
    assert before["crash-q"] == []
    gate.unlink()
    process, client = start(tmp_path)
    try:
        seen = {q: set(ids) for q, ids in before.items()}

        def complete() -> bool:
            for queue, ids in drain(tmp_path / "state.db", list(seen)).items():
                seen[queue].update(ids)
            return all(set(acknowledged) <= ids for ids in seen.values())

        wait_for(complete, 60, "every acknowledged message at every subscriber")
    finally:
        process.terminate()
        process.wait(30)
        client.close()


async def _make_queue(path: Path, name: str) -> None:
    store = SqliteStore(path)
    await store.start()
    try:
        await store.create_queue(name)
    finally:
        await store.aclose()
