"""Metric math over series: arithmetic, lists and their reductions, rates, refusals."""

from __future__ import annotations

import math

import pytest

from skylet.aws.cloudwatch.expressions import ExpressionError, evaluate, references

ERRORS = {0: 1.0, 60: 2.0, 120: 0.0}
CALLS = {0: 10.0, 60: 20.0, 120: 5.0, 180: 4.0}
VALUES = {"errors": ERRORS, "calls": CALLS}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("100 * errors / calls", {0: 10.0, 60: 10.0, 120: 0.0}),
        ("errors + calls", {0: 11.0, 60: 22.0, 120: 5.0}),
        ("calls - 1", {0: 9.0, 60: 19.0, 120: 4.0, 180: 3.0}),
        ("-(errors)", {0: -1.0, 60: -2.0, 120: -0.0}),
        ("SUM([errors, calls])", {0: 11.0, 60: 22.0, 120: 5.0, 180: 4.0}),
        ("MAX(METRICS())", {0: 10.0, 60: 20.0, 120: 5.0, 180: 4.0}),
        ("AVG([errors, calls])", {0: 5.5, 60: 11.0, 120: 2.5, 180: 4.0}),
        ("MIN([errors, calls])", {0: 1.0, 60: 2.0, 120: 0.0, 180: 4.0}),
        ("SUM(calls)", 39.0),
        ("RATE(calls)", {60: 10.0 / 60, 120: -15.0 / 60, 180: -1.0 / 60}),
        ("DIFF(calls)", {60: 10.0, 120: -15.0, 180: -1.0}),
        ("ABS(DIFF(calls))", {60: 10.0, 120: 15.0, 180: 1.0}),
        ("(2 + 3) * 4", 20.0),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, VALUES) == expected


def test_division_by_zero_is_no_value() -> None:
    result = evaluate("calls / errors", VALUES)
    assert isinstance(result, dict) and math.isnan(result[120])


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("nope + 1", "Unrecognized metric id or function: nope"),
        ("FILL(calls, 0)", "Unsupported function: FILL"),
        ("calls +", "Syntax error"),
        ("calls $ 2", "Unsupported character"),
        ("", "empty"),
        ("RATE(2)", "RATE takes one time series"),
    ],
)
def test_what_cannot_be_evaluated_is_refused_with_a_reason(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(")):
        evaluate(expression, VALUES)


def test_references_are_the_ids_an_expression_uses() -> None:
    assert references("SUM([m1, m2]) / RATE(m3) * 100") == {"m1", "m2", "m3"}
