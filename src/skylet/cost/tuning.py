"""Power tuning's result table (``skylet tune``), from the durations measured at each memory
size, as AWS Lambda Power Tuning computes it. Pure.

Per size: the average of the billed durations after dropping the fastest and slowest 20 %
(Power Tuning's ``discardTopBottom``, when there are at least 5), p50 and p99 of all of them,
and the cost of one invocation: the average billed duration x memory x the GB-second price,
plus one request's price (cost per million is that x 1,000,000). The cheapest size is the one
of the lowest cost (ties: the faster), the fastest the one of the lowest average (ties: the
cheaper); a size where an invocation failed is shown and never recommended.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from skylet.cost.pricing import Architecture, Profile, gb_seconds

DISCARD = 0.2


@dataclass(frozen=True, slots=True)
class Sample:
    """What the invocations at one memory size measured: each one's duration (ms, the
    REPORT's) and billed duration (ms), and how many failed."""

    memory_mb: int
    durations_ms: Sequence[float]
    billed_ms: Sequence[int]
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Row:
    memory_mb: int
    invocations: int
    errors: int
    avg_ms: float
    p50_ms: float
    p99_ms: float
    cost: float  # dollars per invocation

    @property
    def cost_per_million(self) -> float:
        return self.cost * 1_000_000

    def document(self) -> dict[str, Any]:
        return {
            "memoryMb": self.memory_mb,
            "invocations": self.invocations,
            "errors": self.errors,
            "avgMs": self.avg_ms,
            "p50Ms": self.p50_ms,
            "p99Ms": self.p99_ms,
            "costPerInvocation": self.cost,
            "costPerMillion": self.cost_per_million,
        }


@dataclass(frozen=True, slots=True)
class Result:
    rows: tuple[Row, ...]
    cheapest: int | None  # a memory size, None when every size failed
    fastest: int | None

    def document(self) -> dict[str, Any]:
        return {
            "results": [r.document() for r in self.rows],
            "cheapest": self.cheapest,
            "fastest": self.fastest,
        }


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value at least ``p`` % of them are at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def trimmed(values: Sequence[float], discard: float = DISCARD) -> list[float]:
    """``values`` without the lowest and highest ``discard`` share (from 5 values on)."""
    ordered = sorted(values)
    if len(ordered) < 5:
        return ordered
    cut = int(len(ordered) * discard)
    return ordered[cut : len(ordered) - cut]


def row(sample: Sample, profile: Profile, architecture: Architecture) -> Row:
    kept = trimmed([float(b) for b in sample.billed_ms])
    billed = sum(kept) / len(kept) if kept else math.nan
    durations = trimmed(sample.durations_ms)
    avg = sum(durations) / len(durations) if durations else math.nan
    price = profile.of(architecture).gb_second
    cost = gb_seconds(billed, sample.memory_mb) * price + profile.requests_per_million / 1e6
    return Row(
        sample.memory_mb,
        len(sample.durations_ms),
        sample.errors,
        avg,
        percentile(sample.durations_ms, 50),
        percentile(sample.durations_ms, 99),
        cost,
    )


def table(samples: Sequence[Sample], profile: Profile, architecture: Architecture) -> Result:
    rows = tuple(row(s, profile, architecture) for s in sorted(samples, key=lambda s: s.memory_mb))
    good = [r for r in rows if r.errors == 0 and r.invocations > 0]
    cheapest = min(good, key=lambda r: (r.cost, r.avg_ms), default=None)
    fastest = min(good, key=lambda r: (r.avg_ms, r.cost), default=None)
    return Result(
        rows,
        cheapest.memory_mb if cheapest else None,
        fastest.memory_mb if fastest else None,
    )
