"""Statistic sets: the five statistics, merging, and percentiles within their stated error."""

from __future__ import annotations

import random

import pytest

from skylet.aws.cloudwatch.stats import StatSet, merged, percentile_of


def test_the_five_statistics() -> None:
    stats = StatSet()
    for value in (4.0, 1.0, 7.0):
        stats.add(value)
    assert [
        stats.statistic(s) for s in ("Sum", "SampleCount", "Average", "Minimum", "Maximum")
    ] == [
        12.0,
        3.0,
        4.0,
        1.0,
        7.0,
    ]


@pytest.mark.parametrize("p", [50, 90, 99, 99.9])
def test_percentiles_are_within_one_percent_of_the_exact_rank(p: float) -> None:
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(3, 1.5) for _ in range(20_000))
    halves = StatSet(), StatSet()
    for index, value in enumerate(values):
        halves[index % 2].add(value)
    stats = merged(halves)
    exact = values[max(0, int(p / 100 * len(values)) - 1)]
    estimate = stats.percentile(p)
    assert estimate is not None and abs(estimate - exact) / exact <= 0.011


def test_counts_weigh_values_and_zero_falls_in_its_own_bucket() -> None:
    stats = StatSet()
    stats.add(0.0, 90)
    stats.add(100.0, 10)
    assert stats.percentile(50) == 0.0
    assert stats.percentile(95) == pytest.approx(100.0, rel=0.01)
    assert stats.average == 10.0


def test_statistic_values_alone_have_no_percentiles() -> None:
    stats = StatSet()
    stats.add_statistics(total=30.0, count=3.0, minimum=5.0, maximum=15.0)
    assert stats.statistic("Average") == 10.0
    assert stats.statistic("p99") is None


def test_a_set_survives_its_json() -> None:
    stats = StatSet(unit="Milliseconds")
    stats.add(3.5, 2)
    again = StatSet.from_json(stats.to_json())
    assert again == stats


@pytest.mark.parametrize(
    ("name", "expected"),
    [("p99", 99.0), ("p99.9", 99.9), ("p0", 0.0), ("p101", None), ("Sum", None), ("pX", None)],
)
def test_percentile_names(name: str, expected: float | None) -> None:
    assert percentile_of(name) == expected
