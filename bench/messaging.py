"""SQS and SNS beside moto's server (``moto[server]``, the engine LocalStack grew from), in one
run, on the same machine, with stock boto3 clients against ``skylet up``'s port:

- SendMessage round trip, one client, one message at a time (p50, p99);
- SendMessageBatch + ReceiveMessage + DeleteMessageBatch of 10 messages, from several client
  processes at once (messages a second through the whole cycle);
- SNS Publish → an SQS subscriber: several client processes publish one message at a time for
  the run's seconds; messages a second from the first Publish until the subscribed queue holds
  every one that was acknowledged (and how many never arrived);
- skylet only: an SQS event source mapping into a function with batches of 10 (messages a
  second from the mapping's creation until the queue is empty).

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

from bench.common import free_port, machine, percentile, skylet_up, wait_http

BODY = "x" * 200
MANIFEST = """
service: messaging
functions:
  sink:
    handler: sink.handler
"""
HANDLER = "def handler(event, context):\n    return None\n"


def client(url: str, service: str = "sqs") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
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
    try:
        with skylet_up(directory, "--no-reload", "--quiet") as port:
            yield f"http://127.0.0.1:{port}"
    finally:
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


def _publish(url: str, topic: str, batch: int, seconds: float, results: Any) -> None:
    sns = client(url, "sns")
    entries = [{"Id": str(i), "Message": BODY} for i in range(batch)]
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if batch == 1:
            sns.publish(TopicArn=topic, Message=BODY)
        else:
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        done += batch
    results.put(done)


def fan_out(url: str, clients: int, seconds: float, batch: int = 1) -> tuple[float, float, int]:
    """Publish (``batch`` 1) or PublishBatch of ``batch`` to a topic with one SQS subscriber:
    (acknowledged messages/s, delivered messages/s from the first publish until the queue held
    them all, messages acknowledged but not delivered within a minute)."""
    sqs, sns = client(url), client(url, "sns")
    name = f"fan-out-{batch}"
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    shown = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=shown["Attributes"]["QueueArn"])
    results: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_publish, args=(url, topic, batch, seconds, results))
        for _ in range(clients)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    published = sum(results.get() for _ in workers)
    publishing_s = time.monotonic() - started
    for worker in workers:
        worker.join()
    deadline = time.monotonic() + 60
    while True:
        shown = sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )
        arrived = int(shown["Attributes"]["ApproximateNumberOfMessages"])
        if arrived >= published or time.monotonic() > deadline:
            delivered_s = time.monotonic() - started
            return published / publishing_s, arrived / delivered_s, published - arrived
        time.sleep(0.02)


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
            for batch in (1, 10):
                published, delivered, lost = fan_out(url, args.clients, args.seconds, batch)
                figures[name] |= {
                    f"published{batch}": published,
                    f"delivered{batch}": delivered,
                    f"lost{batch}": lost,
                }
            if name == "skylet":
                figures[name]["esm"] = event_source(url, args.esm)
    sky, moto = figures["skylet"], figures["moto"]
    print(f"\nSQS and SNS, skylet beside moto's server\n  machine: {machine()}")
    print(f"  {'':<66}{'skylet':>10}{'moto':>10}{'ratio':>8}")
    print(
        f"  {'SendMessage round trip p50 ms (one client)':<66}"
        f"{sky['p50']:>10.2f}{moto['p50']:>10.2f}{moto['p50'] / sky['p50']:>7.1f}x"
    )
    print(f"  {'SendMessage round trip p99 ms':<66}{sky['p99']:>10.2f}{moto['p99']:>10.2f}")
    print(
        f"  {f'send/receive/delete batches of 10, messages/s ({args.clients} clients)':<66}"
        f"{sky['cycle']:>10.0f}{moto['cycle']:>10.0f}{sky['cycle'] / moto['cycle']:>7.1f}x"
    )
    for batch, label in ((1, "Publish"), (10, "PublishBatch of 10")):
        what = f"SNS {label} → SQS subscriber, delivered/s ({args.clients} clients)"
        sky_d, moto_d = sky[f"delivered{batch}"], moto[f"delivered{batch}"]
        print(f"  {what:<66}{sky_d:>10.0f}{moto_d:>10.0f}{sky_d / moto_d:>7.1f}x")
        print(
            f"  {'  acknowledged by the publisher, messages/s':<66}"
            f"{sky[f'published{batch}']:>10.0f}{moto[f'published{batch}']:>10.0f}"
        )
        print(
            f"  {'  acknowledged, not delivered within 60 s':<66}"
            f"{sky[f'lost{batch}']:>10.0f}{moto[f'lost{batch}']:>10.0f}"
        )
    print(
        f"  {'event source mapping → function, batches of 10, messages/s':<66}{sky['esm']:>10.0f}"
    )


if __name__ == "__main__":
    main()
