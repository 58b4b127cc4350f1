"""Warm HTTP hello world: throughput and latency under load, skylet beside its peers.

In one run, on loopback, each with the same load generator:
- skylet: ``skylet up`` serving a Lambda-style hello world behind an HTTP API route (payload
  format 2.0), the same behind a REST API route (1.0), a handler returning a plain dict (the
  HTTP API's shortcut, no statusCode), and functions-framework's hello world Cloud Functions
  style;
- a bare ASGI hello world under uvicorn (httptools, uvloop), the server skylet ran on before it
  had its own, and under granian (a Rust server) when it is installed;
- Google's functions-framework serving the equivalent function (its own server);
- with ``--baseline PATH``, another build's ``skylet`` executable (another checkout's venv)
  serving the same functions, in the same alternating rounds: a before/after comparison.
The load generator is wrk (``apt-get install wrk``) when present, otherwise a small keep-alive
client written here (which takes CPU from the servers on a small machine; the table says which).
Budget (docs/budgets.md): skylet ≥ 0.5 x the bare ASGI app's requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import FUNCTIONS, free_port, machine, percentile, skylet_up, wait_http

BARE_ASGI = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})
"""


@contextmanager
def process(
    argv: list[str],
    port: int,
    cwd: Path | None = None,
    path: str = "/",
    env: dict[str, str] | None = None,
) -> Iterator[int]:
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http(port, path)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def bare_asgi() -> Iterator[int]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare.py").write_text(BARE_ASGI)
        argv = [sys.executable, "-m", "uvicorn", "bare:app", "--port", str(port)]
        argv += ["--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level"]
        with process([*argv, "warning"], port, cwd=Path(tmp)):
            yield port


@contextmanager
def granian_asgi() -> Iterator[int | None]:
    """The same bare ASGI app under granian (one worker, uvloop, HTTP/1), if installed."""
    binary = Path(sys.executable).parent / "granian"
    if not binary.exists():
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare.py").write_text(BARE_ASGI)
        argv = [str(binary), "--interface", "asgi", "--http", "1", "--loop", "uvloop"]
        argv += ["--workers", "1", "--no-ws", "--port", str(port), "--log-level", "warning"]
        with process([*argv, "bare:app"], port, cwd=Path(tmp)):
            yield port


@contextmanager
def skylet_under_granian() -> Iterator[int | None]:
    """skylet's gateway as a plain ASGI app under granian (bench/granian_skylet.py), if
    installed: every request takes the ASGI path."""
    binary = Path(sys.executable).parent / "granian"
    if not binary.exists():
        yield None
        return
    port = free_port()
    root = Path(__file__).parents[1]
    env = {
        **os.environ,
        "SKYLET_BENCH_MANIFEST": str(FUNCTIONS / "skylet.yaml"),
        "SKYLET_BENCH_DATA": str(Path(tempfile.gettempdir()) / f"skylet-bench-{port}"),
    }
    argv = [str(binary), "--interface", "asgi", "--http", "1", "--loop", "uvloop", "--no-ws"]
    argv += ["--workers", "1", "--port", str(port), "--log-level", "warning"]
    with process([*argv, "bench.granian_skylet:app"], port, cwd=root, env=env, path="/health"):
        yield port


@contextmanager
def functions_framework() -> Iterator[int]:
    binary = Path(sys.executable).parent / "functions-framework"
    if not binary.exists():
        raise RuntimeError("functions-framework is not installed (make bench installs it)")
    port = free_port()
    argv = [str(binary), "--target", "hello", "--source", str(FUNCTIONS / "cf" / "main.py")]
    with process([*argv, "--port", str(port)], port):
        yield port


# -- load generators ----------------------------------------------------------------------------


def wrk(url: str, seconds: float, connections: int) -> tuple[float, float, float]:
    """requests/s, p50 ms, p99 ms."""
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"errors under load at {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


def _wrk_ms(out: str, which: str) -> float:
    match = re.search(rf"{re.escape(which)}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        raise RuntimeError(f"no {which} latency in wrk's output:\n{out}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _client(host: str, port: int, request: bytes, until: float, times: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"bad response: {head!r}")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()


def python_load(url: str, seconds: float, connections: int) -> tuple[float, float, float]:
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert match is not None
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    times: list[float] = []

    async def run() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(host, port, request, until, times) for _ in range(connections))
        )

    started = time.perf_counter()
    asyncio.run(run())
    return (
        len(times) / (time.perf_counter() - started),
        percentile(times, 50),
        percentile(times, 99),
    )


#: skylet's rows: (what, path) on one ``skylet up`` of bench/functions.
SKYLET_ROWS = [
    ("Lambda style, HTTP API route", "/hello"),
    ("Lambda style, HTTP API, plain dict", "/dict/hello"),
    ("Lambda style, REST API route", "/rest/hello"),
    ("Cloud Functions style", "/cf/hello"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another build's skylet executable, measured beside this one (e.g. a worktree's "
        ".venv/bin/skylet)",
    )
    args = parser.parse_args()
    load = wrk if shutil.which("wrk") else python_load
    generator = "wrk" if load is wrk else "python asyncio client (wrk not installed)"

    def warm(url: str) -> None:
        # Until throughput settles: every instance started (a Flask import each for the
        # functions-framework function) and caches filled.
        previous = 0.0
        for _ in range(10):
            rps = load(url, 1.0, args.connections)[0]
            if previous and abs(rps - previous) / previous < 0.15:
                break
            previous = rps

    # Every server runs for the whole benchmark (idle ones cost nothing) and the measurements
    # alternate, round after round: a machine whose speed drifts (a shared VM) then biases no
    # peer, and the medians are compared.
    with ExitStack() as stack:
        bare = stack.enter_context(bare_asgi())
        granian = stack.enter_context(granian_asgi())
        up = stack.enter_context(skylet_up(FUNCTIONS, "--no-reload"))
        ff = stack.enter_context(functions_framework())
        rows = [("bare ASGI app, uvicorn+httptools+uvloop", f"http://127.0.0.1:{bare}/")]
        if granian is not None:
            rows.append(("bare ASGI app, granian (1 worker)", f"http://127.0.0.1:{granian}/"))
        rows += [(f"skylet, {what}", f"http://127.0.0.1:{up}{path}") for what, path in SKYLET_ROWS]
        hosted = stack.enter_context(skylet_under_granian())
        if hosted is not None:
            rows.append(
                ("skylet's ASGI app under granian, HTTP API", f"http://127.0.0.1:{hosted}/hello")
            )
        if args.baseline is not None:
            base = stack.enter_context(
                skylet_up(FUNCTIONS, "--no-reload", skylet=args.baseline.resolve())
            )
            rows += [(f"baseline, {w}", f"http://127.0.0.1:{base}{p}") for w, p in SKYLET_ROWS]
        rows.append(("functions-framework (its own server)", f"http://127.0.0.1:{ff}/"))
        for _, url in rows:
            warm(url)
        samples: list[list[tuple[float, float, float]]] = [[] for _ in rows]
        for _ in range(args.rounds):
            for index, (_, url) in enumerate(rows):
                samples[index].append(load(url, args.seconds, args.connections))
    medians = [
        (name, tuple(statistics.median(s[i] for s in runs) for i in range(3)))
        for (name, _), runs in zip(rows, samples, strict=True)
    ]
    bare_rps = medians[0][1][0]
    print("\nwarm HTTP hello world, loopback")
    print(f"  machine: {machine()}")
    print(
        f"  load: {generator}, {args.connections} connections, {args.seconds:g} s each, "
        f"medians of {args.rounds} alternating rounds"
    )
    if args.baseline is not None:
        print(f"  baseline: {args.baseline}")
    print(f"  {'':<46}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}  ratio (req/s)")
    for what, (rps, p50, p99) in medians:
        print(f"  {what:<46}{rps:>10.0f}{p50:>10.3f}{p99:>10.3f}  {rps / bare_rps:.2f}x bare ASGI")
    print("  budget: skylet >= 0.50x the bare ASGI app (uvicorn)")


if __name__ == "__main__":
    main()
