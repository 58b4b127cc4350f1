"""SNS's filter-policy language: tables of policies, messages and SNS's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.aws.sns import filter_policy
from skylet.errors import ServiceError


def attrs(**values: Any) -> dict[str, tuple[str, str]]:
    """Message attributes: a str is a String, a number a Number, a list a String.Array,
    bytes Binary."""
    out: dict[str, tuple[str, str]] = {}
    for name, value in values.items():
        if isinstance(value, bytes):
            out[name] = ("Binary", value.decode())
        elif isinstance(value, list):
            out[name] = ("String.Array", json.dumps(value))
        elif isinstance(value, int | float):
            out[name] = ("Number", str(value))
        else:
            out[name] = ("String", value)
    return out


def on_attributes(policy: Any, attributes: dict[str, tuple[str, str]]) -> bool:
    return filter_policy.parse(json.dumps(policy)).matches(attributes, "")


def on_body(policy: Any, body: Any) -> bool:
    text = body if isinstance(body, str) else json.dumps(body)
    return filter_policy.parse(json.dumps(policy), "MessageBody").matches({}, text)


ATTRIBUTE_CASES = [
    ("an exact string matches", {"color": ["red"]}, attrs(color="red"), True),
    ("an exact string is case sensitive", {"color": ["red"]}, attrs(color="Red"), False),
    ("any of several strings matches", {"color": ["red", "blue"]}, attrs(color="blue"), True),
    ("a missing attribute fails", {"color": ["red"]}, attrs(size="big"), False),
    ("every key must match", {"a": ["1"], "b": ["2"]}, attrs(a="1", b="3"), False),
    ("keys not in the policy are ignored", {"a": ["1"]}, attrs(a="1", b="x"), True),
    ("a number matches a Number numerically", {"price": [100]}, attrs(price=100.0), True),
    ("a number does not match a String", {"price": [100]}, attrs(price="100"), False),
    ("a string does not match a Number", {"price": ["100"]}, attrs(price=100), False),
    ("a prefix matches", {"k": [{"prefix": "ima"}]}, attrs(k="image.png"), True),
    ("a prefix fails", {"k": [{"prefix": "ima"}]}, attrs(k="video"), False),
    ("a suffix matches", {"k": [{"suffix": ".png"}]}, attrs(k="image.png"), True),
    ("a suffix fails", {"k": [{"suffix": ".png"}]}, attrs(k="image.jpg"), False),
    ("equals-ignore-case matches", {"k": [{"equals-ignore-case": "RED"}]}, attrs(k="rEd"), True),
    ("equals-ignore-case fails", {"k": [{"equals-ignore-case": "RED"}]}, attrs(k="reds"), False),
    ("anything-but a value", {"k": [{"anything-but": "red"}]}, attrs(k="blue"), True),
    ("anything-but the value fails", {"k": [{"anything-but": "red"}]}, attrs(k="red"), False),
    ("anything-but a list", {"k": [{"anything-but": ["a", "b"]}]}, attrs(k="b"), False),
    (
        "anything-but a list passes others",
        {"k": [{"anything-but": ["a", "b"]}]},
        attrs(k="c"),
        True,
    ),
    ("anything-but a number", {"n": [{"anything-but": [1, 2]}]}, attrs(n=3), True),
    ("anything-but a number fails", {"n": [{"anything-but": [1, 2]}]}, attrs(n=2), False),
    ("anything-but needs the key", {"k": [{"anything-but": "red"}]}, attrs(), False),
    ("anything-but a prefix", {"k": [{"anything-but": {"prefix": "a"}}]}, attrs(k="bc"), True),
    (
        "anything-but a prefix fails",
        {"k": [{"anything-but": {"prefix": "a"}}]},
        attrs(k="ab"),
        False,
    ),
    ("anything-but a suffix", {"k": [{"anything-but": {"suffix": "z"}}]}, attrs(k="az"), False),
    ("numeric equals", {"n": [{"numeric": ["=", 5]}]}, attrs(n=5), True),
    ("numeric equals fails", {"n": [{"numeric": ["=", 5]}]}, attrs(n=5.5), False),
    ("numeric less than", {"n": [{"numeric": ["<", 5]}]}, attrs(n=4.99), True),
    ("numeric less than is strict", {"n": [{"numeric": ["<", 5]}]}, attrs(n=5), False),
    ("numeric at most", {"n": [{"numeric": ["<=", 5]}]}, attrs(n=5), True),
    ("numeric more than", {"n": [{"numeric": [">", 5]}]}, attrs(n=5), False),
    ("numeric at least", {"n": [{"numeric": [">=", 5]}]}, attrs(n=5), True),
    ("numeric between", {"n": [{"numeric": [">", 0, "<=", 10]}]}, attrs(n=10), True),
    ("numeric between excludes", {"n": [{"numeric": [">", 0, "<=", 10]}]}, attrs(n=0), False),
    ("numeric on a String fails", {"n": [{"numeric": [">", 0]}]}, attrs(n="5"), False),
    ("exists true passes with the key", {"k": [{"exists": True}]}, attrs(k="x"), True),
    ("exists true fails without", {"k": [{"exists": True}]}, attrs(other="x"), False),
    ("exists false passes without", {"k": [{"exists": False}]}, attrs(other="x"), True),
    ("exists false fails with", {"k": [{"exists": False}]}, attrs(k="x"), False),
    ("a Binary attribute is ignored", {"k": [{"exists": True}]}, attrs(k=b"AAAA"), False),
    ("a String.Array matches any element", {"k": ["b"]}, attrs(k=["a", "b"]), True),
    ("a String.Array fails when none does", {"k": ["c"]}, attrs(k=["a", "b"]), False),
    ("a String.Array's numbers are numbers", {"k": [{"numeric": [">", 2]}]}, attrs(k=[1, 3]), True),
    ("a custom String type is a String", {"k": ["x"]}, {"k": ("String.custom", "x")}, True),
    (
        "cidr matches an address in it",
        {"ip": [{"cidr": "10.0.0.0/24"}]},
        attrs(ip="10.0.0.7"),
        True,
    ),
    ("cidr fails outside it", {"ip": [{"cidr": "10.0.0.0/24"}]}, attrs(ip="10.0.1.7"), False),
    ("cidr fails on a non-address", {"ip": [{"cidr": "10.0.0.0/24"}]}, attrs(ip="host"), False),
    (
        "$or passes when one branch does",
        {"a": ["1"], "$or": [{"b": ["2"]}, {"c": ["3"]}]},
        attrs(a="1", c="3"),
        True,
    ),
    (
        "$or fails when no branch does",
        {"a": ["1"], "$or": [{"b": ["2"]}, {"c": ["3"]}]},
        attrs(a="1", c="4"),
        False,
    ),
    (
        "$or still needs the other keys",
        {"a": ["1"], "$or": [{"b": ["2"]}, {"c": ["3"]}]},
        attrs(a="9", b="2"),
        False,
    ),
    ("mixed conditions in one array", {"k": ["x", {"prefix": "y"}]}, attrs(k="yes"), True),
    ("an empty policy passes everything", {}, attrs(), True),
]


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [case[1:] for case in ATTRIBUTE_CASES],
    ids=[case[0] for case in ATTRIBUTE_CASES],
)
def test_attribute_policies(policy: Any, attributes: Any, expected: bool) -> None:
    assert on_attributes(policy, attributes) is expected


BODY = {
    "order": {"kind": "book", "price": 12.5, "tags": ["new", "sale"], "gift": True},
    "items": [{"sku": "a1", "qty": 1}, {"sku": "b2", "qty": 3}],
    "note": None,
}
BODY_CASES = [
    ("a top-level key matches", {"note": [None]}, BODY, True),
    ("a nested key matches", {"order": {"kind": ["book"]}}, BODY, True),
    ("a nested key fails", {"order": {"kind": ["film"]}}, BODY, False),
    ("a dotted key reaches a nested one", {"order.kind": ["book"]}, BODY, True),
    ("a nested number", {"order": {"price": [{"numeric": [">", 10]}]}}, BODY, True),
    ("a nested boolean", {"order": {"gift": [True]}}, BODY, True),
    ("a boolean is not the string", {"order": {"gift": ["true"]}}, BODY, False),
    ("an array in the body matches any element", {"order": {"tags": ["sale"]}}, BODY, True),
    ("objects in an array match by path", {"items": {"sku": ["b2"]}}, BODY, True),
    ("objects in an array fail by path", {"items": {"sku": ["c3"]}}, BODY, False),
    (
        "exists false on a missing nested key",
        {"order": {"coupon": [{"exists": False}]}},
        BODY,
        True,
    ),
    ("exists true on a nested key", {"order": {"kind": [{"exists": True}]}}, BODY, True),
    ("a prefix in the body", {"order": {"kind": [{"prefix": "bo"}]}}, BODY, True),
    (
        "$or inside a nested key",
        {"order": {"$or": [{"kind": ["film"]}, {"price": [{"numeric": ["<", 20]}]}]}},
        BODY,
        True,
    ),
    ("a body that is not JSON fails", {"a": ["1"]}, "plain text", False),
    ("a body that is a JSON array fails", {"a": ["1"]}, "[1, 2]", False),
]


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [case[1:] for case in BODY_CASES],
    ids=[case[0] for case in BODY_CASES],
)
def test_body_policies(policy: Any, body: Any, expected: bool) -> None:
    assert on_body(policy, body) is expected


def message_of(policy: str, scope: str = "MessageAttributes", *, subscribe: bool = False) -> str:
    with pytest.raises(ServiceError) as caught:
        filter_policy.parse(policy, scope, subscribe=subscribe)
    assert caught.value.code == "InvalidParameter"
    return caught.value.message


REFUSALS = [
    ("not JSON", "{", "FilterPolicy: failed to parse JSON."),
    ("not an object", "[]", "FilterPolicy: Filter policy must be a JSON object"),
    (
        "six keys",
        json.dumps({k: ["x"] for k in "abcdef"}),
        "FilterPolicy: Filter policy can not have more than 5 keys",
    ),
    (
        "too many combinations",
        json.dumps({"a": list(range(10)), "b": list(range(10)), "c": list(range(2))}),
        "FilterPolicy: Filter policy is too complex",
    ),
    ("an empty array", '{"a": []}', "FilterPolicy: Empty arrays are not allowed"),
    ("a bare value", '{"a": "x"}', 'FilterPolicy: "a" must be an object or an array'),
    (
        "two operators",
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "FilterPolicy: Only one key allowed in match expression",
    ),
    (
        "an unknown operator",
        '{"a": [{"prefixx": "x"}]}',
        "FilterPolicy: Unrecognized match type prefixx",
    ),
    (
        "a prefix that is a number",
        '{"a": [{"prefix": 1}]}',
        "FilterPolicy: prefix match pattern must be a string",
    ),
    (
        "exists not a boolean",
        '{"a": [{"exists": "yes"}]}',
        "FilterPolicy: exists match pattern must be either true or false.",
    ),
    (
        "a nested array value",
        '{"a": [["x"]]}',
        "FilterPolicy: Match value must be String, number, true, false, or null",
    ),
    (
        "anything-but an unknown pattern",
        '{"a": [{"anything-but": {"exists": true}}]}',
        "FilterPolicy: Unsupported anything-but pattern: exists",
    ),
    (
        "numeric empty",
        '{"a": [{"numeric": []}]}',
        "FilterPolicy: Invalid member in numeric match: ]",
    ),
    (
        "numeric bad operator",
        '{"a": [{"numeric": ["!=", 1]}]}',
        "FilterPolicy: Unrecognized numeric range operator: !=",
    ),
    (
        "numeric non-number",
        '{"a": [{"numeric": ["=", "1"]}]}',
        "FilterPolicy: Value of equals must be numeric",
    ),
    (
        "numeric range after <",
        '{"a": [{"numeric": ["<", 1, "<", 5]}]}',
        "FilterPolicy: Too many elements in numeric expression",
    ),
    (
        "numeric bad upper operator",
        '{"a": [{"numeric": [">", 1, ">", 5]}]}',
        "FilterPolicy: Bad numeric range operator: >",
    ),
    (
        "numeric inverted range",
        '{"a": [{"numeric": [">", 5, "<", 1]}]}',
        "FilterPolicy: Bottom must be less than top",
    ),
    (
        "numeric too many terms",
        '{"a": [{"numeric": [">", 1, "<", 5, 6]}]}',
        "FilterPolicy: Too many terms in numeric range expression",
    ),
    (
        "cidr without a mask",
        '{"a": [{"cidr": "10.0.0.1"}]}',
        "FilterPolicy: Malformed CIDR, one '/' required",
    ),
    (
        "cidr with a bad mask",
        '{"a": [{"cidr": "10.0.0.1/x"}]}',
        "FilterPolicy: Malformed CIDR, mask bits must be an integer",
    ),
    (
        "cidr with a bad address",
        '{"a": [{"cidr": "10.0.0.300/8"}]}',
        "FilterPolicy: Nonstandard IP address: 10.0.0.300",
    ),
    ("$or not a list", '{"$or": {"a": ["x"]}}', 'FilterPolicy: "$or" must be an array of objects'),
    (
        "nesting in attribute scope",
        '{"a": {"b": ["x"]}}',
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
]


@pytest.mark.parametrize(
    ("policy", "message"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_malformed_policies_are_refused_with_sns_messages(policy: str, message: str) -> None:
    assert message_of(policy) == f"Invalid parameter: {message}"


def test_subscribe_names_the_attributes_in_its_refusals() -> None:
    assert message_of("{", subscribe=True) == (
        "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."
    )


def test_nested_policies_count_their_top_keys_only() -> None:
    policy = {"a": {"b": ["1"], "c": ["2"], "d": ["3"], "e": ["4"], "f": ["5"], "g": ["6"]}}
    filter_policy.parse(json.dumps(policy), "MessageBody")


def test_or_counts_its_largest_branch_toward_the_five_keys() -> None:
    fine = {"a": ["1"], "$or": [{"b": ["1"], "c": ["1"]}, {"d": ["1"], "e": ["1"], "f": ["1"]}]}
    filter_policy.parse(json.dumps(fine))
    over = {"a": ["1"], "b": ["1"], "$or": [{"c": ["1"]}, {k: ["1"] for k in "defg"}]}
    assert "more than 5 keys" in message_of(json.dumps(over))


def test_nested_combinations_weigh_by_depth() -> None:
    # SNS's example: 4 values three levels deep, 3 values two levels deep: 3 x 4 x 2 x 3 = 72.
    policy = {"a": {"b": {"c": list("wxyz")}}, "d": {"e": list("xyz")}}
    filter_policy.parse(json.dumps(policy), "MessageBody")
    deeper = {"a": {"b": {"c": list("wxyz")}}, "d": {"e": list("xyz"), "f": list("xyz")}}
    assert "too complex" in message_of(json.dumps(deeper), "MessageBody")


def test_or_combinations_add_up() -> None:
    branch = {"a": list(range(10)), "b": list(range(7))}  # 70 each
    filter_policy.parse(json.dumps({"$or": [branch, branch]}))  # 140
    assert "too complex" in message_of(
        json.dumps({"$or": [branch, branch, {"c": list(range(11))}]})
    )


def test_an_unknown_scope_is_refused() -> None:
    assert "FilterPolicyScope" in message_of("{}", "Body")
