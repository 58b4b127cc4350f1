"""The metering hook: each REPORT's billed duration and GB-seconds in its function's hour,
memory size and architecture; inits counted; tuning variants never metered; provisioned
instances metered by the seconds they are kept; the free tier left to the totals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skylet.config import FunctionConfig
from skylet.cost.ledger import Bucket, Counts
from skylet.cost.meter import Meter
from skylet.cost.pricing import PROFILES
from skylet.cost.reports import report, window
from skylet.errors import InvalidParameterValue
from skylet.invoker.hooks import InvocationRecord
from skylet.invoker.report import Report

T0 = 1_700_002_800  # an hour's start
AWS = PROFILES["aws-us-east-1"]


def record(
    fn: str = "f",
    *,
    at: float = T0 + 5,
    duration_ms: float = 3.2,
    memory_mb: int = 512,
    init_ms: float | None = None,
    arch: str = "x86_64",
    error: str | None = None,
) -> InvocationRecord:
    report = Report("r", duration_ms, memory_mb, 40, init_ms=init_ms)
    return InvocationRecord(fn, "r", at, init_ms is not None, error, report, architecture=arch)


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


def test_a_cold_start_bills_its_init_with_its_run() -> None:
    meter = Meter()
    meter.completed(record(init_ms=120.3, duration_ms=3.2))  # 123.5 ms: 124 billed
    meter.completed(record(duration_ms=3.2))  # 4 billed
    [(bucket, counts)] = meter.pending.items()
    assert bucket == Bucket("f", T0, 512, "x86_64")
    assert (counts.requests, counts.billed_ms, counts.cold_starts) == (2, 128, 1)
    assert counts.init_ms == pytest.approx(120.3)
    assert counts.gb_seconds == pytest.approx(128 / 1000 * 0.5)


@pytest.mark.parametrize(
    ("records", "buckets"),
    [
        pytest.param(
            [record(at=T0 + 1), record(at=T0 + 3599), record(at=T0 + 3600)],
            {Bucket("f", T0, 512, "x86_64"): 2, Bucket("f", T0 + 3600, 512, "x86_64"): 1},
            id="by-hour",
        ),
        pytest.param(
            [record(memory_mb=128), record(memory_mb=1024), record(arch="arm64")],
            {
                Bucket("f", T0, 128, "x86_64"): 1,
                Bucket("f", T0, 1024, "x86_64"): 1,
                Bucket("f", T0, 512, "arm64"): 1,
            },
            id="by-memory-and-architecture",
        ),
        pytest.param(
            [record("f"), record("g"), record("f--tune-256")],
            {Bucket("f", T0, 512, "x86_64"): 1, Bucket("g", T0, 512, "x86_64"): 1},
            id="by-function-tuning-variants-not-metered",
        ),
    ],
)
def test_usage_is_kept_in_buckets(
    records: list[InvocationRecord], buckets: dict[Bucket, int]
) -> None:
    meter = Meter()
    for r in records:
        meter.completed(r)
    assert {b: c.requests for b, c in meter.pending.items()} == buckets


def test_an_invocation_on_a_provisioned_instance_is_its_compute() -> None:
    meter = Meter()
    meter.completed(record(duration_ms=999.1))
    provisioned = record(duration_ms=999.1)
    meter.completed(dataclasses.replace(provisioned, provisioned=True))
    [counts] = meter.pending.values()
    assert counts.gb_seconds == pytest.approx(2 * 0.5)
    assert counts.provisioned_compute_gb_seconds == pytest.approx(0.5)
    document = report(meter.pending, AWS, period="24h", start=T0, end=T0 + 60)
    priced = document["functions"][0]["cost"]
    assert priced["compute"] == pytest.approx(0.5 * 0.0000166667)
    assert priced["provisioned"] == pytest.approx(0.5 * 0.0000097222)


def test_errors_are_billed_and_counted() -> None:
    meter = Meter()
    meter.completed(record(error="Unhandled"))
    [counts] = meter.pending.values()
    assert (counts.requests, counts.errors) == (1, 1)


class Deployed:
    def __init__(self, *functions: FunctionConfig) -> None:
        self.deployed = list(functions)

    def functions(self) -> list[FunctionConfig]:
        return self.deployed


def test_provisioned_instances_are_metered_for_the_seconds_they_are_kept() -> None:
    clock = Clock()
    meter = Meter(clock=clock)
    warm = FunctionConfig("warm", "h.h", Path(), memory_mb=2048, provisioned_concurrency=3)
    cold = FunctionConfig("cold", "h.h", Path(), memory_mb=2048)
    meter.functions = Deployed(warm, cold)
    meter.sample()  # the first sample only starts the clock
    assert meter.pending == {}
    clock.now += 10
    meter.sample()
    [(bucket, counts)] = meter.pending.items()
    assert bucket == Bucket("warm", T0, 2048, "x86_64")
    assert counts.provisioned_s == 30  # 3 instances, 10 s
    assert counts.provisioned_gb_seconds == 60  # of 2 GB each
    assert counts.requests == 0


def test_a_report_prices_rows_without_the_free_tier_and_the_total_with_it() -> None:
    counts = {
        Bucket("a", T0, 1024, "x86_64"): Counts(requests=600_000, gb_seconds=300_000),
        Bucket("b", T0, 1024, "arm64"): Counts(requests=600_000, gb_seconds=300_000),
    }
    document = report(counts, AWS, period="month", start=T0, end=T0 + 60)
    a, b = document["functions"]
    assert a["cost"]["compute"] == pytest.approx(300_000 * 0.0000166667)
    assert b["cost"]["compute"] == pytest.approx(300_000 * 0.0000133334)
    total = document["total"]["cost"]
    assert document["freeTier"] is True
    assert total["compute"] == pytest.approx(200_000 * 0.0000133334)
    assert total["requests"] == pytest.approx(0.2 * 0.2)
    day = report(counts, AWS, period="24h", start=T0, end=T0 + 60)
    assert day["freeTier"] is False
    assert day["total"]["cost"]["total"] == pytest.approx(a["cost"]["total"] + b["cost"]["total"])


@pytest.mark.parametrize(
    ("period", "start"),
    [
        ("1h", T0 + 100 - 3600),
        ("24h", T0 + 100 - 86_400),
        ("30d", T0 + 100 - 30 * 86_400),
        ("month", 1_698_796_800),  # 2023-11-01T00:00:00Z; T0 is 2023-11-14T23:00Z
    ],
)
def test_periods_end_now(period: str, start: float) -> None:
    assert window(period, T0 + 100) == (start, T0 + 100)


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="period"):
        window("2h", T0)
