"""SQS beside moto's server (``moto[server]``, the engine LocalStack grew from), in one run,
on the same machine, with stock boto3 clients:

- SendMessage round trip, one client, one message at a time (p50, p99);
- SendMessageBatch + ReceiveMessage + DeleteMessageBatch of 10 messages, from several client
  processes at once (messages a second through the whole cycle);
- skylet only: an SQS event source mapping into a function with batches of 10 (messages a
  second from the mapping's creation until the queue is empty).

Until the service router puts SQS on ``skylet up``'s port, skylet is served by the tests' one
extra route (``tests/aws/sqs/served.py``): the same platform, store and HTTP server.

    python -m bench.messaging [--seconds 10] [--clients 4] [--esm 5000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import free_port, machine, percentile, wait_http

ROOT = Path(__file__).parents[1]
BODY = "x" * 200
MANIFEST = """
service: messaging
functions:
  sink:
    handler: sink.handler
"""
HANDLER = "def handler(event, context):\n    return None\n"


def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, max_pool_connections=4),
    )


@contextmanager
def skylet_sqs() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="skylet-messaging-"))
    (directory / "skylet.yaml").write_text(MANIFEST)
    (directory / "sink.py").write_text(HANDLER)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.aws.sqs.served", str(directory), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_http(port, timeout_s=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def moto_sqs() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(port, path="/moto-api/", timeout_s=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def round_trips(url: str, count: int) -> tuple[float, float]:
    sqs = client(url)
    queue = sqs.create_queue(QueueName="round-trips")["QueueUrl"]
    for _ in range(50):  # warm the connection and the server
        sqs.send_message(QueueUrl=queue, MessageBody=BODY)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        sqs.send_message(QueueUrl=queue, MessageBody=BODY)
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 99)


def _cycle(url: str, queue: str, seconds: float, results: Any) -> None:
    sqs = client(url)
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if messages:
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        done += len(messages)
    results.put(done)


def cycles(url: str, clients: int, seconds: float) -> float:
    queue = client(url).create_queue(QueueName="cycles")["QueueUrl"]
    results: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_cycle, args=(url, queue, seconds, results))
        for _ in range(clients)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / (time.monotonic() - started)


def event_source(url: str, count: int) -> float:
    import boto3
    from botocore.config import Config

    sqs = client(url)
    queue = sqs.create_queue(QueueName="mapped", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]
    for _ in range(count // 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    lambda_ = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )
    started = time.monotonic()
    lambda_.create_event_source_mapping(
        EventSourceArn="arn:aws:sqs:us-east-1:000000000000:mapped",
        FunctionName="sink",
        BatchSize=10,
        ScalingConfig={"MaximumConcurrency": 20},
    )
    while True:
        shown = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        left = int(shown["ApproximateNumberOfMessages"]) + int(
            shown["ApproximateNumberOfMessagesNotVisible"]
        )
        if left == 0:
            return count / (time.monotonic() - started)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--esm", type=int, default=5000, help="messages through a mapping")
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for name, serve in (("skylet", skylet_sqs), ("moto", moto_sqs)):
        with serve() as url:
            p50, p99 = round_trips(url, args.round_trips)
            per_second = cycles(url, args.clients, args.seconds)
            figures[name] = {"p50": p50, "p99": p99, "cycle": per_second}
            if name == "skylet":
                figures[name]["esm"] = event_source(url, args.esm)
    sky, moto = figures["skylet"], figures["moto"]
    print(f"\nSQS, skylet beside moto's server\n  machine: {machine()}")
    print(f"  {'':<58}{'skylet':>10}{'moto':>10}{'ratio':>8}")
    print(
        f"  {'SendMessage round trip p50 ms (one client)':<58}"
        f"{sky['p50']:>10.2f}{moto['p50']:>10.2f}{moto['p50'] / sky['p50']:>7.1f}x"
    )
    print(f"  {'SendMessage round trip p99 ms':<58}{sky['p99']:>10.2f}{moto['p99']:>10.2f}")
    print(
        f"  {f'send/receive/delete batches of 10, messages/s ({args.clients} clients)':<58}"
        f"{sky['cycle']:>10.0f}{moto['cycle']:>10.0f}{sky['cycle'] / moto['cycle']:>7.1f}x"
    )
    print(
        f"  {'event source mapping → function, batches of 10, messages/s':<58}{sky['esm']:>10.0f}"
    )


if __name__ == "__main__":
    main()
