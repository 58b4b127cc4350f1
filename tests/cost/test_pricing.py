"""Pricing: the seed's worked example, the architectures, the free tier, tiers, provisioned
concurrency and custom profiles, as tables of cases."""

from __future__ import annotations

import pytest

from skylet.cost.pricing import (
    PROFILES,
    Tier,
    Usage,
    bill,
    custom_profile,
    estimate,
    for_region,
    gb_seconds,
    parse_count,
    profile_named,
    tiered,
)
from skylet.errors import ConfigError

AWS = PROFILES["aws-us-east-1"]


def test_the_seeds_worked_example_is_ten_dollars_compute_and_one_eighty_requests() -> None:
    found = estimate(512, 200, 10_000_000)
    assert found.gb_seconds == 1_000_000
    assert round(found.bill.compute, 2) == 10.00
    assert round(found.bill.requests, 2) == 1.80
    assert round(found.bill.total, 2) == 11.80
    assert found.bill.free_gb_seconds_used == 400_000
    assert found.bill.free_requests_used == 1_000_000


@pytest.mark.parametrize(
    ("memory", "duration", "requests", "arch", "free", "compute", "request_cost"),
    [
        pytest.param(512, 200, 10e6, "x86_64", False, 16.67, 2.00, id="without-the-free-tier"),
        pytest.param(512, 200, 10e6, "arm64", True, 8.00, 1.80, id="arm64-is-20-percent-less"),
        pytest.param(128, 100, 1e6, "x86_64", True, 0.0, 0.0, id="a-small-month-is-free"),
        pytest.param(1024, 1000, 2e6, "x86_64", True, 26.67, 0.20, id="past-the-free-tier"),
        pytest.param(1769, 50, 0, "x86_64", True, 0.0, 0.0, id="no-requests-cost-nothing"),
    ],
)
def test_estimates(
    memory: int,
    duration: float,
    requests: float,
    arch: str,
    free: bool,
    compute: float,
    request_cost: float,
) -> None:
    found = estimate(memory, duration, requests, architecture=arch, free_tier=free)  # type: ignore[arg-type]
    assert round(found.bill.compute, 2) == compute
    assert round(found.bill.requests, 2) == request_cost


@pytest.mark.parametrize(
    ("billed_ms", "memory", "expected"),
    [(200, 512, 0.1), (1000, 1024, 1.0), (1, 128, 0.000125), (0, 10_240, 0.0)],
    ids=["512MB-200ms-is-a-tenth", "1GB-1s-is-one", "the-smallest-step", "nothing"],
)
def test_gb_seconds_count_a_gb_as_1024_mb(billed_ms: int, memory: int, expected: float) -> None:
    assert gb_seconds(billed_ms, memory) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        pytest.param(1e9, 1e9 * 0.0000166667, id="within-the-first-tier"),
        pytest.param(6e9, 6e9 * 0.0000166667, id="the-first-tier-exactly"),
        pytest.param(7e9, 6e9 * 0.0000166667 + 1e9 * 0.000015, id="into-the-second"),
        pytest.param(
            16e9, 6e9 * 0.0000166667 + 9e9 * 0.000015 + 1e9 * 0.0000133334, id="into-the-third"
        ),
    ],
)
def test_compute_is_priced_through_the_monthly_tiers(used: float, expected: float) -> None:
    assert tiered(used, AWS.of("x86_64").compute) == pytest.approx(expected)


def test_the_free_tier_goes_to_the_dearer_architecture_first() -> None:
    usage = Usage(0, {"x86_64": 300_000, "arm64": 300_000})
    priced = bill(usage, AWS, free_tier=True)
    # x86_64's 300,000 waived, then 100,000 of arm64's: 200,000 arm64 GB-s are billed.
    assert priced.compute == pytest.approx(200_000 * 0.0000133334)
    assert priced.free_gb_seconds_used == 400_000


def test_provisioned_concurrency_has_its_own_rates_and_no_free_tier() -> None:
    usage = Usage(0, {}, provisioned_gb_seconds={"x86_64": 3600, "arm64": 3600})
    priced = bill(usage, AWS, free_tier=True)
    assert priced.provisioned == pytest.approx(3600 * (0.0000041667 + 0.0000033334))
    assert priced.compute == 0.0
    # One 1 GB instance kept for a 30-day month: 2,592,000 GB-s, about $10.80.
    month = bill(Usage(provisioned_gb_seconds={"x86_64": 2_592_000}), AWS, free_tier=True)
    assert round(month.provisioned, 2) == 10.80


@pytest.mark.parametrize(
    ("name", "found"),
    [("aws-us-east-1", "aws-us-east-1"), ("us-west-2", "aws-us-west-2")],
    ids=["by-its-name", "by-its-region"],
)
def test_built_in_profiles_by_name_or_region(name: str, found: str) -> None:
    assert profile_named(name).name == found


def test_an_unknown_profile_names_those_there_are() -> None:
    with pytest.raises(ConfigError, match="aws-us-east-1"):
        profile_named("mars-1")


def test_a_region_without_a_profile_is_priced_as_us_east_1() -> None:
    assert for_region("eu-central-1").name == "aws-us-east-1"
    assert for_region("us-east-2").name == "aws-us-east-2"


def test_a_custom_profile_overrides_what_it_names_and_keeps_the_rest() -> None:
    made = custom_profile(
        {
            "name": "negotiated",
            "requests_per_million": 0.1,
            "free_tier": {"requests": 0},
            "arm64": {"tiers": [[1000, 0.001], [None, 0.0005]], "provisioned_gb_second": 0.0},
        }
    )
    assert made.name == "negotiated"
    assert made.free_requests == 0 and made.free_gb_seconds == 400_000
    assert made.of("x86_64") == AWS.of("x86_64")
    assert made.of("arm64").compute == (Tier(1000, 0.001), Tier(None, 0.0005))
    assert made.of("arm64").provisioned == 0.0
    assert made.of("arm64").provisioned_compute == AWS.of("arm64").provisioned_compute
    assert tiered(3000, made.of("arm64").compute) == pytest.approx(1000 * 0.001 + 2000 * 0.0005)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        pytest.param({"colour": "red"}, "pricing.yaml.colour", id="an-unknown-key"),
        pytest.param({"requests_per_million": -1}, "requests_per_million", id="a-negative-price"),
        pytest.param({"requests_per_million": "free"}, "requests_per_million", id="not-a-number"),
        pytest.param({"x86_64": {"gb_second": 1, "tiers": [[None, 1]]}}, "not both", id="both"),
        pytest.param({"x86_64": {"tiers": [[5, 1]]}}, "must be null", id="a-last-tier-limited"),
        pytest.param({"x86_64": {"tiers": [5]}}, "x86_64.tiers[0]", id="a-tier-not-a-pair"),
        pytest.param({"free_tier": {"gb": 1}}, "free_tier.gb", id="an-unknown-free-tier-key"),
        pytest.param(["x"], "not a mapping", id="not-a-mapping"),
    ],
)
def test_a_bad_custom_profile_names_the_key(data: object, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        custom_profile(data, "pricing.yaml")


@pytest.mark.parametrize(
    ("text", "count"),
    [("10M", 10e6), ("250k", 250e3), ("1.5b", 1.5e9), ("3,000,000", 3e6), ("42", 42)],
)
def test_counts_take_suffixes(text: str, count: float) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["", "ten", "-5", "1e999", "5X", "nan"])
def test_a_count_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_count(text)
