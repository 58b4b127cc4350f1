"""DynamoDB beside moto's server (``moto[server]``), in one run, on the same machine,
server-bound: several client processes replay requests signed beforehand (SigV4 by botocore)
on keep-alive connections, so boto3's own cost per call is not what is measured.

- PutItem/s, GetItem/s, Query/s (each Query reads 100 items of one partition), BatchWriteItem
  items/s (25 per request);
- GetItem round trip p50 with the raw signed client (the server's time plus a socket's), and
  boto3's round trip beside it;
- skylet only: write → stream → function start, p50/p99 (a PutItem's client-side time to the
  moment the stream mapping's function starts, one write at a time).

    python -m bench.tables [--seconds 5] [--clients 4] [--stream 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import machine, percentile, skylet_up
from bench.messaging import moto_sqs as moto_server

TABLE = "Bench"
DATA = "x" * 200
MANIFEST = """
service: tables
provider: {name: aws}
functions:
  probe:
    handler: probe.handler
    events:
      - stream: {arn: !GetAtt Streamed.StreamArn, batchSize: 10}
resources:
  Resources:
    Streamed:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: Streamed
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
        StreamSpecification: {StreamViewType: NEW_IMAGE}
"""
# Notes when it started against each record's client-side write time.
PROBE = """import os, time

def handler(event, context):
    started = time.time()
    with open(os.environ["LATENCIES"], "a") as out:
        for record in event["Records"]:
            written = float(record["dynamodb"]["NewImage"]["t"]["N"])
            out.write(f"{(started - written) * 1000:.3f}\\n")
"""


def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def signed(url: str, operation: str, params: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """One request of DynamoDB's json protocol, signed as boto3 signs it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps(params).encode()
    request = AWSRequest(
        "POST",
        url + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        },
    )
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(request)
    return body, {k: str(v) for k, v in request.headers.items()}


def send(conn: http.client.HTTPConnection, request: tuple[bytes, dict[str, str]]) -> bytes:
    body, headers = request
    conn.request("POST", "/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {data[:300]!r}")
    return data


def _item(key: str) -> dict[str, Any]:
    return {"pk": {"S": key}, "sk": {"N": "0"}, "data": {"S": DATA}}


def requests_for(url: str, kind: str, worker: int, count: int) -> list[Any]:
    """``count`` distinct signed requests of one kind for one worker."""
    found = []
    for i in range(count):
        if kind == "put":
            params: dict[str, Any] = {"TableName": TABLE, "Item": _item(f"w{worker}-{i}")}
            found.append(signed(url, "PutItem", params))
        elif kind == "get":
            params = {"TableName": TABLE, "Key": {"pk": {"S": f"g{i % 1000}"}, "sk": {"N": "0"}}}
            found.append(signed(url, "GetItem", params))
        elif kind == "query":
            params = {
                "TableName": TABLE,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "Q"}},
            }
            found.append(signed(url, "Query", params))
        else:
            items = [{"PutRequest": {"Item": _item(f"b{worker}-{i}-{j}")}} for j in range(25)]
            found.append(signed(url, "BatchWriteItem", {"RequestItems": {TABLE: items}}))
    return found


def _worker(url: str, kind: str, worker: int, seconds: float, ready: Any, results: Any) -> None:
    requests = requests_for(url, kind, worker, 200 if kind != "query" else 1)
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    send(conn, requests[0])  # the connection open, the request good
    ready.put(True)
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        send(conn, requests[done % len(requests)])
        done += 1
    results.put(done)


def throughput(url: str, kind: str, clients: int, seconds: float) -> float:
    """Requests a second of one kind from ``clients`` processes at once."""
    ready: Any = multiprocessing.Queue()
    results: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_worker, args=(url, kind, n, seconds, ready, results))
        for n in range(clients)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    started = time.monotonic()
    total = sum(results.get() for _ in workers)
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.join()
    return total / elapsed


def prepare(url: str) -> None:
    ddb = client(url)
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, 1000, 25):
        ddb.batch_write_item(
            RequestItems={
                TABLE: [{"PutRequest": {"Item": _item(f"g{i}")}} for i in range(start, start + 25)]
            }
        )
    for start in range(0, 100, 25):
        ddb.batch_write_item(
            RequestItems={
                TABLE: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": "Q"}, "sk": {"N": str(i)}, "data": {"S": DATA}}
                        }
                    }
                    for i in range(start, start + 25)
                ]
            }
        )
    shown = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "Q"}},
        Select="COUNT",
    )
    if shown["Count"] != 100:
        raise RuntimeError(f"the partition holds {shown['Count']} items, not 100")


def get_latency(url: str, count: int) -> tuple[float, float]:
    """GetItem round trip p50 (ms): the raw signed client, then boto3's."""
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    request = requests_for(url, "get", 0, 1)[0]
    raw = []
    for i in range(count + 100):
        started = time.perf_counter()
        send(conn, request)
        if i >= 100:  # the first hundred warm the connection and the server
            raw.append((time.perf_counter() - started) * 1000)
    ddb = client(url)
    key = {"pk": {"S": "g0"}, "sk": {"N": "0"}}
    sdk = []
    for i in range(count + 100):
        started = time.perf_counter()
        ddb.get_item(TableName=TABLE, Key=key)
        if i >= 100:
            sdk.append((time.perf_counter() - started) * 1000)
    return percentile(raw, 50), percentile(sdk, 50)


@contextmanager
def skylet_tables() -> Iterator[tuple[str, Path]]:
    directory = Path(tempfile.mkdtemp(prefix="skylet-tables-"))
    (directory / "serverless.yml").write_text(MANIFEST)
    (directory / "probe.py").write_text(PROBE)
    latencies = directory / "latencies.txt"
    try:
        # The probe notes its starts in a project file, which no sandbox lets a function
        # write: this measures the stream, not the sandbox.
        with skylet_up(
            directory, "--no-reload", "--quiet", "--no-sandbox", "--env", f"LATENCIES={latencies}"
        ) as port:
            yield f"http://127.0.0.1:{port}", latencies
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def stream_latency(url: str, latencies: Path, count: int) -> tuple[float, float]:
    """Write → stream → function start (ms), p50 and p99, one write every 20 ms."""
    ddb = client(url)
    for i in range(count + 20):
        if i == 20:  # the first twenty warm the function
            deadline = time.monotonic() + 30
            while len(_read(latencies)) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies.write_text("")
        ddb.put_item(
            TableName="Streamed", Item={"id": {"S": f"s{i}"}, "t": {"N": repr(time.time())}}
        )
        time.sleep(0.02)
    deadline = time.monotonic() + 60
    while len(_read(latencies)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    samples = _read(latencies)
    return percentile(samples, 50), percentile(samples, 99)


def _read(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line) for line in path.read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--round-trips", type=int, default=1000)
    parser.add_argument("--stream", type=int, default=200, help="writes through the stream")
    args = parser.parse_args()
    kinds = ("put", "get", "query", "batch")
    figures: dict[str, dict[str, float]] = {}
    with skylet_tables() as (url, latencies):
        prepare(url)
        figures["skylet"] = {k: throughput(url, k, args.clients, args.seconds) for k in kinds}
        figures["skylet"]["raw"], figures["skylet"]["sdk"] = get_latency(url, args.round_trips)
        figures["skylet"]["s50"], figures["skylet"]["s99"] = stream_latency(
            url, latencies, args.stream
        )
    with moto_server() as url:
        prepare(url)
        figures["moto"] = {k: throughput(url, k, args.clients, args.seconds) for k in kinds}
        figures["moto"]["raw"], figures["moto"]["sdk"] = get_latency(url, args.round_trips)
    sky, moto = figures["skylet"], figures["moto"]
    sky["batch"] *= 25
    moto["batch"] *= 25
    print(f"\nDynamoDB, skylet beside moto's server\n  machine: {machine()}")
    print(f"  {'':<60}{'skylet':>10}{'moto':>10}{'ratio':>8}")
    for key, what in (
        ("put", "PutItem/s"),
        ("get", "GetItem/s"),
        ("query", "Query/s (100 items of one partition)"),
        ("batch", "BatchWriteItem items/s (25 per request)"),
    ):
        label = f"{what}, {args.clients} clients replaying signed requests"
        print(f"  {label:<60}{sky[key]:>10.0f}{moto[key]:>10.0f}{sky[key] / moto[key]:>7.1f}x")
    print(
        f"  {'GetItem round trip p50 ms, raw signed client':<60}"
        f"{sky['raw']:>10.3f}{moto['raw']:>10.3f}{moto['raw'] / sky['raw']:>7.1f}x"
    )
    print(
        f"  {'GetItem round trip p50 ms, boto3':<60}"
        f"{sky['sdk']:>10.3f}{moto['sdk']:>10.3f}{moto['sdk'] / sky['sdk']:>7.1f}x"
    )
    print(f"  {'write → stream → function start p50 ms':<60}{sky['s50']:>10.2f}")
    print(f"  {'write → stream → function start p99 ms':<60}{sky['s99']:>10.2f}")


if __name__ == "__main__":
    main()
