"""skylet's Prometheus metrics: plain counters, gauges and histograms kept by label values,
written out by prometheus_client's exposition (the text format, or OpenMetrics when the
``Accept`` header asks for it).

The families are skylet's own small classes, not prometheus_client's: they are updated from one
place (``aws.cloudwatch.collect``, on the event loop, off the request's path) and need no lock,
and each bounds its label sets. A family holds at most ``max_label_sets`` label sets (2,000 by
default); past that, a new label set is counted under one set whose every value is
``_overflow``, so a function deployed under ever new names costs a bounded amount of memory and
scrape. The names and labels are in docs/metrics.md.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder

#: The label sets a family keeps before it counts new ones under ``OVERFLOW``.
MAX_LABEL_SETS = 2000
OVERFLOW = "_overflow"
#: Seconds: 1 ms to 15 minutes (Lambda's longest timeout), about three buckets a decade.
DURATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
)  # fmt: skip
#: Seconds an asynchronous event waited: 10 ms to Lambda's 6 hours.
AGE_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0)

Labels = tuple[str, ...]


class _Family:
    def __init__(self, name: str, documentation: str, labels: Sequence[str], cap: int) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = tuple(labels)
        self.cap = cap
        self._overflow: Labels = tuple(OVERFLOW for _ in self.labels)

    def _key(self, values: Labels, known: dict[Labels, object]) -> Labels:
        if values in known or len(known) < self.cap:
            return values
        return self._overflow


class Counter(_Family):
    def __init__(self, name: str, documentation: str, labels: Sequence[str], cap: int) -> None:
        super().__init__(name, documentation, labels, cap)
        self.values: dict[Labels, float] = {}

    def inc(self, values: Labels, amount: float = 1.0) -> None:
        key = self._key(values, self.values)  # type: ignore[arg-type]
        self.values[key] = self.values.get(key, 0.0) + amount

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, value in self.values.items():
            family.add_metric(values, value)
        return family


class Gauge(_Family):
    def __init__(self, name: str, documentation: str, labels: Sequence[str], cap: int) -> None:
        super().__init__(name, documentation, labels, cap)
        self.values: dict[Labels, float] = {}

    def set(self, values: Labels, value: float) -> None:
        self.values[self._key(values, self.values)] = value  # type: ignore[arg-type]

    def replace(self, values: dict[Labels, float]) -> None:
        """Every label set at once (a sample of queue depths): the ones absent go."""
        kept = dict(list(values.items())[: self.cap])
        self.values = kept

    def collect(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, value in self.values.items():
            family.add_metric(values, value)
        return family


class Histogram(_Family):
    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str],
        cap: int,
        buckets: Sequence[float],
    ) -> None:
        super().__init__(name, documentation, labels, cap)
        self.bounds = tuple(buckets)
        #: Per label set: a count per bucket (the last is +Inf), then the sum.
        self.values: dict[Labels, list[float]] = {}

    def observe(self, values: Labels, value: float) -> None:
        key = self._key(values, self.values)  # type: ignore[arg-type]
        counts = self.values.get(key)
        if counts is None:
            counts = self.values[key] = [0.0] * (len(self.bounds) + 2)
        counts[bisect.bisect_left(self.bounds, value)] += 1
        counts[-1] += value

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, counts in self.values.items():
            cumulative, running = [], 0.0
            for bound, count in zip((*self.bounds, math.inf), counts, strict=False):
                running += count
                cumulative.append(("+Inf" if bound == math.inf else repr(bound), running))
            family.add_metric(values, cumulative, counts[-1])
        return family


class Registry:
    """The families, collected by prometheus_client's exposition (``collect``)."""

    def __init__(self, max_label_sets: int = MAX_LABEL_SETS) -> None:
        self.max_label_sets = max_label_sets
        self._families: list[Counter | Gauge | Histogram] = []

    def counter(self, name: str, documentation: str, labels: Sequence[str]) -> Counter:
        family = Counter(name, documentation, labels, self.max_label_sets)
        self._families.append(family)
        return family

    def gauge(self, name: str, documentation: str, labels: Sequence[str]) -> Gauge:
        family = Gauge(name, documentation, labels, self.max_label_sets)
        self._families.append(family)
        return family

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> Histogram:
        family = Histogram(name, documentation, labels, self.max_label_sets, buckets)
        self._families.append(family)
        return family

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.collect()

    def exposition(self, accept: str) -> tuple[str, bytes]:
        """The content type and body of a scrape, in the format ``accept`` asks for."""
        encoder, content_type = choose_encoder(accept)
        return content_type, encoder(self)
