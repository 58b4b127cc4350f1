"""Warm Lambda Invoke API round trips on loopback, through a raw HTTP client and through boto3.

The raw client writes a prepared request on a kept-alive socket and reads the response, so it
adds almost nothing of its own. "Platform overhead" is the round trip minus the handler's own
duration (from the REPORT line that ``LogType: Tail`` returns).
Budget (docs/budgets.md): raw round trip p50 ≤ 0.3 ms.
"""

from __future__ import annotations

import base64
import re
import socket
import time

import boto3
from botocore.config import Config

from bench.common import percentile, skylet_up, table

RAW_SAMPLES = 5000
BOTO_SAMPLES = 1000


def request(port: int, tail: bool = False) -> bytes:
    headers = [
        "POST /2015-03-31/functions/hello/invocations HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Length: 2",
    ]
    if tail:
        headers.append("X-Amz-Log-Type: Tail")
    return ("\r\n".join(headers) + "\r\n\r\n{}").encode()


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return head


def raw(port: int, samples: int) -> tuple[list[float], list[float]]:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    plain, tail = request(port), request(port, tail=True)
    for _ in range(200):  # warm up: instance, connection, caches
        sock.sendall(plain)
        read_response(sock)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        sock.sendall(plain)
        read_response(sock)
        times.append((time.perf_counter() - started) * 1000)
    overheads = []
    for _ in range(samples // 5):
        started = time.perf_counter()
        sock.sendall(tail)
        head = read_response(sock)
        elapsed = (time.perf_counter() - started) * 1000
        log = base64.b64decode(re.search(rb"(?i)x-amz-log-result: *(\S+)", head).group(1))  # type: ignore[union-attr]
        handler_ms = float(re.search(rb"Duration: ([\d.]+) ms", log).group(1))  # type: ignore[union-attr]
        overheads.append(elapsed - handler_ms)
    sock.close()
    return times, overheads


def with_boto3(port: int, samples: int) -> list[float]:
    client = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )
    for _ in range(50):
        client.invoke(FunctionName="hello", Payload=b"{}")["Payload"].read()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        client.invoke(FunctionName="hello", Payload=b"{}")["Payload"].read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    with skylet_up() as port:
        times, overheads = raw(port, RAW_SAMPLES)
        boto = with_boto3(port, BOTO_SAMPLES)
    base = percentile(times, 50)
    table(
        "warm Lambda Invoke API round trip, loopback",
        [
            ("raw HTTP client", len(times), base, percentile(times, 99), "1.0x"),
            (
                "platform overhead (round trip - handler)",
                len(overheads),
                percentile(overheads, 50),
                percentile(overheads, 99),
                "",
            ),
            (
                "boto3 lambda.invoke",
                len(boto),
                percentile(boto, 50),
                percentile(boto, 99),
                f"{percentile(boto, 50) / base:.1f}x the raw round trip",
            ),
        ],
    )
    print(
        f"  budget: raw p50 ≤ 0.3 ms -> {base:.3f} ms; "
        f"throughput on one connection ≈ {1000 / base:.0f} req/s"
    )


if __name__ == "__main__":
    main()
