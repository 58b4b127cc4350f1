"""A statistic set, as CloudWatch keeps one per datapoint: sum, count, min, max, and a sparse
log-bucket histogram that answers percentiles. Pure.

The histogram's buckets grow by ``GROWTH`` (2 %): a positive value ``v`` falls in bucket
``ceil(log(v) / log(GROWTH))``, whose bounds are ``GROWTH**(i-1)`` and ``GROWTH**i``. A
percentile is read as the midpoint of its bucket, so it is within 1 % of a value that was
really observed at that rank (``(GROWTH - 1) / (GROWTH + 1)``), and it is clipped to the set's
min and max (p0 and p100 are exact). Values of zero or below share one bucket, read as the
set's minimum. A set with only ``StatisticValues`` (no raw values) has no histogram: its
percentiles are unknown, as CloudWatch's are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GROWTH = 1.02
_LOG_GROWTH = math.log(GROWTH)
#: The bucket of values ≤ 0.
ZERO_BUCKET = -(1 << 30)


def bucket_of(value: float) -> int:
    if value <= 0.0:
        return ZERO_BUCKET
    return math.ceil(math.log(value) / _LOG_GROWTH)


def bucket_value(index: int) -> float:
    """The midpoint of bucket ``index`` (0 for the zero bucket)."""
    if index == ZERO_BUCKET:
        return 0.0
    upper = GROWTH**index
    return upper * 2.0 / (GROWTH + 1.0)


@dataclass(slots=True)
class StatSet:
    """One datapoint's statistics. ``histogram`` maps bucket → count; ``complete`` is False
    once a value was added without its histogram (``StatisticValues``)."""

    sum: float = 0.0
    count: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    histogram: dict[int, float] = field(default_factory=dict)
    complete: bool = True
    unit: str = "None"

    def add(self, value: float, count: float = 1.0) -> None:
        self.sum += value * count
        self.count += count
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        index = bucket_of(value)
        self.histogram[index] = self.histogram.get(index, 0.0) + count

    def add_statistics(self, total: float, count: float, minimum: float, maximum: float) -> None:
        """A pre-aggregated set (PutMetricData's ``StatisticValues``): no percentiles then."""
        self.sum += total
        self.count += count
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        self.complete = False

    def merge(self, other: StatSet) -> None:
        self.sum += other.sum
        self.count += other.count
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        for index, count in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0.0) + count
        self.complete = self.complete and other.complete
        if other.unit != "None":
            self.unit = other.unit

    @property
    def average(self) -> float:
        return self.sum / self.count if self.count else 0.0

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0 to 100), or None when it cannot be known."""
        if not self.complete or self.count <= 0 or not self.histogram:
            return None
        if p <= 0:
            return self.minimum
        if p >= 100:
            return self.maximum
        rank = p / 100.0 * self.count
        seen = 0.0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                value = self.minimum if index == ZERO_BUCKET else bucket_value(index)
                return min(max(value, self.minimum), self.maximum)
        return self.maximum

    def statistic(self, name: str) -> float | None:
        """``Sum``, ``SampleCount``, ``Average``, ``Minimum``, ``Maximum`` or ``pNN(.N)``."""
        if name == "Sum":
            return self.sum
        if name == "SampleCount":
            return self.count
        if name == "Average":
            return self.average
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        wanted = percentile_of(name)
        return None if wanted is None else self.percentile(wanted)

    def to_json(self) -> dict[str, Any]:
        return {
            "s": self.sum,
            "n": self.count,
            "lo": self.minimum,
            "hi": self.maximum,
            "h": {str(k): v for k, v in self.histogram.items()},
            "c": self.complete,
            "u": self.unit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatSet:
        return cls(
            float(data["s"]),
            float(data["n"]),
            float(data["lo"]),
            float(data["hi"]),
            {int(k): float(v) for k, v in data["h"].items()},
            bool(data["c"]),
            str(data.get("u", "None")),
        )


def merged(sets: Iterable[StatSet]) -> StatSet:
    total = StatSet()
    for one in sets:
        total.merge(one)
    return total


def percentile_of(statistic: str) -> float | None:
    """90.0 for ``p90``, 99.9 for ``p99.9``; None if ``statistic`` is not a percentile."""
    if len(statistic) < 2 or statistic[0] != "p":
        return None
    try:
        value = float(statistic[1:])
    except ValueError:
        return None
    return value if 0.0 <= value <= 100.0 else None
