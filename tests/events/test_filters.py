"""Event filter patterns (Lambda's FilterCriteria): what matches, and what is not a pattern."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.events import filters

CASES = [
    ({"body": {"k": ["v"]}}, {"body": {"k": "v"}}, True, "an exact string"),
    ({"body": {"k": ["v"]}}, {"body": {"k": "w"}}, False, "another string"),
    ({"body": {"k": ["a", "b"]}}, {"body": {"k": "b"}}, True, "any of several values"),
    ({"body": {"k": ["v"]}}, {"body": {"other": "v"}}, False, "a field that is not there"),
    ({"body": {"k": ["v"]}}, {"body": "plain text"}, False, "a JSON pattern on a plain body"),
    ({"body": {"k": ["v"]}}, {"body": {"k": ["x", "v"]}}, True, "a list holding the value"),
    ({"body": {"a": ["1"], "b": ["2"]}}, {"body": {"a": "1", "b": "3"}}, False, "every field"),
    ({"body": {"k": [{"exists": True}]}}, {"body": {"k": None}}, True, "exists on a null"),
    ({"body": {"k": [{"exists": False}]}}, {"body": {}}, True, "exists false when absent"),
    ({"body": {"k": [{"exists": False}]}}, {"body": {"k": 1}}, False, "exists false when there"),
    ({"body": {"k": [None]}}, {"body": {"k": None}}, True, "null"),
    ({"body": {"n": [{"numeric": [">", 100]}]}}, {"body": {"n": 101}}, True, "above"),
    ({"body": {"n": [{"numeric": [">", 100]}]}}, {"body": {"n": 100}}, False, "not above"),
    ({"body": {"n": [{"numeric": [">=", 100, "<", 200]}]}}, {"body": {"n": 200}}, False, "a range"),
    (
        {"body": {"n": [{"numeric": ["=", 5]}]}},
        {"body": {"n": "5"}},
        False,
        "a string is no number",
    ),
    ({"body": {"n": [300]}}, {"body": {"n": 300.0}}, True, "the same number"),
    ({"body": {"n": [300]}}, {"body": {"n": "300"}}, False, "a number is not its text"),
    ({"body": {"k": [{"prefix": "yes"}]}}, {"body": {"k": "yes-value"}}, True, "a prefix"),
    ({"body": {"k": [{"suffix": ".png"}]}}, {"body": {"k": "a.jpg"}}, False, "a suffix"),
    ({"body": {"k": [{"equals-ignore-case": "ABC"}]}}, {"body": {"k": "abc"}}, True, "any case"),
    ({"body": {"k": [{"anything-but": ["x", "y"]}]}}, {"body": {"k": "z"}}, True, "anything but"),
    ({"body": {"k": [{"anything-but": "x"}]}}, {"body": {"k": "x"}}, False, "not the one excluded"),
    (
        {"body": {"k": [{"anything-but": {"prefix": "in"}}]}},
        {"body": {"k": "internal"}},
        False,
        "anything but a prefix",
    ),
    ({"body": {"k": [{"wildcard": "a*c"}]}}, {"body": {"k": "abbc"}}, True, "a wildcard"),
    ({"$or": [{"body": {"a": ["1"]}}, {"body": {"b": ["2"]}}]}, {"body": {"b": "2"}}, True, "$or"),
    (
        {"attributes": {"ApproximateReceiveCount": ["1"]}},
        {"attributes": {"ApproximateReceiveCount": "1"}},
        True,
        "a record's attributes",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        pytest.param(p, e, x, id=f"{why}: {'matches' if x else 'does not match'}")
        for p, e, x, why in CASES
    ],
)
def test_a_pattern_matches_as_lambda_filters(
    pattern: dict[str, Any], event: Any, expected: bool
) -> None:
    filters.check(pattern)
    assert filters.matches(pattern, event) is expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("null", id="null"),
        pytest.param('"simple string"', id="a string"),
        pytest.param('{"eventSource": "aws:sqs"}', id="a value that is not a list"),
        pytest.param('{"eventSource": []}', id="an empty list"),
        pytest.param('{"body": {"n": [{"numeric": [">"]}]}}', id="a comparison without a number"),
        pytest.param('{"body": {"k": [{"regex": "."}]}}', id="a matcher Lambda does not have"),
        pytest.param("{", id="not JSON"),
    ],
)
def test_what_is_not_a_pattern_is_refused(text: str) -> None:
    with pytest.raises(filters.PatternError):
        filters.parse(text)
