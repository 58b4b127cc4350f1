"""What Lambda usage costs: pricing profiles and the bill of a period's usage. Pure.

A :class:`Profile` is one region's (or one contract's) prices: per million requests, per
GB-second of compute in tiers, for each architecture, and for provisioned concurrency (its
configured GB-seconds, and the compute of invocations it served), with the monthly free tier.
:func:`bill` prices a :class:`Usage`; :func:`estimate` builds the usage of a steady workload
(memory x duration x requests) and prices it, as ``skylet cost estimate`` does.

The arithmetic of the seed's worked example (x86_64, us-east-1, free tier on)::

    10,000,000 requests x 0.5 GB x 0.2 s      = 1,000,000 GB-s
    (1,000,000 - 400,000 free) x $0.0000166667 = $10.00
    (10,000,000 - 1,000,000 free) / 1M x $0.20 = $1.80          total $11.80

Memory is in MB and a GB is 1,024 MB (so 512 MB is 0.5 GB), as Lambda counts it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from skylet.errors import ConfigError

Architecture = Literal["x86_64", "arm64"]
ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")
MB_PER_GB = 1024


@dataclass(frozen=True, slots=True)
class Tier:
    """GB-seconds up to ``up_to`` (a month's running total; None: no limit) at ``price``."""

    up_to: float | None
    price: float


@dataclass(frozen=True, slots=True)
class Rates:
    """One architecture's prices, in dollars: ``compute`` per GB-second in tiers;
    ``provisioned`` per GB-second of provisioned concurrency configured;
    ``provisioned_compute`` per GB-second of invocations it served."""

    compute: tuple[Tier, ...]
    provisioned: float
    provisioned_compute: float

    @property
    def gb_second(self) -> float:
        return self.compute[0].price


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    requests_per_million: float
    rates: Mapping[Architecture, Rates]
    #: The monthly free tier (both architectures together; provisioned concurrency has none).
    free_requests: float = 1_000_000
    free_gb_seconds: float = 400_000

    def of(self, architecture: Architecture) -> Rates:
        return self.rates[architecture]


def _aws(name: str) -> Profile:
    """AWS's published Lambda prices for us-east-1 (and the regions priced as it is)."""
    return Profile(
        name=name,
        requests_per_million=0.20,
        rates=MappingProxyType(
            {
                # Tiers by monthly GB-s: the first 6 B, the next 9 B, and above 15 B.
                "x86_64": Rates(
                    (Tier(6e9, 0.0000166667), Tier(15e9, 0.000015), Tier(None, 0.0000133334)),
                    provisioned=0.0000041667,
                    provisioned_compute=0.0000097222,
                ),
                # arm64 (Graviton): 20 % less; its tiers are the first 7.5 B, the next 11.25 B.
                "arm64": Rates(
                    (
                        Tier(7.5e9, 0.0000133334),
                        Tier(18.75e9, 0.0000120001),
                        Tier(None, 0.0000106667),
                    ),
                    provisioned=0.0000033334,
                    provisioned_compute=0.0000077778,
                ),
            }
        ),
    )


#: The built-in profiles, by name; ``aws-us-east-1`` is the default.
PROFILES: Mapping[str, Profile] = MappingProxyType(
    {name: _aws(name) for name in ("aws-us-east-1", "aws-us-east-2", "aws-us-west-2")}
)
DEFAULT_PROFILE = "aws-us-east-1"


def profile_named(name: str) -> Profile:
    """A built-in profile; ``aws-<region>`` or the region alone."""
    found = PROFILES.get(name) or PROFILES.get(f"aws-{name}")
    if found is None:
        raise ConfigError(
            f"pricing profile {name!r} is not built in (allowed: {', '.join(PROFILES)}, "
            "or a file with a custom profile)"
        )
    return found


def for_region(region: str) -> Profile:
    """The built-in profile of ``region``, else the default's (prices differ by region)."""
    return PROFILES.get(f"aws-{region}", PROFILES[DEFAULT_PROFILE])


@dataclass(frozen=True, slots=True)
class Usage:
    """A period's metered usage, per architecture where it is priced so. GB-seconds are
    billed milliseconds x memory (GB) / 1,000."""

    requests: float = 0
    gb_seconds: Mapping[Architecture, float] = field(default_factory=dict)
    #: Provisioned concurrency configured: instances x seconds kept x memory (GB).
    provisioned_gb_seconds: Mapping[Architecture, float] = field(default_factory=dict)
    #: Invocations served by provisioned instances (priced at their own rate).
    provisioned_compute_gb_seconds: Mapping[Architecture, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bill:
    """Dollars, unrounded: ``compute`` (on-demand GB-s after the free tier), ``requests``,
    ``provisioned`` (configured, and the compute it served)."""

    compute: float
    requests: float
    provisioned: float
    free_requests_used: float
    free_gb_seconds_used: float

    @property
    def total(self) -> float:
        return self.compute + self.requests + self.provisioned

    def document(self) -> dict[str, float]:
        return {
            "compute": self.compute,
            "requests": self.requests,
            "provisioned": self.provisioned,
            "total": self.total,
            "freeRequestsUsed": self.free_requests_used,
            "freeGbSecondsUsed": self.free_gb_seconds_used,
        }


def tiered(gb_seconds: float, tiers: tuple[Tier, ...]) -> float:
    """The price of ``gb_seconds`` through ``tiers``: each tier's share at its own price."""
    cost = 0.0
    below = 0.0
    for tier in tiers:
        top = math.inf if tier.up_to is None else tier.up_to
        share = min(gb_seconds, top) - below
        if share <= 0:
            break
        cost += share * tier.price
        below = top
    return cost


def bill(usage: Usage, profile: Profile, *, free_tier: bool) -> Bill:
    """What ``usage`` costs under ``profile``. The free tier's GB-seconds go to the dearer
    architecture first (x86_64's), which is the most they can save."""
    free_requests = min(usage.requests, profile.free_requests) if free_tier else 0.0
    requests = (usage.requests - free_requests) / 1_000_000 * profile.requests_per_million
    free_left = profile.free_gb_seconds if free_tier else 0.0
    compute = 0.0
    by_price = sorted(ARCHITECTURES, key=lambda a: -profile.of(a).gb_second)
    for arch in by_price:
        used = usage.gb_seconds.get(arch, 0.0)
        waived = min(used, free_left)
        free_left -= waived
        compute += tiered(used - waived, profile.of(arch).compute)
    provisioned = sum(
        usage.provisioned_gb_seconds.get(a, 0.0) * profile.of(a).provisioned
        + usage.provisioned_compute_gb_seconds.get(a, 0.0) * profile.of(a).provisioned_compute
        for a in ARCHITECTURES
    )
    free_used = (profile.free_gb_seconds - free_left) if free_tier else 0.0
    return Bill(compute, requests, provisioned, free_requests, free_used)


def gb_seconds(billed_ms: float, memory_mb: int) -> float:
    """512 MB for 200 ms is 0.1 GB-s."""
    return billed_ms / 1000 * memory_mb / MB_PER_GB


@dataclass(frozen=True, slots=True)
class Estimate:
    memory_mb: int
    duration_ms: float
    requests: float
    architecture: Architecture
    profile: str
    free_tier: bool
    gb_seconds: float
    bill: Bill

    def document(self) -> dict[str, Any]:
        return {
            "memoryMb": self.memory_mb,
            "durationMs": self.duration_ms,
            "requests": self.requests,
            "architecture": self.architecture,
            "profile": self.profile,
            "freeTier": self.free_tier,
            "gbSeconds": self.gb_seconds,
            "cost": self.bill.document(),
        }


def estimate(
    memory_mb: int,
    duration_ms: float,
    requests: float,
    *,
    architecture: Architecture = "x86_64",
    profile: Profile | None = None,
    free_tier: bool = True,
) -> Estimate:
    """A month of ``requests`` invocations each billed ``duration_ms`` at ``memory_mb``.
    ``duration_ms`` is billed as given (Lambda rounds each invocation up to the
    millisecond; an average is not rounded)."""
    chosen = profile or PROFILES[DEFAULT_PROFILE]
    used = requests * gb_seconds(duration_ms, memory_mb)
    priced = bill(Usage(requests, {architecture: used}), chosen, free_tier=free_tier)
    return Estimate(
        memory_mb, duration_ms, requests, architecture, chosen.name, free_tier, used, priced
    )


_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_count(text: str) -> float:
    """``10M`` → 10,000,000; ``2.5k``, ``1b``, ``300``; ConfigError otherwise."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    suffix = raw[-1:] if raw[-1:] in _SUFFIXES else ""
    number = raw[: len(raw) - len(suffix)]
    try:
        value = float(number) * _SUFFIXES[suffix]
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{text!r} is not a count (allowed: digits, with k, M or B after)")
    return value


# -- custom profiles ------------------------------------------------------------------------

_PROFILE_KEYS = ("name", "requests_per_million", "free_tier", "x86_64", "arm64")
_RATE_KEYS = ("gb_second", "tiers", "provisioned_gb_second", "provisioned_duration_gb_second")


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {value!r} is not a non-negative number")
    return float(value)


def _keys(value: object, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {value!r} is not a mapping")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(allowed)})")
    return value


def _rates(value: object, where: str, base: Rates) -> Rates:
    data = _keys(value, _RATE_KEYS, where)
    compute = base.compute
    if "gb_second" in data and "tiers" in data:
        raise ConfigError(f"{where}: give gb_second or tiers, not both")
    if "gb_second" in data:
        compute = (Tier(None, _number(data["gb_second"], f"{where}.gb_second")),)
    if "tiers" in data:
        tiers = data["tiers"]
        if not isinstance(tiers, list) or not tiers:
            raise ConfigError(f"{where}.tiers: {tiers!r} is not a list of [up_to, price]")
        made = []
        for i, tier in enumerate(tiers):
            at = f"{where}.tiers[{i}]"
            if not isinstance(tier, list | tuple) or len(tier) != 2:
                raise ConfigError(f"{at}: {tier!r} is not [up_to GB-s or null, price]")
            up_to = None if tier[0] is None else _number(tier[0], at)
            made.append(Tier(up_to, _number(tier[1], at)))
        if made[-1].up_to is not None:
            raise ConfigError(f"{where}.tiers: the last tier's up_to must be null (no limit)")
        compute = tuple(made)
    return Rates(
        compute,
        provisioned=_number(
            data.get("provisioned_gb_second", base.provisioned), f"{where}.provisioned_gb_second"
        ),
        provisioned_compute=_number(
            data.get("provisioned_duration_gb_second", base.provisioned_compute),
            f"{where}.provisioned_duration_gb_second",
        ),
    )


def custom_profile(data: object, source: str = "profile") -> Profile:
    """A profile from a mapping (a pricing file's YAML or JSON): keys as ``_PROFILE_KEYS``;
    what it leaves out is the default profile's. Errors name ``source`` and the key."""
    base = PROFILES[DEFAULT_PROFILE]
    top = _keys(data, _PROFILE_KEYS, source)
    free = _keys(top.get("free_tier", {}), ("requests", "gb_seconds"), f"{source}.free_tier")
    name = top.get("name", "custom")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}.name: {name!r} is not a name")
    return Profile(
        name=name,
        requests_per_million=_number(
            top.get("requests_per_million", base.requests_per_million),
            f"{source}.requests_per_million",
        ),
        rates=MappingProxyType(
            {
                arch: _rates(top.get(arch, {}), f"{source}.{arch}", base.of(arch))
                for arch in ARCHITECTURES
            }
        ),
        free_requests=_number(free.get("requests", base.free_requests), f"{source}.free_tier"),
        free_gb_seconds=_number(
            free.get("gb_seconds", base.free_gb_seconds), f"{source}.free_tier"
        ),
    )
