"""Knative Services: a Python server program scaled from zero, and a burst scaled by the KPA.

Rows, in one run (``python -m bench.services``):
- the program's own start time: started directly with a free ``PORT``, until its first HTTP
  answer (the floor any platform has);
- scale from zero through skylet: the first request to a Service with ``initialScale: 0``
  (a new Service each sample, so each is a true start from zero), request → response, with
  the sandbox (the default) and on a second server with ``--no-sandbox``;
- a burst of 200 concurrent requests (each held 200 ms by the program) on a Service with
  ``target: 10`` (7 per instance at 70 %) and ``containerConcurrency: 10`` (without a hard
  limit the first instance takes every request at once), scaled from zero: instances
  started, p50/p99 of the requests, and the time until it is back at zero, beside the pure
  decider's expected trajectory for the same burst.
Budget (docs/budgets.md): scale from zero ≤ the program's own start time + 10 ms (p50).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port, machine, percentile, skylet_up
from skylet.autoscale.kpa import Observed, State, decide
from skylet.autoscale.metrics import Collector
from skylet.autoscale.spec import TICK_S, parse

PROGRAM = Path(__file__).parent / "programs" / "server.py"
COLD_SAMPLES = 15
OWN_SAMPLES = 15
BURST = 200
HOLD_MS = 200


def service(name: str, annotations: dict[str, str], concurrency: int = 0) -> str:
    lines = "".join(f'        autoscaling.knative.dev/{k}: "{v}"\n' for k, v in annotations.items())
    return f"""---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: {name}
spec:
  template:
    metadata:
      annotations:
        skylet.dev/command: "{sys.executable} server.py"
{lines}    spec:
      containerConcurrency: {concurrency}
      containers:
        - image: example/unused
          readinessProbe:
            httpGet:
              path: /health
"""


def own_start() -> list[float]:
    """The program started directly: exec → its first HTTP answer, in ms."""
    samples = []
    for _ in range(OWN_SAMPLES):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(PROGRAM)], env={"PORT": str(port)}, stderr=subprocess.DEVNULL
        )
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    answer = b""
                    while not answer.endswith(b"Hello"):  # the whole answer, body included
                        chunk = sock.recv(256)
                        if not chunk:
                            break
                        answer += chunk
                    if answer.endswith(b"Hello"):
                        break
            except OSError:
                time.sleep(0.0005)
        samples.append((time.perf_counter() - started) * 1000)
        proc.kill()
        proc.wait()
    return samples


def status(client: httpx.Client, base: str, name: str) -> dict[str, object]:
    found = client.get(f"{base}/_skylet/services").json()["services"]
    return next(s for s in found if s["name"] == name)


def expected(offset_s: float, burst_s: float) -> list[tuple[float, int]]:
    """The decider's trajectory for ``BURST`` requests in flight from ``offset_s`` (the
    revision's age when the burst began; its ticks are every 2 s of its age) for
    ``burst_s``; times are since the burst began."""
    spec = parse({"autoscaling.knative.dev/target": "10"}, where="bench")
    collector = Collector(0.0, keep_s=spec.stable_window_s)
    state, ready, ticks = State(), 0, []
    now, began, ended = TICK_S, False, False
    while now < offset_s + 200:
        if not began and now >= offset_s:
            for _ in range(BURST):
                collector.started(offset_s)
            state, began = State(active_since=offset_s), True
        if began and not ended and now >= offset_s + burst_s:
            for _ in range(BURST):
                collector.ended(offset_s + burst_s)
            ended = True
        stable = collector.averages(now, spec.stable_window_s)[0]
        panic = collector.averages(now, spec.panic_window_s)[0]
        decision = decide(spec, state, Observed(stable, panic, ready), now)
        assert decision is not None
        state, ready = decision.state, decision.desired
        if began:
            ticks.append((round(now - offset_s, 2), ready))
            if ready == 0 and ended:
                break
        now += TICK_S
    return ticks


async def burst(base: str) -> list[float]:
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=None)) as c:

        async def one() -> float:
            started = time.perf_counter()
            answer = await c.get(f"{base}/_skylet/services/burst/?ms={HOLD_MS}")
            answer.raise_for_status()
            return (time.perf_counter() - started) * 1000

        return await asyncio.gather(*(one() for _ in range(BURST)))


def cold_starts(base: str) -> list[float]:
    """The first request to each ``cold-N`` service, request → response, in ms."""
    samples = []
    with httpx.Client(timeout=60) as client:
        for i in range(COLD_SAMPLES):
            started = time.perf_counter()
            client.get(f"{base}/_skylet/services/cold-{i}/").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    own = own_start()
    directory = Path(tempfile.mkdtemp(prefix="skylet-bench-services-"))
    directory.chmod(0o755)  # the programs' own uids read it (skylet as root)
    shutil.copy(PROGRAM, directory / "server.py")
    documents = "".join(service(f"cold-{i}", {"initialScale": "0"}) for i in range(COLD_SAMPLES))
    documents += service("burst", {"initialScale": "0", "target": "10"}, concurrency=10)
    (directory / "service.yaml").write_text(documents)
    try:
        with skylet_up(directory, "--no-reload", "--no-sandbox") as port:
            unsandboxed = cold_starts(f"http://127.0.0.1:{port}")
        with skylet_up(directory, "--no-reload") as port, httpx.Client(timeout=60) as client:
            base = f"http://127.0.0.1:{port}"
            cold = cold_starts(base)
            offset = float(status(client, base, "burst")["ageS"])  # type: ignore[arg-type]
            began = time.perf_counter()
            latencies = asyncio.run(burst(base))
            burst_s = time.perf_counter() - began
            peak = status(client, base, "burst")
            while status(client, base, "burst")["instances"]:
                time.sleep(0.5)
            to_zero = time.perf_counter() - began
            final = status(client, base, "burst")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    trajectory = expected(offset, burst_s)
    print(f"machine: {machine()}")
    print(
        f"program's own start: p50 {percentile(own, 50):.1f} ms, p99 {percentile(own, 99):.1f} ms"
    )
    print(
        f"scale from zero through skylet, sandboxed: p50 {percentile(cold, 50):.1f} ms, "
        f"p99 {percentile(cold, 99):.1f} ms; --no-sandbox: p50 {percentile(unsandboxed, 50):.1f}"
        f" ms, p99 {percentile(unsandboxed, 99):.1f} ms ({COLD_SAMPLES} services each); "
        f"budget: own p50 + 10 ms = {percentile(own, 50) + 10:.1f} ms"
    )
    print(
        f"burst of {BURST} concurrent requests ({HOLD_MS} ms each), target 10: "
        f"{final['started']} instances started, p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, all answered in {burst_s:.2f} s; "
        f"back to zero {to_zero:.1f} s after it began"
    )
    print(f"  instances right after the burst: {peak['instances']}")
    print(f"  time to ready of each instance (ms): {final['readyTimesMs']}")
    history = [(round(t - offset, 2), d) for t, d, _, _ in final["history"]]  # type: ignore[union-attr]
    print(
        "  skylet's decisions (s since the burst began, desired): "
        f"{json.dumps(history[:3] + history[-5:])}"
    )
    zero = next((t for t, n in trajectory if n == 0), None)
    print(
        f"  the decider's expected trajectory (200 in flight for the burst's {burst_s:.2f} s, "
        f"from the revision's age {offset:.2f} s): peak {max(n for _, n in trajectory)}, zero "
        f"at {zero:.0f} s after the burst began: {json.dumps(trajectory[:3] + trajectory[-5:])}"
    )


if __name__ == "__main__":
    main()
