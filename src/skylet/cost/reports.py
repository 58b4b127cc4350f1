"""``GET /_skylet/cost``: a period's metered usage per function, priced (the admin API's
document, which ``skylet cost`` prints).

Each function's row is priced without the free tier (which is the account's, not a
function's); the totals are priced with it when it applies: by default for ``month`` (the
calendar month so far, as AWS applies it), never for a shorter period unless asked.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from skylet.cost.ledger import Bucket, Counts
from skylet.cost.pricing import Architecture, Bill, Profile, Usage, bill
from skylet.errors import InvalidParameterValue

PERIODS = ("1h", "24h", "30d", "month")


def window(period: str, now: float) -> tuple[float, float]:
    """[start, end) of ``period`` ending ``now``; ``month``: from the calendar month's start
    (UTC). Pure."""
    if period == "1h":
        return now - 3600, now
    if period == "24h":
        return now - 86_400, now
    if period == "30d":
        return now - 30 * 86_400, now
    if period == "month":
        t = time.gmtime(now)
        return float(calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))), now
    raise InvalidParameterValue(f"period={period!r} is not one of {', '.join(PERIODS)}")


def usage_of(counts: Mapping[Bucket, Counts]) -> Usage:
    requests = 0.0
    gb: dict[Architecture, float] = {}
    provisioned: dict[Architecture, float] = {}
    served: dict[Architecture, float] = {}
    for bucket, c in counts.items():
        arch = _arch(bucket.architecture)
        requests += c.requests
        gb[arch] = gb.get(arch, 0.0) + c.gb_seconds - c.provisioned_compute_gb_seconds
        provisioned[arch] = provisioned.get(arch, 0.0) + c.provisioned_gb_seconds
        served[arch] = served.get(arch, 0.0) + c.provisioned_compute_gb_seconds
    return Usage(requests, gb, provisioned, served)


def _arch(name: str) -> Architecture:
    return "arm64" if name == "arm64" else "x86_64"


def _row(name: str, counts: Mapping[Bucket, Counts], priced: Bill) -> dict[str, Any]:
    total = Counts()
    sizes: dict[tuple[int, str], Counts] = {}
    for bucket, c in counts.items():
        total.merge(c)
        sizes.setdefault((bucket.memory_mb, bucket.architecture), Counts()).merge(c)
    return {
        "function": name,
        "requests": total.requests,
        "billedMs": total.billed_ms,
        "initMs": total.init_ms,
        "coldStarts": total.cold_starts,
        "errors": total.errors,
        "gbSeconds": total.gb_seconds,
        "provisionedGbSeconds": total.provisioned_gb_seconds,
        "provisionedComputeGbSeconds": total.provisioned_compute_gb_seconds,
        "cost": priced.document(),
        "sizes": [
            {
                "memoryMb": m,
                "architecture": a,
                "requests": c.requests,
                "billedMs": c.billed_ms,
                "gbSeconds": c.gb_seconds,
                "provisionedGbSeconds": c.provisioned_gb_seconds,
                "provisionedComputeGbSeconds": c.provisioned_compute_gb_seconds,
            }
            for (m, a), c in sorted(sizes.items())
        ],
    }


def report(
    counts: Mapping[Bucket, Counts],
    profile: Profile,
    *,
    period: str,
    start: float,
    end: float,
    free_tier: bool | None = None,
) -> dict[str, Any]:
    """The document of ``counts`` (one period's buckets). Pure."""
    by_function: dict[str, dict[Bucket, Counts]] = {}
    for bucket, c in counts.items():
        by_function.setdefault(bucket.function, {})[bucket] = c
    free = period == "month" if free_tier is None else free_tier
    rows = [
        _row(name, found, bill(usage_of(found), profile, free_tier=False))
        for name, found in sorted(by_function.items())
    ]
    return {
        "period": period,
        "start": start,
        "end": end,
        "profile": profile.name,
        "freeTier": free,
        "functions": rows,
        "total": _row("", counts, bill(usage_of(counts), profile, free_tier=free)),
    }


class Metered(Protocol):
    async def read(
        self, start: float, end: float, function: str | None = None
    ) -> Mapping[Bucket, Counts]: ...


class CostDesk:
    """What the admin API asks for cost: usage read through the meter, priced with the
    profile ``profile()`` gives (the platform's, which may follow the manifest's region)."""

    def __init__(
        self,
        meter: Metered,
        profile: Callable[[], Profile],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.meter = meter
        self.profile = profile
        self.clock = clock

    async def report(
        self,
        function: str | None,
        period: str,
        *,
        profile: Profile | None = None,
        free_tier: bool | None = None,
    ) -> dict[str, Any]:
        start, end = window(period, self.clock())
        counts = await self.meter.read(start, end, function)
        return report(
            counts,
            profile or self.profile(),
            period=period,
            start=start,
            end=end,
            free_tier=free_tier,
        )
