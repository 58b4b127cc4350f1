"""The rule index: an event is evaluated only against the rules that could match it, and the
rules matched are exactly those a check of every rule finds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.aws.eventbridge.catalog import LiveRule, Rule, RuleIndex
from skylet.aws.eventbridge.delivery import matched
from skylet.aws.eventbridge.pattern import parse
from skylet.aws.json_match import flatten

PATTERNS = {
    "shop-exact": {"source": ["shop"]},
    "shop-or-bank": {"source": ["shop", "bank"], "detail": {"total": [{"numeric": [">", 10]}]}},
    "or-branches-pin-source": {
        "$or": [{"source": ["shop"]}, {"source": ["bank"], "region": ["x"]}]
    },
    "or-branch-without-source": {"$or": [{"source": ["shop"]}, {"detail-type": ["Ping"]}]},
    "source-by-prefix": {"source": [{"prefix": "sh"}]},
    "no-source": {"detail-type": ["Order Placed"]},
    "other-source": {"source": ["bank"]},
}


def _rules(disabled: frozenset[str] = frozenset()) -> list[LiveRule]:
    return [
        LiveRule(
            Rule(
                "default", name, json.dumps(p), state="DISABLED" if name in disabled else "ENABLED"
            ),
            parse(json.dumps(p)),
        )
        for name, p in PATTERNS.items()
    ]


EVENTS: list[dict[str, Any]] = [
    {"source": "shop", "detail-type": "Order Placed", "region": "x", "detail": {"total": 50}},
    {"source": "bank", "detail-type": "Ping", "region": "x", "detail": {"total": 5}},
    {"source": "elsewhere", "detail-type": "Order Placed", "detail": {}},
    {"detail-type": "Ping", "detail": {}},
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: str(e.get("source")))
def test_the_index_matches_exactly_what_checking_every_rule_matches(event: dict[str, Any]) -> None:
    rules = _rules()
    naive = [r.rule.name for r in rules if r.pattern is not None and r.pattern.matches(event)]
    assert [r.rule.name for r in matched(RuleIndex(rules), event)] == naive


def test_an_event_is_not_evaluated_against_rules_pinned_to_other_values() -> None:
    event = {"source": "elsewhere", "detail-type": "Nothing"}
    candidates = {r.rule.name for r in RuleIndex(_rules()).candidates(flatten(event))}
    assert candidates == {"or-branch-without-source", "source-by-prefix"}


def test_rules_sharing_a_source_are_filed_under_the_field_that_tells_them_apart() -> None:
    patterns = [{"source": ["app"], "detail": {"kind": [f"k{i}"]}} for i in range(100)]
    rules = [
        LiveRule(Rule("default", f"r{i}", json.dumps(p)), parse(json.dumps(p)))
        for i, p in enumerate(patterns)
    ]
    index = RuleIndex(rules)
    assert set(index.by_path) == {"detail.kind"}
    event = {"source": "app", "detail": {"kind": "k42"}}
    assert [r.rule.name for r in index.candidates(flatten(event))] == ["r42"]
    assert [r.rule.name for r in matched(index, event)] == ["r42"]


def test_disabled_rules_are_left_out_of_the_index() -> None:
    index = RuleIndex(_rules(disabled=frozenset({"shop-exact", "no-source"})))
    names = [r.rule.name for r in matched(index, EVENTS[0])]
    assert "shop-exact" not in names and "no-source" not in names
    assert "shop-or-bank" in names
