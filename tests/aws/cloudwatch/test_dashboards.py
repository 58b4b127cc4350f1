"""Dashboard bodies checked as PutDashboard checks them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.aws.cloudwatch.dashboards import validate


def metric(**properties: Any) -> dict[str, Any]:
    return {"type": "metric", "properties": {"region": "us-east-1", **properties}}


def body(*widgets: Any, **extra: Any) -> str:
    return json.dumps({"widgets": list(widgets), **extra})


VALID = metric(
    metrics=[["AWS/Lambda", "Errors", "FunctionName", "f"], [".", "Throttles", ".", "."]]
)


@pytest.mark.parametrize(
    "text",
    [
        body(),
        body(VALID),
        body(metric(metrics=[[{"expression": "SUM(METRICS())", "label": "all"}]])),
        body(
            {
                "type": "text",
                "x": 0,
                "y": 7,
                "width": 3,
                "height": 3,
                "properties": {"markdown": "hi"},
            }
        ),
        body(metric(metrics=[["AWS/Lambda", "Duration", {"stat": "p99"}]], period=60)),
        body(VALID, start="-PT6H", periodOverride="inherit"),
    ],
    ids=["no widgets", "metrics", "an expression", "text", "a percentile", "a time range"],
)
def test_valid_bodies_have_no_messages(text: str) -> None:
    assert validate(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", [("", "Invalid JSON: the dashboard body must be JSON")]),
        ("{}", [("", "Should have required property 'widgets'")]),
        (body({"properties": {}}), [("/widgets/0", "Should have required property 'type'")]),
        (
            body({"type": "metric", "properties": {"metrics": []}}),
            [("/widgets/0/properties", "Should have required property 'region'")],
        ),
        (
            body({"type": "text", "properties": {}}),
            [("/widgets/0/properties", "Should have required property 'markdown'")],
        ),
        (
            body(metric(metrics=[["AWS/Lambda"]])),
            [
                (
                    "/widgets/0/properties/metrics/0",
                    "A metric is its namespace, its name, then dimension name/value pairs",
                )
            ],
        ),
        (
            body(metric(metrics=[], stat="Median")),
            [("/widgets/0/properties/stat", "Invalid statistic: Median")],
        ),
        (
            body(metric(metrics=[], period=90)),
            [
                (
                    "/widgets/0/properties/period",
                    "The period must be 1, 5, 10, 30 or a multiple of 60",
                )
            ],
        ),
        (body({**VALID, "width": 25}), [("/widgets/0/width", "Should be <= 24")]),
        (
            body({"type": "chart", "properties": {}}),
            [
                (
                    "/widgets/0/type",
                    "Should be equal to one of: metric, text, log, alarm, explorer, custom",
                )
            ],
        ),
    ],
    ids=[
        "not json",
        "no widgets",
        "no type",
        "a metric widget without region",
        "text without markdown",
        "a metric without its name",
        "an unknown statistic",
        "a period of 90",
        "too wide",
        "an unknown type",
    ],
)
def test_invalid_bodies_are_refused_with_the_path(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(m["DataPath"], m["Message"]) for m in validate(text)] == expected
