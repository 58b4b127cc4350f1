"""Helpers shared by the benchmarks: start skylet, percentiles, the side-by-side table."""

from __future__ import annotations

import http.client
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).parent
FUNCTIONS = HERE / "functions"
SKYLET = Path(sys.executable).parent / "skylet"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, path: str = "/health", timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"nothing answered on port {port} within {timeout_s} s")


@contextmanager
def skylet_up(directory: Path = FUNCTIONS, *extra: str, skylet: Path = SKYLET) -> Iterator[int]:
    """``skylet up`` on ``directory`` in a subprocess; yields its port. ``skylet``: the
    executable (another checkout's, to compare builds)."""
    port = free_port()
    data = Path(os.environ.get("TMPDIR", "/tmp")) / f"skylet-bench-{port}"
    proc = subprocess.Popen(
        [str(skylet), "up", str(directory), "--port", str(port), "--data-dir", str(data), *extra],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_http(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def table(title: str, rows: list[tuple[str, int, float, float, str]]) -> None:
    """Rows of (what, samples, p50 ms, p99 ms, ratio text)."""
    print(f"\n{title}\n  machine: {machine()}")
    print(f"  {'':<44}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}  ratio (p50)")
    for what, n, p50, p99, ratio in rows:
        print(f"  {what:<44}{n:>6}{p50:>10.3f}{p99:>10.3f}  {ratio}")
