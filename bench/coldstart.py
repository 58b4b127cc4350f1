"""Cold start, hello world, scaled from zero: request → first byte of the response.

skylet: ``skylet up`` serves the function; before each sample its instances are retired (scale
to zero), so every sample starts a new instance. Two rows, sampled in turn in one ``skylet up``:
the Lambda-style hello world through the Invoke API, and the Cloud Functions style one
(functions-framework's own ``main.py``, which imports Flask in its init) through its HTTP route,
when functions-framework is installed. Peers in the same run:
- a fresh ``python`` process per request (process start → first byte of its output);
- Google's functions-framework started per request (process start → first response byte).
Budget (docs/budgets.md): p50 ≤ 2 ms, p99 ≤ 5 ms.
"""

from __future__ import annotations

import http.client
import importlib.util
import subprocess
import sys
import time

from bench.common import FUNCTIONS, free_port, percentile, skylet_up, table

SAMPLES = 200
CF_SAMPLES = 50
PEER_SAMPLES = 20
#: (function, method, path, body) of each skylet row.
LAMBDA = ("hello", "POST", "/2015-03-31/functions/hello/invocations", b"{}")
CLOUD_FUNCTIONS = ("hello-cf", "GET", "/cf/hello", b"")
FRESH_PYTHON = (
    "import json, sys\n"
    "sys.path.insert(0, {path!r})\n"
    "import hello\n"
    "sys.stdout.write(json.dumps(hello.handler({{}}, None)))\n"
)


def skylet_cold(samples: int, cf_samples: int = 0) -> tuple[list[float], list[float]]:
    """Cold starts of the Lambda-style hello world and (``cf_samples`` of them, taken in turn
    with the first ones) of the Cloud Functions style one, in ms to the first byte."""
    lambda_times: list[float] = []
    cf_times: list[float] = []
    with skylet_up() as port:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(max(samples, cf_samples)):
            if i < samples:
                lambda_times.append(_cold(conn, *LAMBDA))
            if i < cf_samples:
                cf_times.append(_cold(conn, *CLOUD_FUNCTIONS))
    return lambda_times, cf_times


def _cold(
    conn: http.client.HTTPConnection, function: str, method: str, path: str, body: bytes
) -> float:
    conn.request("DELETE", f"/_skylet/functions/{function}/instances")
    conn.getresponse().read()
    time.sleep(0.02)  # idle, as a function scaled to zero is
    started = time.perf_counter()
    conn.request(method, path, body=body)
    response = conn.getresponse()
    first_byte = time.perf_counter()
    answer = response.read()
    if response.status != 200 or b"Hello" not in answer:
        raise RuntimeError(f"{function}: bad response {response.status}: {answer!r}")
    return (first_byte - started) * 1000


def has_functions_framework() -> bool:
    return importlib.util.find_spec("functions_framework") is not None


def fresh_python(samples: int) -> list[float]:
    code = FRESH_PYTHON.format(path=str(FUNCTIONS))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.read(1)
        times.append((time.perf_counter() - started) * 1000)
        proc.stdout.read()
        proc.wait()
    return times


def functions_framework(samples: int) -> list[float]:
    exe = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        "hello",
        "--source",
        str(FUNCTIONS / "main.py"),
    ]
    times = []
    for _ in range(samples):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*exe, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/")
                    response = conn.getresponse()
                    times.append((time.perf_counter() - started) * 1000)
                    response.read()
                    break
                except OSError:
                    time.sleep(0.001)
        finally:
            proc.terminate()
            proc.wait()
    return times


def main() -> None:
    sky, cf = skylet_cold(SAMPLES, CF_SAMPLES if has_functions_framework() else 0)
    py = fresh_python(PEER_SAMPLES * 2)
    try:
        ff: list[float] | None = functions_framework(PEER_SAMPLES)
    except (ImportError, FileNotFoundError):
        ff = None
    base = percentile(sky, 50)
    rows = [
        ("skylet (scaled from zero, via Invoke API)", len(sky), base, percentile(sky, 99), "1.0x")
    ]
    if cf:
        rows.append(
            (
                "skylet Cloud Functions style (HTTP route)",
                len(cf),
                percentile(cf, 50),
                percentile(cf, 99),
                f"{percentile(cf, 50) / base:.1f}x slower",
            )
        )
    rows.append(
        (
            "fresh python process per request",
            len(py),
            percentile(py, 50),
            percentile(py, 99),
            f"{percentile(py, 50) / base:.1f}x slower",
        )
    )
    if ff:
        rows.append(
            (
                "functions-framework started per request",
                len(ff),
                percentile(ff, 50),
                percentile(ff, 99),
                f"{percentile(ff, 50) / base:.1f}x slower",
            )
        )
    table("cold start, hello world, request → first byte", rows)
    print(
        f"  budget: p50 ≤ 2 ms, p99 ≤ 5 ms -> skylet p50 {base:.2f} ms, "
        f"p99 {percentile(sky, 99):.2f} ms"
    )


if __name__ == "__main__":
    main()
