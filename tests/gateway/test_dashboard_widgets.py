"""A dashboard body's metric rows as GetMetricData queries, and a window's minutes. Pure."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.gateway.dashboard_widgets import (
    aligned,
    expand_rows,
    metric_queries,
    minutes,
    period_for,
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [["AWS/Lambda", "Invocations", "FunctionName", "a"]],
            [(["AWS/Lambda", "Invocations", "FunctionName", "a"], {})],
            id="a row without options is its strings",
        ),
        pytest.param(
            [["AWS/Lambda", "Invocations", "FunctionName", "a"], [".", "Errors", ".", "b"]],
            [
                (["AWS/Lambda", "Invocations", "FunctionName", "a"], {}),
                (["AWS/Lambda", "Errors", "FunctionName", "b"], {}),
            ],
            id="a dot repeats the value above it",
        ),
        pytest.param(
            [["NS", "M", {"stat": "Sum"}], [{"expression": "m0*2", "label": "twice"}], [".", "N"]],
            [
                (["NS", "M"], {"stat": "Sum"}),
                ([], {"expression": "m0*2", "label": "twice"}),
                (["NS", "N"], {}),
            ],
            id="an expression row does not become the row above",
        ),
        pytest.param(
            ["not a row", ["NS", "M"]], [(["NS", "M"], {})], id="what is no row is skipped"
        ),
    ],
)
def test_rows_expand(rows: list[Any], expected: list[Any]) -> None:
    assert expand_rows(rows) == expected


def test_metric_rows_become_queries_with_the_widget_s_stat_and_period() -> None:
    properties = {
        "stat": "Sum",
        "period": 60,
        "metrics": [
            ["AWS/Lambda", "Invocations", "FunctionName", "a", {"id": "inv", "visible": False}],
            [".", "Duration", ".", ".", {"stat": "p99", "label": "slowest"}],
            [{"expression": "inv*2", "id": "e1"}],
        ],
    }
    assert metric_queries(properties) == [
        {
            "Id": "inv",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "FunctionName", "Value": "a"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "Label": "Invocations",
        },
        {
            "Id": "m1",
            "Label": "slowest",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": "a"}],
                },
                "Period": 60,
                "Stat": "p99",
            },
        },
        {"Id": "e1", "Expression": "inv*2"},
    ]


def test_a_widget_without_stat_or_period_reads_averages_of_five_minutes() -> None:
    (query,) = metric_queries({"metrics": [["NS", "M"]]})
    assert query["MetricStat"]["Stat"] == "Average"
    assert query["MetricStat"]["Period"] == 300


@pytest.mark.parametrize(
    ("end", "window", "period", "expected"),
    [
        pytest.param(750.0, 180, 60, [600, 660, 720], id="three minutes, the one under way last"),
        pytest.param(720.0, 60, 60, [720], id="a window of one period"),
        pytest.param(1000.0, 30, 60, [960], id="a window shorter than the period is one"),
        pytest.param(1000.0, 900, 300, [300, 600, 900], id="five-minute periods"),
    ],
)
def test_minutes(end: float, window: int, period: int, expected: list[int]) -> None:
    assert minutes(end, window, period) == expected


def test_aligned_values_are_none_where_the_result_has_none() -> None:
    assert aligned([60, 120, 180], [180.0, 60.0], [3.0, 1.0]) == [1.0, None, 3.0]


@pytest.mark.parametrize(
    ("window", "period"),
    [
        pytest.param(1800, 60, id="half an hour reads minutes"),
        pytest.param(7200, 60, id="two hours still read minutes"),
        pytest.param(7260, 120, id="past two hours, two minutes"),
        pytest.param(6 * 3600, 180, id="six hours, three minutes"),
        pytest.param(24 * 3600, 720, id="a day, twelve minutes"),
    ],
)
def test_a_longer_window_reads_longer_periods(window: int, period: int) -> None:
    assert period_for(window) == period
    assert window // period <= 121
