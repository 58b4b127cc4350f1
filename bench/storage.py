"""Object storage: PUT and GET throughput through skylet's S3 API, beside the raw filesystem,
and notification latency (PUT acknowledged → handler start), in one run.

- 4 KB objects: many small PUTs and GETs over one kept-alive connection (requests/s);
- 64 MB objects: streamed PUT and GET (MB/s);
- the same writes and reads straight to files in a temporary directory: the ceiling;
- notifications: a function subscribed to ObjectCreated records the time it started; the
  latency is that minus the moment the PUT was sent. (Measured from the PUT's response it can
  be negative: the notification is queued before the PUT is answered, and may start first.)
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import FUNCTIONS, machine, percentile, skylet_up
from skylet.aws import sigv4

SMALL = 4 * 1024
LARGE = 64 * 1024 * 1024
SMALL_COUNT = 2000
LARGE_COUNT = 3
NOTIFY_COUNT = 200

HANDLER = """
import json, time

def started(event, context):
    with open("starts.log", "a") as out:
        for record in event["Records"]:
            out.write(json.dumps([record["s3"]["object"]["key"], time.time()]) + "\\n")
"""
MANIFEST = """
service: storagebench
functions:
  started:
    handler: notified.started
    events:
      - s3:
          bucket: bench-notify
          event: s3:ObjectCreated:*
"""


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = b"") -> bytes:
        headers = sigv4.sign_headers(
            access_key="test",
            secret="test",
            region="us-east-1",
            method=method,
            host=self.host,
            raw_path=path,
            payload=None if body is None or len(body) > SMALL else body,
        )
        self.conn.request(method, path, body=body, headers=dict(headers))
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data


def throughput(seconds: float, count: int) -> float:
    return count / seconds


def bench_skylet(port: int) -> dict[str, float]:
    client = Client(port)
    client.request("PUT", "/bench")
    small = os.urandom(SMALL)
    results: dict[str, float] = {}
    started = time.perf_counter()
    for n in range(SMALL_COUNT):
        client.request("PUT", f"/bench/small/{n}", small)
    results["put4k"] = throughput(time.perf_counter() - started, SMALL_COUNT)
    started = time.perf_counter()
    for n in range(SMALL_COUNT):
        client.request("GET", f"/bench/small/{n}", None)
    results["get4k"] = throughput(time.perf_counter() - started, SMALL_COUNT)
    large = os.urandom(LARGE)
    started = time.perf_counter()
    for n in range(LARGE_COUNT):
        client.request("PUT", f"/bench/large/{n}", large)
    results["put64m"] = LARGE * LARGE_COUNT / (time.perf_counter() - started) / 1e6
    started = time.perf_counter()
    for n in range(LARGE_COUNT):
        client.request("GET", f"/bench/large/{n}", None)
    results["get64m"] = LARGE * LARGE_COUNT / (time.perf_counter() - started) / 1e6
    return results


def bench_files() -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = os.urandom(SMALL)
        started = time.perf_counter()
        for n in range(SMALL_COUNT):
            temp = root / f".s{n}"
            temp.write_bytes(small)
            temp.replace(root / f"s{n}")
        results["put4k"] = throughput(time.perf_counter() - started, SMALL_COUNT)
        started = time.perf_counter()
        for n in range(SMALL_COUNT):
            (root / f"s{n}").read_bytes()
        results["get4k"] = throughput(time.perf_counter() - started, SMALL_COUNT)
        large = os.urandom(LARGE)
        started = time.perf_counter()
        for n in range(LARGE_COUNT):
            (root / f"l{n}").write_bytes(large)
        results["put64m"] = LARGE * LARGE_COUNT / (time.perf_counter() - started) / 1e6
        started = time.perf_counter()
        for n in range(LARGE_COUNT):
            (root / f"l{n}").read_bytes()
        results["get64m"] = LARGE * LARGE_COUNT / (time.perf_counter() - started) / 1e6
    return results


def bench_notifications() -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "notified.py").write_text(HANDLER)
        (project / "skylet.yaml").write_text(MANIFEST)
        acknowledged: dict[str, float] = {}  # key → when its PUT was sent
        # The handler notes each start in a file of the project, which no sandbox lets a
        # function write: this measures notifications, not the sandbox.
        with skylet_up(project, "--no-reload", "--no-sandbox") as port:
            client = Client(port)
            for n in range(NOTIFY_COUNT):
                acknowledged[f"k{n}"] = time.time()  # sent
                client.request("PUT", f"/bench-notify/k{n}", b"x")
                time.sleep(0.005)
            log = project / "starts.log"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if log.exists() and len(log.read_text().splitlines()) >= NOTIFY_COUNT:
                    break
                time.sleep(0.05)
            starts = dict(json.loads(line) for line in log.read_text().splitlines())
        return [(starts[k] - acknowledged[k]) * 1000 for k in acknowledged if k in starts]


def main() -> None:
    with skylet_up(FUNCTIONS, "--no-reload") as port:
        skylet = bench_skylet(port)
    files = bench_files()
    latencies = bench_notifications()
    print("\nobject storage, loopback")
    print(f"  machine: {machine()}")
    print(f"  {'':<30}{'skylet S3 API':>16}{'raw filesystem':>16}  ratio")
    for name, label, unit in (
        ("put4k", "PUT 4 KB", "req/s"),
        ("get4k", "GET 4 KB", "req/s"),
        ("put64m", "PUT 64 MB", "MB/s"),
        ("get64m", "GET 64 MB", "MB/s"),
    ):
        ratio = skylet[name] / files[name]
        print(
            f"  {label + ' (' + unit + ')':<30}{skylet[name]:>16.0f}{files[name]:>16.0f}"
            f"  {ratio:.2f}x"
        )
    print(
        f"  notification latency, PUT sent → handler start: n={len(latencies)} "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
