"""Collect: a revision's concurrency (time-weighted) and requests per second, in 1 s buckets,
averaged over a window as Knative's collector does. Pure: every call is given ``now``
(monotonic seconds); nothing here reads a clock.

Worked numbers: 10 requests in flight for the whole of one second and none for the next give
the buckets 10.0 and 0.0; over a 2 s window the average concurrency is 5.0. A window not yet
full (the revision is younger than it) is averaged over the seconds it has, so a burst is not
diluted by seconds that were never observed.
"""

from __future__ import annotations

import math
from collections import deque

BUCKET_S = 1.0


class Collector:
    """In-flight requests as they start and end; ``averages`` for the decider."""

    def __init__(self, now: float, keep_s: float) -> None:
        self.keep_s = keep_s
        self.first = now
        self.in_flight = 0
        self._since = now  # when in_flight last changed (or was integrated)
        #: bucket index → (concurrency·seconds, requests started)
        self._buckets: deque[tuple[int, float, int]] = deque()

    def _bucket(self, index: int) -> None:
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append((index, 0.0, 0))
        while self._buckets and self._buckets[0][0] < index - self.keep_s / BUCKET_S - 1:
            self._buckets.popleft()

    def _integrate(self, now: float) -> None:
        """Add ``in_flight`` times the time since the last change to the buckets it spans."""
        start = self._since
        while start < now:
            index = math.floor(start / BUCKET_S)
            end = min(now, (index + 1) * BUCKET_S)
            self._bucket(index)
            i, area, count = self._buckets[-1]
            self._buckets[-1] = (i, area + self.in_flight * (end - start), count)
            start = end
        self._since = max(self._since, now)

    def started(self, now: float) -> None:
        self._integrate(now)
        self.in_flight += 1
        self._bucket(math.floor(now / BUCKET_S))
        i, area, count = self._buckets[-1]
        self._buckets[-1] = (i, area, count + 1)

    def ended(self, now: float) -> None:
        self._integrate(now)
        self.in_flight = max(0, self.in_flight - 1)

    def averages(self, now: float, window_s: float) -> tuple[float, float]:
        """(average concurrency, requests per second) over the last ``window_s``, or over
        the time since the collector began when that is shorter."""
        self._integrate(now)
        span = max(BUCKET_S, min(window_s, now - self.first))
        low = now - span
        area = 0.0
        count = 0
        for index, bucket_area, bucket_count in self._buckets:
            start, end = index * BUCKET_S, (index + 1) * BUCKET_S
            if end <= low:
                continue
            # A bucket the window's start cuts counts for the part inside it.
            share = 1.0 if start >= low else (end - low) / BUCKET_S
            area += bucket_area * share
            count += bucket_count if start >= low else round(bucket_count * share)
        return area / span, count / span
