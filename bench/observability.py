"""The cost of observability: the same build with metrics and JSON logs off and on, and with
tracing off and on exporting to a local OTLP receiver, in one run.

- *HTTP*: ``skylet up`` processes serving bench/functions' hello world behind its HTTP API
  route: one with ``--no-metrics`` (the function's logs in the default text format), one as
  ``skylet up`` runs by default (metrics on) also serving the same function with
  ``logFormat: JSON`` at /json/hello, and two with ``--otlp-endpoint`` (a span per
  invocation, and an init child on a cold start, batched and exported over OTLP/HTTP by
  skylet's encoder or the SDK's). All measured in alternating rounds with the load generator
  of bench/http.py (wrk when installed).
- *async*: bench/async.py's unbatched run (256 callers enqueueing one event each, the
  dispatcher consuming them on SQLite): with a no-op hook and text logs, with the metrics hook
  (collecting EMF from the log book, folding as skylet up does) and JSON logs, and with the
  tracing hook; the runs of a round back to back, each ratio the median of the rounds'.

The receiver (bench/otlp_sink.py) runs in a process of its own and decodes every request; the
spans it counted are printed, so an exporter that dropped them would show. Budgets: ≤ 5%
throughput cost with metrics and JSON logs on, ≤ 15% with tracing on. Run:
``.venv/bin/python -m bench.observability``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import uvloop

from bench import http as bench_http
from bench.common import FUNCTIONS, free_port, machine, skylet_up, wait_http

BUDGET = 0.15
#: Metrics and JSON logs, against both off.
METRICS_BUDGET = 0.05


@contextmanager
def sink() -> Iterator[str]:
    """The OTLP receiver, in its own process; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.otlp_sink", str(port)])
    try:
        wait_http(port, "/count")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def received(url: str) -> int:
    return int(httpx.get(f"{url}/count").text)


# -- HTTP -----------------------------------------------------------------------------------


def http_rounds(receiver: str, seconds: float, rounds: int, connections: int) -> list[str]:
    load = bench_http.wrk if shutil.which("wrk") else bench_http.python_load
    generator = "wrk" if load is bench_http.wrk else "python asyncio client (wrk not installed)"
    with ExitStack() as stack:
        bare = stack.enter_context(skylet_up(FUNCTIONS, "--no-reload", "--no-metrics"))
        off = stack.enter_context(skylet_up(FUNCTIONS, "--no-reload"))
        on = stack.enter_context(skylet_up(FUNCTIONS, "--no-reload", "--otlp-endpoint", receiver))
        sdk = stack.enter_context(
            skylet_up(
                FUNCTIONS, "--no-reload", "--otlp-endpoint", receiver, "--otlp-exporter", "sdk"
            )
        )
        urls = {
            "bare": f"http://127.0.0.1:{bare}/hello",
            "observed": f"http://127.0.0.1:{off}/json/hello",
            "off": f"http://127.0.0.1:{off}/hello",
            "on": f"http://127.0.0.1:{on}/hello",
            "sdk": f"http://127.0.0.1:{sdk}/hello",
        }
        for url in urls.values():
            for _ in range(3):  # instances started, caches filled
                load(url, 1.0, connections)
        before = received(receiver)
        samples: dict[str, list[tuple[float, float, float]]] = {w: [] for w in urls}
        for _ in range(rounds):
            for which, url in urls.items():
                samples[which].append(load(url, seconds, connections))
        time.sleep(6)  # the batch processor exports every 5 s
        spans = received(receiver) - before
    rps = {w: statistics.median(s[0] for s in runs) for w, runs in samples.items()}
    p99 = {w: statistics.median(s[2] for s in runs) for w, runs in samples.items()}
    requests = sum(s[0] * seconds for w in ("on", "sdk") for s in samples[w])
    cost = 1 - rps["on"] / rps["off"]
    sdk_cost = 1 - rps["sdk"] / rps["off"]
    observed = 1 - rps["observed"] / rps["bare"]
    return [
        f"HTTP API hello world, {generator}, {connections} connections, {seconds:g} s x "
        f"{rounds} alternating rounds",
        f"  {'metrics off, text logs':<40}{rps['bare']:>10,.0f} req/s  p99 {p99['bare']:.2f} ms",
        f"  {'metrics on, JSON logs':<40}{rps['observed']:>10,.0f} req/s  "
        f"p99 {p99['observed']:.2f} ms",
        f"  metrics and JSON logs cost {observed:.1%} (budget ≤ {METRICS_BUDGET:.0%}: "
        f"{'met' if observed <= METRICS_BUDGET else 'NOT met'})",
        f"  {'tracing off (metrics on, text logs)':<40}{rps['off']:>10,.0f} req/s  "
        f"p99 {p99['off']:.2f} ms",
        f"  {'tracing on, OTLP to a local receiver':<40}{rps['on']:>10,.0f} req/s  "
        f"p99 {p99['on']:.2f} ms",
        f"  {'tracing on, the SDK own OTLP exporter':<40}{rps['sdk']:>10,.0f} req/s  "
        f"p99 {p99['sdk']:.2f} ms",
        f"  cost {cost:.1%} (budget ≤ {BUDGET:.0%}: {'met' if cost <= BUDGET else 'NOT met'}); "
        f"with the SDK's exporter {sdk_cost:.1%}; receiver decoded {spans:,} spans for "
        f"~{requests:,.0f} traced requests",
    ]


# -- async ----------------------------------------------------------------------------------


def async_pairs(receiver: str, n: int, repeats: int) -> list[str]:
    return uvloop.run(_async_pairs(receiver, n, repeats))


async def _async_pairs(receiver: str, n: int, repeats: int) -> list[str]:
    import importlib

    bench_async = importlib.import_module("bench.async")
    from skylet.aws.cloudwatch.collect import Collector
    from skylet.config import AsyncConfig, LoggingConfig, RuntimeSettings
    from skylet.events.async_invoke import AsyncInvoker
    from skylet.events.dispatcher import Dispatcher
    from skylet.events.records import RecordBook
    from skylet.invoker.hooks import Hooks, InvocationHook
    from skylet.invoker.invoker import Invoker
    from skylet.observe.logs import LogBook
    from skylet.observe.tracing import Tracing, TracingConfig
    from skylet.pool.zygote import ZygoteClient
    from skylet.store.sqlite import SqliteStore

    hello_json = dataclasses.replace(bench_async.HELLO, logging=LoggingConfig(log_format="JSON"))

    async def one(directory: Path, traced: str, observed: bool = False) -> tuple[float, float]:
        store = SqliteStore(directory / f"state-{time.monotonic_ns()}.db")
        await store.start()
        zygote = ZygoteClient()
        await zygote.start()
        # A hook in every run, as skylet up always has one (the metrics'): what is measured is
        # the tracing hook alone, not the invoker's and dispatcher's records for any hook.
        # Observed: the metrics hook instead, collecting EMF from the log book and folding in
        # the background as skylet up's does, and the function's logs in JSON.
        collector = Collector() if observed else None
        hooks = Hooks([collector or InvocationHook()])
        settings = RuntimeSettings()
        logs = LogBook()
        if collector is not None:
            logs.listen(collector.log_entry)
            await collector.start()
        invoker = Invoker(settings, zygote, logs, hooks)
        tracing = None
        if traced:
            tracing = Tracing(
                TracingConfig(receiver + "/v1/traces", exporter=traced),
                account_id=settings.account_id,
                region_of=lambda name: invoker.function(name).region,
                arn_of=invoker.function_arn,
            )
            hooks.add(tracing)
        await invoker.deploy([hello_json if observed else bench_async.HELLO])
        records = RecordBook(store)
        async_invoker = AsyncInvoker(store, records, invoker)
        dispatcher = Dispatcher(
            store, invoker, async_invoker, records, settings=bench_async.SETTINGS, hooks=hooks
        )
        await dispatcher.start()
        await dispatcher.deploy({"hello": AsyncConfig()})
        platform = bench_async.Platform(store, invoker, records, async_invoker, dispatcher)
        try:
            await invoker.invoke("hello", b"{}")
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            ids = await bench_async.unbatched(platform, n, [])
            while dispatcher.stats.succeeded < n:
                await asyncio.sleep(0.002)
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            await bench_async.verify(platform, ids)
        finally:
            await dispatcher.aclose()
            await async_invoker.aclose()
            await invoker.aclose()
            await zygote.aclose()
            await store.aclose()
            if collector is not None:
                await collector.aclose()
            if tracing is not None:
                await asyncio.to_thread(tracing.shutdown)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return n / elapsed, cpu / n * 1e6

    before = received(receiver)
    offs, ons, sdks, ratios, sdk_ratios = [], [], [], [], []
    bares, observeds, observed_ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            bare = await one(Path(tmp), traced="")
            observed = await one(Path(tmp), traced="", observed=True)
            bares.append(bare)
            observeds.append(observed)
            observed_ratios.append(observed[0] / bare[0])
            off = await one(Path(tmp), traced="")
            on = await one(Path(tmp), traced="skylet")
            sdk = await one(Path(tmp), traced="sdk")
            offs.append(off)
            ons.append(on)
            sdks.append(sdk)
            ratios.append(on[0] / off[0])
            sdk_ratios.append(sdk[0] / off[0])
    spans = received(receiver) - before
    rate_sdk = statistics.median(r for r, _ in sdks)
    cpu_sdk = statistics.median(c for _, c in sdks)
    sdk_cost = 1 - statistics.median(sdk_ratios)
    rate_off = statistics.median(r for r, _ in offs)
    rate_on = statistics.median(r for r, _ in ons)
    cost = 1 - statistics.median(ratios)
    cpu_off = statistics.median(c for _, c in offs)
    cpu_on = statistics.median(c for _, c in ons)
    observed_cost = 1 - statistics.median(observed_ratios)
    rate_bare = statistics.median(r for r, _ in bares)
    rate_observed = statistics.median(r for r, _ in observeds)
    cpu_bare = statistics.median(c for _, c in bares)
    cpu_observed = statistics.median(c for _, c in observeds)
    return [
        f"async events (bench/async.py unbatched: 256 callers, SQLite), {n:,} events x "
        f"{repeats} rounds",
        f"  {'metrics off, text logs':<40}{rate_bare:>10,.0f} events/s  "
        f"{cpu_bare:.0f} µs CPU/event",
        f"  {'metrics on, JSON logs':<40}{rate_observed:>10,.0f} events/s  "
        f"{cpu_observed:.0f} µs CPU/event",
        f"  metrics and JSON logs cost {observed_cost:.1%} (median of each run's ratio to the "
        f"run before it; budget ≤ {METRICS_BUDGET:.0%}: "
        f"{'met' if observed_cost <= METRICS_BUDGET else 'NOT met'})",
        f"  {'tracing off':<40}{rate_off:>10,.0f} events/s  {cpu_off:.0f} µs CPU/event",
        f"  {'tracing on, OTLP to a local receiver':<40}{rate_on:>10,.0f} events/s  "
        f"{cpu_on:.0f} µs CPU/event",
        f"  {'tracing on, the SDK own OTLP exporter':<40}{rate_sdk:>10,.0f} events/s  "
        f"{cpu_sdk:.0f} µs CPU/event",
        f"  cost {cost:.1%} (median of each traced run's ratio to the untraced run before it; "
        f"budget ≤ {BUDGET:.0%}: {'met' if cost <= BUDGET else 'NOT met'}); with the SDK's "
        f"exporter {sdk_cost:.1%}; receiver decoded {spans:,} spans for "
        f"{2 * n * repeats:,} traced events",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-async", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    lines = [f"the cost of observability; machine: {machine()}"]
    with sink() as receiver:
        if not args.skip_http:
            lines += http_rounds(receiver, args.seconds, args.rounds, args.connections)
        if not args.skip_async:
            lines += async_pairs(receiver, args.events, args.repeats)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
