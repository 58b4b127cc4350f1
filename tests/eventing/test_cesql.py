"""CloudEvents SQL: expressions and their results on one event, with the spec's casts and
Knative's rule that an expression that fails (a missing attribute) fails the filter."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.eventing.cesql import CesqlError, compile_cesql

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "42",
    "source": "/shop/commerce",
    "type": "order.created",
    "subject": "Order #7",
    "priority": 5,
    "urgent": True,
    "region": "eu",
}

CASES = [
    ("equality", "type = 'order.created'", True),
    ("double-quoted strings", 'type = "order.created"', True),
    ("inequality with <>", "type <> 'order.created'", False),
    ("inequality with !=", "region != 'us'", True),
    (
        "Knative's documented example",
        "source LIKE '%commerce%' AND type IN ('order.created', 'order.updated', 'order.canceled')",
        True,
    ),
    ("LIKE with _", "region LIKE 'e_'", True),
    ("LIKE matches the whole value", "region LIKE 'e'", False),
    ("NOT LIKE", "subject NOT LIKE 'Order%'", False),
    ("LIKE escapes", "subject LIKE 'Order \\#%'", True),
    ("NOT IN", "region NOT IN ('us', 'ap')", True),
    ("an int extension compares as a number", "priority > 3", True),
    ("a string compared to a number is cast", "id = 42", True),
    ("a number compared to a string is cast", "priority = '5'", True),
    ("a boolean extension", "urgent = TRUE", True),
    ("a string cast to a boolean", "urgent = 'true'", True),
    ("arithmetic", "priority * 2 - 1 = 9", True),
    ("integer division truncates", "7 / 2 = 3", True),
    ("modulo", "priority % 2 = 1", True),
    ("unary minus", "-priority < 0", True),
    ("OR", "region = 'us' OR region = 'eu'", True),
    ("XOR", "region = 'eu' XOR urgent", False),
    ("NOT", "NOT (region = 'us')", True),
    ("precedence: AND before OR", "region = 'us' AND priority = 1 OR urgent", True),
    ("keywords are case-insensitive", "region = 'eu' and not (type like 'x%')", True),
    ("EXISTS a present attribute", "EXISTS region", True),
    ("EXISTS a missing attribute", "EXISTS tenant", False),
    ("a missing attribute fails the expression", "tenant = 'a'", False),
    ("even under NOT", "NOT (tenant = 'a')", False),
    ("but OR short-circuits before it", "region = 'eu' OR tenant = 'a'", True),
    ("data is no attribute", "EXISTS data", False),
    ("LENGTH", "LENGTH(region) = 2", True),
    ("UPPER and LOWER", "UPPER(region) = 'EU' AND LOWER('AB') = 'ab'", True),
    (
        "CONCAT and CONCAT_WS",
        "CONCAT(region, '-', priority) = 'eu-5' AND CONCAT_WS('/', 'a', 'b') = 'a/b'",
        True,
    ),
    (
        "TRIM, LEFT, RIGHT",
        "TRIM('  x ') = 'x' AND LEFT(type, 5) = 'order' AND RIGHT(type, 7) = 'created'",
        True,
    ),
    (
        "SUBSTRING from 1",
        "SUBSTRING(type, 7) = 'created' AND SUBSTRING(type, 1, 5) = 'order'",
        True,
    ),
    ("ABS and INT", "ABS(-3) = 3 AND INT('12') = 12", True),
    ("IS_INT", "IS_INT(id) AND NOT IS_INT(region)", True),
    ("a cast that fails fails the expression", "region > 3", False),
    ("a division by zero fails the expression", "priority / 0 = 1", False),
]


@pytest.mark.parametrize(
    ("expression", "expected"), [(e, r) for _, e, r in CASES], ids=[c[0] for c in CASES]
)
def test_cesql(expression: str, expected: bool) -> None:
    assert compile_cesql(expression)(EVENT) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "type =",
        "type = 'x' AND",
        "(type = 'x'",
        "NOSUCH(type)",
        "LENGTH()",
        "type ~ 'x'",
        "type NOT = 'x'",
        "type LIKE region",
    ],
)
def test_expressions_that_do_not_parse_are_refused(expression: str) -> None:
    with pytest.raises(CesqlError):
        compile_cesql(expression)
