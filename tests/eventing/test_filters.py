"""Trigger filters, with Knative's semantics: tables of cases whose expected results follow
Knative's eventfilter (attributes filter, the subscriptions API dialects)."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.eventing.filters import FilterError, compile_filter

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/shop/orders",
    "type": "com.example.order.created",
    "subject": "ORD-001",
    "region": "eu",
    "priority": 5,
    "urgent": True,
    "data": {"type": "not an attribute"},
}

ATTRIBUTE_CASES = [
    ("no filter passes everything", {}, True),
    ("an exact type matches", {"type": "com.example.order.created"}, True),
    ("another type fails", {"type": "com.example.order.deleted"}, False),
    ("matching is case-sensitive", {"type": "COM.EXAMPLE.ORDER.CREATED"}, False),
    ("every attribute must match", {"type": "com.example.order.created", "source": "/x"}, False),
    ("an extension matches by value", {"region": "eu"}, True),
    ("a missing extension fails", {"tenant": "a"}, False),
    ("an empty value matches any value of a present extension", {"region": ""}, True),
    ("an empty value still needs the extension", {"tenant": ""}, False),
    ("an unset standard attribute is empty, so any-value matches it", {"dataschema": ""}, True),
    ("an unset standard attribute does not equal a value", {"dataschema": "/s"}, False),
    ("data is never an attribute", {"data": ""}, False),
    ("a number extension compares by its string form", {"priority": "5"}, True),
    ("a boolean extension compares as true/false", {"urgent": "true"}, True),
]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [(a, e) for _, a, e in ATTRIBUTE_CASES],
    ids=[c[0] for c in ATTRIBUTE_CASES],
)
def test_filter_attributes(attributes: dict[str, str], expected: bool) -> None:
    assert compile_filter(attributes)(EVENT) is expected


DIALECT_CASES = [
    ("exact matches a whole value", [{"exact": {"type": "com.example.order.created"}}], True),
    ("exact fails on a missing extension", [{"exact": {"tenant": "a"}}], False),
    ("prefix matches the start", [{"prefix": {"type": "com.example."}}], True),
    ("prefix fails elsewhere", [{"prefix": {"type": "example"}}], False),
    ("suffix matches the end", [{"suffix": {"source": "/orders"}}], True),
    ("suffix fails on a missing attribute", [{"suffix": {"tenant": "a"}}], False),
    ("prefix compares a number by its string form", [{"prefix": {"priority": "5"}}], True),
    (
        "several expressions must all pass",
        [{"prefix": {"type": "com."}}, {"exact": {"region": "us"}}],
        False,
    ),
    ("all is and", [{"all": [{"prefix": {"type": "com."}}, {"exact": {"region": "eu"}}]}], True),
    (
        "all fails when one fails",
        [{"all": [{"prefix": {"type": "com."}}, {"exact": {"region": "us"}}]}],
        False,
    ),
    ("any is or", [{"any": [{"exact": {"region": "us"}}, {"exact": {"region": "eu"}}]}], True),
    (
        "any fails when all fail",
        [{"any": [{"exact": {"region": "us"}}, {"exact": {"region": "ap"}}]}],
        False,
    ),
    ("not inverts a pass", [{"not": {"exact": {"region": "eu"}}}], False),
    ("not inverts a fail, a missing attribute too", [{"not": {"exact": {"tenant": "a"}}}], True),
    ("an empty all is no filter, which passes", [{"all": []}], True),
    ("an empty any is no filter, which passes", [{"any": []}], True),
    ("not of no filter is no filter, which passes", [{"not": {"all": []}}], True),
    (
        "nesting works",
        [
            {
                "any": [
                    {"not": {"prefix": {"type": "com."}}},
                    {"all": [{"suffix": {"subject": "001"}}]},
                ]
            }
        ],
        True,
    ),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(f, e) for _, f, e in DIALECT_CASES],
    ids=[c[0] for c in DIALECT_CASES],
)
def test_filters_dialects(filters: list[dict[str, Any]], expected: bool) -> None:
    assert compile_filter(None, filters)(EVENT) is expected


def test_filters_win_over_filter_attributes() -> None:
    matches = compile_filter({"type": "other"}, [{"exact": {"region": "eu"}}])
    assert matches(EVENT)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([{"cesql": "type = "}], "cesql: "),
        ([{"exact": {"type": ""}}], "cannot be empty"),
        ([{"exact": {}}], "mapping"),
        ([{"exact": {"a": "b"}, "prefix": {"a": "b"}}], "one dialect"),
        ([{"all": {"exact": {"a": "b"}}}], "list"),
        ([{"nope": {}}], "not a filter dialect"),
    ],
    ids=[
        "a cesql expression that does not parse is refused",
        "empty values are refused",
        "an empty exact is refused",
        "two dialects in one expression are refused",
        "all needs a list",
        "an unknown dialect is refused",
    ],
)
def test_filters_skylet_cannot_run_are_refused(filters: list[Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        compile_filter(None, filters)
