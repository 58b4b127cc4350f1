"""EMF lines read as CloudWatch reads them; what breaks the format is only a log line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.observe.emf import Datum, metrics_of


def line(**overrides: Any) -> str:
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Shop",
                    "Dimensions": [["Service"], ["Service", "Stage"]],
                    "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Orders"}],
                }
            ],
        },
        "Service": "checkout",
        "Stage": "prod",
        "Latency": [12, 30.5],
        "Orders": 1,
    }
    document.update(overrides)
    return json.dumps(document)


def test_each_dimension_set_and_metric_is_one_datum() -> None:
    found = metrics_of(line())
    assert found[0] == Datum(
        "Shop", "Latency", (("Service", "checkout"),), 1_700_000_000.0, (12.0, 30.5), "Milliseconds"
    )
    assert [(d.metric, d.dimensions) for d in found] == [
        ("Latency", (("Service", "checkout"),)),
        ("Orders", (("Service", "checkout"),)),
        ("Latency", (("Service", "checkout"), ("Stage", "prod"))),
        ("Orders", (("Service", "checkout"), ("Stage", "prod"))),
    ]
    assert found[1].unit == "None"


@pytest.mark.parametrize(
    "text",
    [
        "START RequestId: x",
        '{"_aws": 1}',
        line(Latency="fast"),
        line(Service=3),
        line(Orders=[]),
        line(Orders=list(range(101))),
        line(_aws={"Timestamp": "now", "CloudWatchMetrics": []}),
        json.dumps(
            {
                "_aws": {
                    "Timestamp": 1,
                    "CloudWatchMetrics": [
                        {"Namespace": "AWS/Lambda", "Dimensions": [], "Metrics": []}
                    ],
                }
            }
        ),
        line(Stage=None),
    ],
    ids=[
        "not json",
        "no directives",
        "a value that is not a number",
        "a dimension that is not text",
        "no values",
        "more than 100 values",
        "a timestamp that is not a number",
        "an AWS namespace",
        "a dimension's value missing",
    ],
)
def test_a_line_that_breaks_the_format_has_no_metrics(text: str) -> None:
    assert metrics_of(text) == []


def test_what_powertools_metrics_writes_is_read() -> None:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace="Shop", service="checkout")
    metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=2)
    metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=3)
    metrics.add_dimension(name="Stage", value="prod")
    [datum] = metrics_of(json.dumps(metrics.serialize_metric_set()))
    assert (datum.namespace, datum.metric, datum.unit) == ("Shop", "Orders", "Count")
    assert datum.dimensions == (("Stage", "prod"), ("service", "checkout"))
    assert datum.values == (2.0, 3.0)
