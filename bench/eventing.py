"""Event routing, in one run on one machine:

- PutEvents → matched target function start: a stock boto3 ``events`` client sends one entry
  at a time to ``skylet up``; the function (kept warm, one provisioned instance) notes when it
  started; p50/p99 of start - send;
- rule matching: events x rules evaluated per second with 1, 100 and 1,000 rules, through the
  rule index (``aws/eventbridge/delivery.matched``) beside a naive evaluation (every rule's
  compiled pattern checked one by one) in the same run; rules on distinct sources, rules on
  one source each pinning its own ``detail.kind``, and rules that pin no field to exact strings
  (the index cannot rule any out: every rule is evaluated);
- schedule lateness: the scheduler on a SQLite store, ``--schedules`` rules due on the same
  minute, each fire a durable queue send; p50/p99 of fire - due second (waits up to a minute
  for the next minute to begin);
- the broker (Knative Eventing's ingress → trigger delivery), from ``bench/broker.py`` when it
  exists (``broker_figures``).

    python -m bench.eventing [--events 300] [--schedules 50] [--no-schedule]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import machine, percentile, skylet_up

HANDLER = """
import json, time

def started(event, context):
    now = time.time()
    with open("starts.log", "a") as out:
        out.write(json.dumps([event["detail"]["n"], now]) + "\\n")
"""
MANIFEST = """
service: eventbench
provider: {name: aws, region: us-east-1}
functions:
  started:
    handler: started.started
    provisionedConcurrency: 1
    events:
      - eventBridge:
          pattern: {source: [bench]}
"""
BUDGET_START_P50_MS = 5.0
BUDGET_RULES_RATIO = 10.0


def put_events_to_start(count: int) -> list[float]:
    """Milliseconds from each PutEvents sent to its function's start (after 20 warm-ups)."""
    import boto3
    from botocore.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "started.py").write_text(HANDLER)
        (project / "serverless.yml").write_text(MANIFEST)
        sent: dict[int, float] = {}
        # The handler notes each start in a project file, which no sandbox lets a function
        # write: this measures routing, not the sandbox.
        with skylet_up(project, "--no-reload", "--no-sandbox", "--quiet") as port:
            client = boto3.client(
                "events",
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 0}),
            )
            log = project / "starts.log"
            for n in range(count + 20):
                detail = json.dumps({"n": n})
                sent[n] = time.time()
                client.put_events(
                    Entries=[{"Source": "bench", "DetailType": "b", "Detail": detail}]
                )
                _wait_lines(log, n + 1)  # one at a time: the latency of an idle platform
            client.close()
            starts = {n: t for n, t in (json.loads(line) for line in log.read_text().splitlines())}
    return [(starts[n] - sent[n]) * 1000 for n in range(20, count + 20) if n in starts]


def _wait_lines(log: Path, lines: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and log.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.0002)


CASES = ("distinct sources", "one source, own kind", "nothing exact")


def _pattern(case: str, i: int) -> dict[str, Any]:
    detail: dict[str, Any] = {"total": [{"numeric": [">", i % 50]}], "state": [{"prefix": "paid"}]}
    if case == "distinct sources":
        return {"source": [f"app{i}"], "detail-type": ["Order Placed"], "detail": detail}
    if case == "one source, own kind":
        return {"source": ["app"], "detail": {**detail, "kind": [f"k{i}"]}}
    # No field pinned to exact strings: the index cannot rule a rule out.
    return {"source": [{"prefix": "app"}], "detail": detail}


def _rules(count: int, case: str) -> list[Any]:
    from skylet.aws.eventbridge.catalog import LiveRule, Rule
    from skylet.aws.eventbridge.pattern import parse

    rules = []
    for i in range(count):
        text = json.dumps(_pattern(case, i))
        rules.append(LiveRule(Rule("default", f"r{i}", text), parse(text)))
    return rules


def _events(count: int, rules: int, case: str) -> list[dict[str, Any]]:
    return [
        {
            "version": "0",
            "id": str(n),
            "detail-type": "Order Placed",
            "source": f"app{n % rules}" if case == "distinct sources" else "app",
            "account": "000000000000",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "total": n % 100,
                "state": "paid-in-full",
                "kind": f"k{n % rules}",
                "items": [1, 2, 3],
            },
        }
        for n in range(count)
    ]


def _time_per_event(events: list[dict[str, Any]], match: Callable[[Any], int]) -> float:
    """Seconds per event, the best of three passes."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for event in events:
            match(event)
        best = min(best, (time.perf_counter() - started) / len(events))
    return best


def matching(rule_counts: tuple[int, ...] = (1, 100, 1000)) -> list[tuple[str, int, float, float]]:
    """(case, rules, indexed s/event, naive s/event) per case and rule count."""
    from skylet.aws.eventbridge.catalog import RuleIndex
    from skylet.aws.eventbridge.delivery import matched

    rows = []
    for case in CASES:
        for count in rule_counts:
            live = _rules(count, case)
            index = RuleIndex(live)
            events = _events(max(200, 20_000 // count), count, case)

            def indexed(event: Any, index: RuleIndex = index) -> int:
                return len(matched(index, event))

            def naive(event: Any, live: list[Any] = live) -> int:
                return sum(1 for rule in live if rule.pattern.matches(event))

            assert all(indexed(e) == naive(e) for e in events[:50]), "the index changed results"
            rows.append(
                (case, count, _time_per_event(events, indexed), _time_per_event(events, naive))
            )
    return rows


async def _lateness(schedules: int) -> tuple[list[float], list[float]]:
    """Milliseconds after the due second each fire began, and each was durable."""
    from skylet.manifest import ScheduleExpression
    from skylet.schedules.plan import Schedule
    from skylet.schedules.scheduler import Scheduler
    from skylet.schedules.timetable import Timetable
    from skylet.store.sqlite import SqliteStore

    late: list[float] = []
    durable: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        await store.start()
        await store.create_queue("fires")

        async def fire(schedule: Schedule, due: datetime) -> None:
            fired = time.time()
            await store.send("fires", schedule.name.encode())  # durable, as an enqueue is
            late.append((fired - due.timestamp()) * 1000)
            durable.append((time.time() - due.timestamp()) * 1000)

        expression = ScheduleExpression.parse("cron(* * * * ? *)")
        every_minute = tuple(
            Schedule(f"s{i}", "fn", expression, Timetable.compile(expression))
            for i in range(schedules)
        )
        scheduler = Scheduler(store, fire)
        await scheduler.start()
        await scheduler.deploy(every_minute)
        deadline = time.monotonic() + 75
        while len(late) < schedules and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await scheduler.aclose()
        await store.aclose()
    return late, durable


def broker_figures() -> list[str]:
    """The broker's lines, from ``bench/broker.py``'s ``figures()`` (the broker's engineer
    writes it): ingress → trigger delivery p50/p99 and events/s."""
    try:
        broker = importlib.import_module("bench.broker")
    except ModuleNotFoundError:
        return ["  broker: bench/broker.py is not written yet"]
    figures = getattr(broker, "figures", None)
    return list(figures()) if callable(figures) else ["  broker: bench/broker.py has no figures()"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--schedules", type=int, default=50)
    parser.add_argument("--no-schedule", action="store_true")
    args = parser.parse_args()
    print(f"eventing\n  machine: {machine()}")

    latencies = put_events_to_start(args.events)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    verdict = "within" if p50 <= BUDGET_START_P50_MS else "OVER"
    print(
        f"  PutEvents sent → target function start: n={len(latencies)} p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms ({verdict} the p50 ≤ {BUDGET_START_P50_MS:g} ms budget)"
    )

    print("  rule matching, one event against N rules (best of 3 passes):")
    print(
        f"    {'case':<22}{'rules':>6}{'indexed µs/ev':>15}{'naive µs/ev':>13}"
        f"{'indexed evxrules/s':>20}{'naive evxrules/s':>18}{'vs 1 rule':>11}"
    )
    rows = matching()
    one: dict[str, float] = {}
    for case, count, indexed, naive in rows:
        one.setdefault(case, indexed)
        ratio = indexed / one[case]
        flag = "" if count == 1 or ratio <= BUDGET_RULES_RATIO else "  OVER budget"
        print(
            f"    {case:<22}{count:>6}{indexed * 1e6:>15.1f}{naive * 1e6:>13.1f}"
            f"{count / indexed:>20,.0f}{count / naive:>18,.0f}{ratio:>10.1f}x{flag}"
        )
    print(f"    budget: 1,000 rules ≤ {BUDGET_RULES_RATIO:g}x one rule per event")

    if not args.no_schedule:
        late, durable = asyncio.run(_lateness(args.schedules))
        if late:
            print(
                f"  schedule lateness after the due second ({args.schedules} rules due together):"
                f" n={len(late)} fire begun p50 {percentile(late, 50):.1f} ms,"
                f" p99 {percentile(late, 99):.1f} ms; its send durable p50"
                f" {percentile(durable, 50):.1f} ms, p99 {percentile(durable, 99):.1f} ms"
                " (budget p99 ≤ 100 ms)"
            )
    for line in broker_figures():
        print(line)


if __name__ == "__main__":
    main()
