"""Knative broker: CloudEvents from the ingress to a trigger's function, durable, none lost.

One process holds what ``skylet up`` holds for this path: the store (SQLite), the zygote and
invoker, the brokers (``Brokers``: what the ingress calls once it has parsed a request) and
the delivery loop (``Deliveries``), with one trigger whose subscriber is a hello-world Lambda
style function. Each event is parsed from its binary-mode HTTP form by the ingress's codec,
published (one delivery stored per matching trigger), leased, delivered, deleted.

- *throughput*: N events published by 256 concurrent callers (as concurrent HTTP clients)
  while the loop delivers; the clock stops when the last one was delivered; then the store's
  delivery queue must be empty and the function must have run N times;
- *latency*: one event at a time, from the ingress's parse to the function's answer (p50/p99);
- *raw invoker*: ``Invoker.invoke`` of the same function at the same concurrency, no store:
  the ceiling, run just before each broker run (the machine is shared);
- *over HTTP*: a real ``skylet up`` (``--no-sandbox``), events POSTed in binary mode by 8
  client threads over keep-alive connections, a subscriber that appends each event's id to a
  file: posts/s and their 202 latency, and end to end (POST → the function wrote the id) both
  under load and one at a time. The Python client is the limit here on 2 cores.

Budget (docs/budgets.md): ≥ 5,000 events/s into functions on SQLite. Run:
``.venv/bin/python -m bench.broker``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import uvloop

from bench.common import FUNCTIONS, machine, percentile, skylet_up
from skylet.config import FunctionConfig, RuntimeSettings
from skylet.eventing.brokers import DELIVERIES, Brokers
from skylet.eventing.cloudevent import from_http
from skylet.eventing.deliveries import Deliveries, DeliverySettings
from skylet.eventing.filters import compile_filter
from skylet.eventing.policy import DEFAULT
from skylet.eventing.subscribers import Sender
from skylet.eventing.topology import Sink, Topology, Trigger
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.zygote import ZygoteClient
from skylet.store.sqlite import SqliteStore

HELLO = FunctionConfig(name="hello", handler="hello.handler", code_dir=FUNCTIONS)
EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
CALLERS = 256
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))  # deliveries in flight
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
BUDGET = 5_000
TRIGGER = Trigger(
    "hello",
    "default",
    Sink("function", "hello"),
    DEFAULT,
    None,
    compile_filter({"type": "bench.event"}),
)
TOPOLOGY = Topology({"default": "default"}, {"hello": TRIGGER}, {"default": (TRIGGER,)})


def request(n: int) -> tuple[list[tuple[str, str]], bytes]:
    headers = [
        ("ce-specversion", "1.0"),
        ("ce-id", f"e-{n}"),
        ("ce-source", "/bench"),
        ("ce-type", "bench.event"),
        ("content-type", "application/json"),
    ]
    return headers, b'{"n": %d}' % n


class Counting(Sender):
    """The real sender, counting deliveries and waking whoever waits for one."""

    def __init__(self, invoker: Invoker) -> None:
        super().__init__(invoker)
        self.done = 0
        self.wake = asyncio.Event()

    async def to_function(self, name, event, timeout_s):  # type: ignore[no-untyped-def]
        answer = await super().to_function(name, event, timeout_s)
        if answer.ok:
            self.done += 1
            self.wake.set()
        return answer


async def broker_run(tmp: Path, n: int, invoker: Invoker) -> tuple[float, list[float]]:
    store = SqliteStore(tmp / f"{uuid.uuid4().hex}.db")
    await store.start()
    brokers = Brokers(store)
    await brokers.start()
    brokers.deploy(TOPOLOGY)
    sender = Counting(invoker)
    deliveries = Deliveries(brokers, sender, settings=DeliverySettings(max_concurrency=CONCURRENCY))
    await deliveries.start()
    try:
        todo = iter(range(n))

        async def caller() -> None:
            for i in todo:
                headers, body = request(i)
                await brokers.publish("default", from_http(headers, body))

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        while sender.done < n:
            sender.wake.clear()
            await sender.wake.wait()
        rate = n / (time.perf_counter() - started)
        latencies = []
        for i in range(1000):
            target = sender.done + 1
            started = time.perf_counter()
            headers, body = request(n + i)
            await brokers.publish("default", from_http(headers, body))
            while sender.done < target:
                sender.wake.clear()
                await sender.wake.wait()
            latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.2)  # the last deletes
        stats = await store.queue_stats(DELIVERIES)
        left = stats.visible + stats.in_flight + stats.delayed
        if left or sender.done != n + 1000:
            raise SystemExit(f"LOST: {left} deliveries left, {sender.done} of {n + 1000} ran")
    finally:
        await deliveries.aclose()
        await brokers.aclose()
        await store.aclose()
    return rate, latencies


async def raw_run(invoker: Invoker, n: int) -> float:
    async def caller(calls: int) -> None:
        for _ in range(calls):
            await invoker.invoke("hello", b'{"n": 1}')

    share, extra = divmod(n, CONCURRENCY)
    started = time.perf_counter()
    await asyncio.gather(*(caller(share + (i < extra)) for i in range(CONCURRENCY)))
    return n / (time.perf_counter() - started)


NOTE = """
import os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(event["id"] + "\\n")
"""
HTTP_MANIFEST = """
service: brokerbench
functions:
  note:
    handler: note.handler
    environment: {{OUT: {out}}}
    events:
      - cloudevent: {{attributes: {{type: bench.event}}}}
"""


def lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def over_http(n: int = 6000, threads: int = 8) -> None:
    import http.client
    import threading

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        out = project / "out.txt"
        (project / "note.py").write_text(NOTE)
        (project / "skylet.yaml").write_text(HTTP_MANIFEST.format(out=out))
        with skylet_up(project, "--no-sandbox", "--no-reload") as port:
            todo = iter(range(n))
            lock = threading.Lock()
            post_ms: list[float] = []

            def sender() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port)
                while True:
                    with lock:
                        i = next(todo, None)
                    if i is None:
                        return
                    headers, body = request(i)
                    began = time.perf_counter()
                    conn.request("POST", "/_skylet/brokers/default", body, dict(headers))
                    response = conn.getresponse()
                    response.read()
                    assert response.status == 202, response.status
                    with lock:
                        post_ms.append((time.perf_counter() - began) * 1000)

            workers = [threading.Thread(target=sender) for _ in range(threads)]
            started = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            posted = time.perf_counter() - started
            while lines(out) < n:
                time.sleep(0.001)
            delivered = time.perf_counter() - started
            single: list[float] = []
            conn = http.client.HTTPConnection("127.0.0.1", port)
            for i in range(500):
                headers, body = request(n + i)
                began = time.perf_counter()
                conn.request("POST", "/_skylet/brokers/default", body, dict(headers))
                conn.getresponse().read()
                while lines(out) < n + i + 1:
                    time.sleep(0.0002)
                single.append((time.perf_counter() - began) * 1000)
    print(f"\n  over HTTP (skylet up --no-sandbox, {threads} client threads, {n:,} events):")
    print(
        f"    posts {n / posted:,.0f}/s, 202 in p50 {percentile(post_ms, 50):.2f} ms, "
        f"p99 {percentile(post_ms, 99):.2f} ms; all delivered {n / delivered:,.0f}/s"
    )
    print(
        f"    one at a time, POST → the function ran: p50 {percentile(single, 50):.2f} ms, "
        f"p99 {percentile(single, 99):.2f} ms"
    )


async def main() -> None:
    print("\nKnative broker: ingress codec → publish → trigger delivery into hello world")
    print(f"  machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"  {EVENTS:,} events, {CALLERS} publishers, {CONCURRENCY} deliveries in flight; "
        f"medians of {REPEATS} runs, each after a raw Invoker.invoke run\n"
    )
    zygote = ZygoteClient()
    await zygote.start()
    invoker = Invoker(RuntimeSettings(), zygote, LogBook())
    await invoker.deploy([HELLO])
    await raw_run(invoker, 500)  # warm instances
    rates, raws, latencies = [], [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(REPEATS):
                raws.append(await raw_run(invoker, EVENTS))
                rate, lat = await broker_run(Path(tmp), EVENTS, invoker)
                rates.append(rate)
                latencies.extend(lat)
    finally:
        await invoker.aclose()
        await zygote.aclose()
    rate, raw = statistics.median(rates), statistics.median(raws)
    print(f"  {'':<30}{'events/s':>10}{'raw/s':>9}{'x raw':>7}{'x budget':>9}")
    print(
        f"  {'sqlite, ingress → function':<30}{rate:>10,.0f}{raw:>9,.0f}{rate / raw:>7.2f}"
        f"{rate / BUDGET:>9.2f}"
    )
    print(
        f"  one at a time, ingress → function answered: p50 {percentile(latencies, 50):.2f} ms,"
        f" p99 {percentile(latencies, 99):.2f} ms ({len(latencies)} events)"
    )
    print(f"\n  load average {os.getloadavg()[0]:.2f} at the end")
    print("  every run: each event delivered once, the delivery queue empty (else exit 1)")
    met = "met" if rate >= BUDGET else "NOT met"
    print(f"  budget ≥ {BUDGET:,} events/s into functions on SQLite: {rate:,.0f}/s, {met}")
    over_http()


if __name__ == "__main__":
    uvloop.run(main())
