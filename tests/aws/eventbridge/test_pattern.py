"""The event-pattern language, with cases from AWS's EventBridge documentation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.aws.eventbridge.pattern import compile_pattern, parse
from skylet.errors import ServiceError

# The documentation's example event (EC2 instance state change), with the fields its
# content-filtering examples use.
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "location": "us-east-1",
        "eventName": "PutObject",
        "filename": "dir/subdir/file.png",
        "responseElements": None,
        "nothing": "",
        "tags": ["prod", "web"],
        "nested": {"level": {"deep": "yes"}},
    },
}

CASES = [
    ("an exact string matches", {"source": ["aws.ec2"]}, True),
    ("strings are case sensitive", {"source": ["AWS.EC2"]}, False),
    ("an array of values is an OR", {"source": ["aws.s3", "aws.ec2"]}, True),
    ("every key must match (AND)", {"source": ["aws.ec2"], "region": ["eu-west-1"]}, False),
    ("nested keys name nested fields", {"detail": {"state": ["terminated"]}}, True),
    ("deeply nested keys", {"detail": {"nested": {"level": {"deep": ["yes"]}}}}, True),
    ("a field missing from the event fails", {"detail": {"colour": ["red"]}}, False),
    ("an event array matches when any element does", {"detail": {"tags": ["web"]}}, True),
    ("resources arrays match by element", {"resources": [EVENT["resources"][0]]}, True),
    ("numbers match exactly", {"detail": {"c-count": [5]}}, True),
    ("numbers match numerically", {"detail": {"c-count": [5.0]}}, True),
    ("a string does not match a number", {"detail": {"c-count": ["5"]}}, False),
    ("null matches a null field", {"detail": {"responseElements": [None]}}, True),
    ("null does not match a missing field", {"detail": {"absent": [None]}}, False),
    ("the empty string matches an empty field", {"detail": {"nothing": [""]}}, True),
    ("the empty string is not null", {"detail": {"responseElements": [""]}}, False),
    ("prefix", {"detail": {"location": [{"prefix": "us-"}]}}, True),
    ("prefix fails", {"detail": {"location": [{"prefix": "eu-"}]}}, False),
    (
        "prefix with equals-ignore-case",
        {"detail": {"eventName": [{"prefix": {"equals-ignore-case": "put"}}]}},
        True,
    ),
    ("suffix", {"detail": {"filename": [{"suffix": ".png"}]}}, True),
    (
        "suffix with equals-ignore-case",
        {"detail": {"filename": [{"suffix": {"equals-ignore-case": ".PNG"}}]}},
        True,
    ),
    (
        "equals-ignore-case",
        {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
        True,
    ),
    ("anything-but a value", {"detail": {"state": [{"anything-but": "initializing"}]}}, True),
    (
        "anything-but the value itself",
        {"detail": {"state": [{"anything-but": "terminated"}]}},
        False,
    ),
    (
        "anything-but a list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        True,
    ),
    (
        "anything-but a list holding the value",
        {"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}},
        False,
    ),
    ("anything-but a number", {"detail": {"c-count": [{"anything-but": [1, 2]}]}}, True),
    ("anything-but a prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
    (
        "anything-but its own prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "term"}}]}},
        False,
    ),
    (
        "anything-but a suffix",
        {"detail": {"filename": [{"anything-but": {"suffix": ".txt"}}]}},
        True,
    ),
    (
        "anything-but a wildcard",
        {"detail": {"filename": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        True,
    ),
    (
        "anything-but a wildcard list that matches",
        {"detail": {"filename": [{"anything-but": {"wildcard": ["*.txt", "dir/*"]}}]}},
        False,
    ),
    (
        "anything-but equals-ignore-case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}},
        False,
    ),
    (
        "anything-but does not match a missing field",
        {"detail": {"absent": [{"anything-but": "x"}]}},
        False,
    ),
    ("numeric range", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
    (
        "numeric range excludes",
        {"detail": {"d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}},
        True,
    ),
    ("numeric below", {"detail": {"c-count": [{"numeric": ["<", 5]}]}}, False),
    ("numeric on a string never matches", {"detail": {"state": [{"numeric": [">", 0]}]}}, False),
    ("exists true", {"detail": {"state": [{"exists": True}]}}, True),
    ("exists false on a missing field", {"detail": {"absent": [{"exists": False}]}}, True),
    ("exists false on a present field", {"detail": {"state": [{"exists": False}]}}, False),
    (
        "exists is for leaves: an object does not exist",
        {"detail": {"nested": [{"exists": True}]}},
        False,
    ),
    ("cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ("cidr outside", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ("wildcard", {"detail": {"filename": [{"wildcard": "dir/*.png"}]}}, True),
    ("wildcard across slashes", {"detail": {"filename": [{"wildcard": "*/file.*"}]}}, True),
    ("wildcard fails", {"detail": {"filename": [{"wildcard": "*.jpg"}]}}, False),
    (
        "a wildcard's star may match nothing",
        {"detail": {"state": [{"wildcard": "terminated*"}]}},
        True,
    ),
    (
        "$or: one branch matches",
        {
            "source": ["aws.ec2"],
            "$or": [
                {"detail": {"c-count": [{"numeric": [">", 10]}]}},
                {"detail": {"d-count": [3]}},
            ],
        },
        True,
    ),
    (
        "$or: no branch matches",
        {"$or": [{"detail": {"c-count": [1]}}, {"detail": {"d-count": [1]}}]},
        False,
    ),
    (
        "$or inside a nested key",
        {"detail": {"$or": [{"c-count": [1]}, {"x-limit": [{"numeric": [">", 300]}]}]}},
        True,
    ),
    ("a mix of conditions is an OR", {"detail": {"state": [{"prefix": "x"}, "terminated"]}}, True),
]


@pytest.mark.parametrize(
    ("pattern", "expected"), [(p, e) for _, p, e in CASES], ids=[c[0] for c in CASES]
)
def test_pattern_matches_as_documented(pattern: dict[str, Any], expected: bool) -> None:
    assert parse(json.dumps(pattern)).matches(EVENT) is expected


def test_wildcard_escapes_a_literal_star() -> None:
    pattern = parse(json.dumps({"key": [{"wildcard": "a\\*b"}]}))
    assert pattern.matches({"key": "a*b"}) and not pattern.matches({"key": "axxb"})


REFUSED = [
    ("not JSON", "{", "Unrecognized token"),
    ("not an object", "[1]", "Filter is not an object"),
    ("a scalar leaf", '{"source": "aws.ec2"}', '"source" must be an object or an array'),
    ("an empty array", '{"source": []}', "Empty arrays are not allowed"),
    ("an empty object", "{}", "Empty objects are not allowed"),
    ("an unknown match type", '{"a": [{"regex": "x"}]}', "Unrecognized match type regex"),
    (
        "two keys in a match",
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "Only one key allowed in match expression",
    ),
    (
        "a nested array value",
        '{"a": [[1]]}',
        "Match value must be String, number, true, false, or null",
    ),
    ("a numeric prefix", '{"a": [{"prefix": 1}]}', "prefix match pattern must be a string"),
    (
        "exists not boolean",
        '{"a": [{"exists": "yes"}]}',
        "exists match pattern must be either true or false.",
    ),
    (
        "a numeric range upside down",
        '{"a": [{"numeric": [">", 5, "<", 1]}]}',
        "Bottom must be less than top",
    ),
    (
        "a numeric operator unknown",
        '{"a": [{"numeric": ["!=", 5]}]}',
        "Unrecognized numeric range operator: !=",
    ),
    (
        "a numeric bound not a number",
        '{"a": [{"numeric": [">", "5"]}]}',
        "Value of > must be numeric",
    ),
    (
        "anything-but a boolean",
        '{"a": [{"anything-but": true}]}',
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but a mixed list",
        '{"a": [{"anything-but": ["x", 1]}]}',
        "Inside anything but list, start|null|boolean is not supported.",
    ),
    (
        "anything-but an unknown operator",
        '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
        "Unsupported anything-but pattern: numeric",
    ),
    ("a cidr without a mask", '{"a": [{"cidr": "10.0.0.1"}]}', "Malformed CIDR, one '/' required"),
    (
        "a cidr with a bad address",
        '{"a": [{"cidr": "10.0.0.300/24"}]}',
        "Nonstandard IP address: 10.0.0.300",
    ),
    (
        "consecutive wildcards",
        '{"a": [{"wildcard": "a**b"}]}',
        "Consecutive wildcard characters at pos 1",
    ),
    (
        "$or with one branch",
        '{"$or": [{"a": [1]}]}',
        "Or relationship must contain at least two conditions",
    ),
    (
        "prefix with another operator",
        '{"a": [{"prefix": {"wildcard": "x"}}]}',
        "Unsupported prefix pattern: wildcard",
    ),
]


@pytest.mark.parametrize(
    ("text", "reason"), [(t, r) for _, t, r in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_invalid_pattern_is_refused_with_eventbridge_reason(text: str, reason: str) -> None:
    with pytest.raises(ServiceError) as caught:
        compile_pattern(text)
    assert caught.value.code == "InvalidEventPatternException"
    assert str(caught.value.message).startswith(f"Event pattern is not valid. Reason: {reason}")
