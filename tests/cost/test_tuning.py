"""Power tuning's table: trimmed averages, percentiles, cost per invocation and per million,
and the cheapest and fastest sizes, as tables of cases."""

from __future__ import annotations

import math

import pytest

from skylet.cost.pricing import PROFILES
from skylet.cost.tuning import Sample, percentile, table, trimmed

AWS = PROFILES["aws-us-east-1"]
REQUEST = 0.20 / 1e6


def steady(memory: int, ms: int, n: int = 5, errors: int = 0) -> Sample:
    return Sample(memory, [ms - 0.5] * n, [ms] * n, errors)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([3, 1, 2], 50, 2),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 50, 50),
        ([7], 99, 7),
    ],
    ids=["median-of-three", "p99-of-a-hundred", "p50-of-a-hundred", "one-value"],
)
def test_percentiles_are_nearest_rank(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected


def test_no_values_have_no_percentile() -> None:
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize(
    ("values", "kept"),
    [
        ([5, 1, 3, 2], [1, 2, 3, 5]),
        ([100, 1, 2, 3, 4], [2, 3, 4]),
        (list(range(10)), [2, 3, 4, 5, 6, 7]),
    ],
    ids=["under-five-all-kept", "five-drop-one-each-end", "ten-drop-two-each-end"],
)
def test_the_fastest_and_slowest_fifth_are_dropped(values: list[float], kept: list[float]) -> None:
    assert trimmed(values) == kept


@pytest.mark.parametrize(
    ("samples", "cheapest", "fastest"),
    [
        pytest.param(
            [steady(128, 800), steady(256, 400), steady(512, 210), steady(1024, 200)],
            256,  # 128 and 256 cost the same GB-s; the faster wins the tie
            1024,
            id="cpu-bound-until-512",
        ),
        pytest.param(
            [steady(128, 50), steady(1024, 50)], 128, 128, id="io-bound-the-smallest-wins-both"
        ),
        pytest.param(
            [steady(128, 10, errors=1), steady(256, 20)], 256, 256, id="a-failing-size-is-skipped"
        ),
        pytest.param([steady(128, 10, errors=5)], None, None, id="every-size-failed"),
    ],
)
def test_recommendations(samples: list[Sample], cheapest: int | None, fastest: int | None) -> None:
    found = table(samples, AWS, "x86_64")
    assert (found.cheapest, found.fastest) == (cheapest, fastest)


def test_a_row_costs_its_average_billed_gb_seconds_and_a_request() -> None:
    sample = Sample(512, [9.5, 10.5, 11.5, 12.5, 100.0], [10, 11, 12, 13, 101])
    [row] = table([sample], AWS, "arm64").rows
    assert row.invocations == 5
    assert row.avg_ms == pytest.approx((10.5 + 11.5 + 12.5) / 3)  # 9.5 and 100 dropped
    assert row.p50_ms == 11.5 and row.p99_ms == 100.0
    billed = (11 + 12 + 13) / 3
    assert row.cost == pytest.approx(billed / 1000 * 0.5 * 0.0000133334 + REQUEST)
    assert row.cost_per_million == pytest.approx(row.cost * 1e6)


def test_rows_are_in_order_of_memory() -> None:
    found = table([steady(1024, 5), steady(128, 9), steady(512, 6)], AWS, "x86_64")
    assert [r.memory_mb for r in found.rows] == [128, 512, 1024]
    assert found.document()["results"][0]["memoryMb"] == 128
