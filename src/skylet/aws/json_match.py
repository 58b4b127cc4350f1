"""The value tests SNS's filter policies and EventBridge's event patterns have in common, and
the flattening of a JSON document into dotted key paths both match against. Pure.

A ``Value`` is one JSON scalar found in a document (numbers as ``float``); a ``Test`` says
whether one value satisfies one condition. Each language reads its own syntax and raises its
own errors; what a condition *means* once read is the same in both, and lives here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from typing import Any

Value = str | float | bool | None
Test = Callable[[Value], bool]
NUMERIC_OPERATORS = ("<", "<=", "=", ">", ">=")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def scalar(value: Any) -> Value:
    return float(value) if is_number(value) else value


def compare(op: str, value: float, bound: float) -> bool:
    if op == "=":
        return value == bound
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    return value >= bound


def exact(expected: Any) -> Test:
    """Equality as both languages define it: strings case-sensitive, numbers numerically
    (``5`` is ``5.0``), ``true``/``false``/``null`` only themselves."""
    if is_number(expected):
        number = float(expected)
        return lambda v: is_number(v) and float(v) == number  # type: ignore[arg-type]
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, bool):
        return lambda v: v is expected
    return lambda v: isinstance(v, str) and v == expected


def string_test(operator: str, operand: str) -> Test:
    """``prefix``, ``suffix`` or ``equals-ignore-case`` over string values."""
    if operator == "prefix":
        return lambda v: isinstance(v, str) and v.startswith(operand)
    if operator == "suffix":
        return lambda v: isinstance(v, str) and v.endswith(operand)
    folded = operand.casefold()
    return lambda v: isinstance(v, str) and v.casefold() == folded


def numeric_test(bounds: list[tuple[str, float]]) -> Test:
    """Every ``(operator, bound)`` holds for a numeric value."""
    return lambda v: is_number(v) and all(compare(op, float(v), b) for op, b in bounds)  # type: ignore[arg-type]


def cidr_test(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Test:
    """A string value that is an IP address inside ``network``."""

    def test(value: Value) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return test


def flatten(document: Mapping[str, Any]) -> dict[str, list[Value]]:
    """Every scalar of a JSON object by its dotted key path (``{"a": {"b": 1}}`` gives
    ``{"a.b": [1.0]}``); the elements of an array share the array's path."""
    flat: dict[str, list[Value]] = {}
    for path, value in leaves(document, ""):
        flat.setdefault(path, []).append(value)
    return flat


def leaves(node: Any, path: str) -> Iterator[tuple[str, Value]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for item in node:
            yield from leaves(item, path)
    elif path:
        yield path, scalar(node)
