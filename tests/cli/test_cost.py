"""``skylet cost estimate`` (the seed's worked example, to the cent), and the tables ``skylet
cost`` and ``skylet tune`` print, from their documents."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from skylet.cli.cost import cost, cost_rows, dollars, tune_rows


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cost, ["estimate", *args])
    return result.exit_code, result.output


def test_the_seeds_worked_example_prints_its_breakdown() -> None:
    status, printed = run("--memory", "512", "--duration-ms", "200", "--requests", "10M")
    assert status == 0, printed
    assert printed.splitlines() == [
        "10,000,000 requests x 0.5 GB x 0.2 s = 1,000,000.00 GB-s (x86_64, aws-us-east-1)",
        "compute:  (1,000,000.00 - 400,000 free) GB-s x $0.0000166667 = $10.00",
        "requests: (10,000,000 - 1,000,000 free) / 1M x $0.20 = $1.80",
        "total:    $10.00 compute + $1.80 requests = $11.80/month",
    ]


def test_an_estimate_as_json_without_the_free_tier_on_arm64() -> None:
    status, printed = run(
        *("--memory", "1024", "--duration-ms", "100", "--requests", "2.5M"),
        *("--arch", "arm64", "--no-free-tier", "--json"),
    )
    assert status == 0, printed
    document = json.loads(printed)
    assert document["gbSeconds"] == 250_000
    assert document["cost"]["compute"] == pytest.approx(250_000 * 0.0000133334)
    assert document["cost"]["requests"] == pytest.approx(0.5)
    assert document["requests"] == 2_500_000


@pytest.mark.parametrize(
    "args",
    [
        ("--memory", "64", "--duration-ms", "1", "--requests", "1"),
        ("--memory", "128", "--duration-ms", "1", "--requests", "lots"),
        ("--memory", "128", "--duration-ms", "1", "--requests", "1", "--profile", "mars-1"),
    ],
    ids=["memory-below-128", "requests-not-a-count", "an-unknown-profile"],
)
def test_bad_options_are_refused(args: tuple[str, ...]) -> None:
    status, _ = run(*args)
    assert status != 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [(11.8, "$11.80"), (0.0, "$0.00"), (0.0000213, "$0.000021"), (1234.5, "$1,234.50")],
)
def test_dollars_show_cents_and_below_a_cent_enough_digits(value: float, shown: str) -> None:
    assert dollars(value) == shown


def _row(name: str, requests: int, total: float) -> dict[str, object]:
    bill = {"compute": total / 2, "requests": total / 2, "provisioned": 0.0, "total": total}
    return {
        "function": name,
        "requests": requests,
        "gbSeconds": 1.5,
        "billedMs": 1500,
        "cost": bill,
    }


def test_the_cost_table_has_a_row_per_function_and_the_total() -> None:
    document = {
        "functions": [_row("a", 1200, 0.5), _row("b", 3, 0.25)],
        "total": _row("", 1203, 0.75),
    }
    assert cost_rows(document) == [
        ["a", "1,200", "1.500", "1,500", "$0.25", "$0.25", "$0.00", "$0.50"],
        ["b", "3", "1.500", "1,500", "$0.12", "$0.12", "$0.00", "$0.25"],
        ["total", "1,203", "1.500", "1,500", "$0.38", "$0.38", "$0.00", "$0.75"],
    ]


def test_the_tuning_table_marks_the_cheapest_and_fastest_sizes() -> None:
    def result(mb: int, avg: float, cost: float) -> dict[str, object]:
        return {
            "memoryMb": mb,
            "avgMs": avg,
            "p50Ms": avg,
            "p99Ms": avg,
            "errors": 0,
            "costPerInvocation": cost,
            "costPerMillion": cost * 1e6,
        }

    document = {
        "results": [result(128, 800, 2e-6), result(512, 200, 1e-6), result(1769, 60, 1.5e-6)],
        "cheapest": 512,
        "fastest": 1769,
    }
    rows = tune_rows(document)
    assert [r[0] for r in rows] == ["128", "512 (cheapest)", "1769 (fastest)"]
    assert rows[1][5:] == ["$0.000001000", "$1.00"]
