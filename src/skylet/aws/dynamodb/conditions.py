"""Evaluating condition and filter expressions, and projections, over one item (pure).

    tree = Parser("ConditionExpression", text, names, values).condition()
    matches(tree, item)          # True / False; ValidationException for a malformed operand

DynamoDB's rules: a comparison of values of different types is false (``<>`` true), as is any
comparison with a missing attribute (``<>`` true: the values are not equal); ``size`` of a type
it does not measure makes its comparison false; ``BETWEEN`` with literal bounds in the wrong
order, and ``attribute_type`` with a type that is not one, are ValidationExceptions.
"""

from __future__ import annotations

from typing import Any

from skylet.aws.dynamodb.grammar import (
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Logical,
    Not,
    Operand,
    Path,
    PathRef,
)
from skylet.aws.dynamodb.values import TYPES, Item, Value, equal, invalid, member_of, order, render


def resolve(item: Item | None, path: Path) -> Value | None:
    """The value at ``path`` in ``item``, or None when any step is missing or of another type."""
    if item is None:
        return None
    first = path[0]
    current: Value | None = item.get(first) if isinstance(first, str) else None
    for part in path[1:]:
        if current is None:
            return None
        if isinstance(part, int):
            elements = current.get("L")
            current = elements[part] if elements is not None and part < len(elements) else None
        else:
            members = current.get("M")
            current = members.get(part) if members is not None else None
    return current


def operand_value(
    operand: Operand, item: Item | None, kind: str = "ConditionExpression"
) -> Value | None:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, PathRef):
        return resolve(item, operand.path)
    if isinstance(operand, Call) and operand.name == "size":
        return _size(operand_value(operand.args[0], item, kind))
    if isinstance(operand, Arithmetic):
        raise invalid(f'Invalid {kind}: Syntax error; token: "{operand.op}"')
    raise invalid(
        f"Invalid {kind}: The function is not allowed to be used this way in an expression; "
        f"function: {operand.name}"
    )


def _size(value: Value | None) -> Value | None:
    if value is None:
        return None
    (kind,) = value
    data: Any = value[kind]
    if kind in ("S",):
        return {"N": str(len(data))}
    if kind in ("B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(data))}
    return None


def matches(tree: Condition, item: Item | None, kind: str = "ConditionExpression") -> bool:
    """Whether ``item`` (None: no item) satisfies ``tree``."""
    if isinstance(tree, Logical):
        if tree.op == "AND":
            return matches(tree.left, item, kind) and matches(tree.right, item, kind)
        return matches(tree.left, item, kind) or matches(tree.right, item, kind)
    if isinstance(tree, Not):
        return not matches(tree.operand, item, kind)
    if isinstance(tree, Compare):
        left = operand_value(tree.left, item, kind)
        right = operand_value(tree.right, item, kind)
        return compare(tree.op, left, right)
    if isinstance(tree, Between):
        low = operand_value(tree.low, item, kind)
        high = operand_value(tree.high, item, kind)
        lo, hi = tree.low, tree.high
        if isinstance(lo, Literal) and isinstance(hi, Literal) and order(low, high) == 1:
            raise invalid(
                f"Invalid {kind}: The BETWEEN operator requires upper bound to be greater "
                f"than or equal to lower bound; lower bound operand: AttributeValue: "
                f"{render(lo.value)}, upper bound operand: AttributeValue: "
                f"{render(hi.value)}"
            )
        subject = operand_value(tree.subject, item, kind)
        return compare(">=", subject, low) and compare("<=", subject, high)
    if isinstance(tree, In):
        subject = operand_value(tree.subject, item, kind)
        return any(equal(subject, operand_value(o, item, kind)) for o in tree.options)
    return _function(tree, item, kind)


def compare(op: str, left: Value | None, right: Value | None) -> bool:
    if op == "=":
        return equal(left, right)
    if op == "<>":
        return not equal(left, right)
    sign = order(left, right)
    if sign is None:
        return False
    return {"<": sign < 0, "<=": sign <= 0, ">": sign > 0, ">=": sign >= 0}[op]


def _function(call: Call, item: Item | None, kind: str) -> bool:
    name = call.name
    if name in ("attribute_exists", "attribute_not_exists"):
        present = operand_value(call.args[0], item, kind) is not None
        return present if name == "attribute_exists" else not present
    if name == "attribute_type":
        wanted = operand_value(call.args[1], item, kind)
        if wanted is None or "S" not in wanted or wanted["S"] not in TYPES:
            shown = render(wanted) if wanted is not None else "null"
            raise invalid(
                f"Invalid {kind}: Invalid attribute type name found; type: {shown}, valid "
                "types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
            )
        value = operand_value(call.args[0], item, kind)
        return value is not None and next(iter(value)) == wanted["S"]
    subject = operand_value(call.args[0], item, kind)
    argument = operand_value(call.args[1], item, kind)
    if name == "begins_with":
        if isinstance(call.args[1], Literal) and next(iter(argument or {"": 0})) not in ("S", "B"):
            raise invalid(
                f"Invalid {kind}: Incorrect operand type for operator or function; operator or "
                f"function: begins_with, operand type: {next(iter(argument or {'?': 0}))}"
            )
        if subject is None or argument is None:
            return False
        for scalar in ("S", "B"):
            if scalar in subject and scalar in argument:
                return bool(subject[scalar][: len(argument[scalar])] == argument[scalar])
        return False
    # contains
    if subject is None or argument is None:
        return False
    for scalar in ("S", "B"):
        if scalar in subject:
            return scalar in argument and argument[scalar] in subject[scalar]
    return member_of(subject, argument)


# --- projections ----------------------------------------------------------------------------


def project(item: Item, paths: list[Path]) -> Item:
    """The parts of ``item`` the paths name, nested as in the item; list elements named by
    index keep their order and close up (``a[3]`` alone gives a one-element list)."""
    result: dict[str, Any] = {}
    for path in paths:
        value = resolve(item, path)
        if value is None:
            continue
        _place(result, item, path, value)
    return _compact(result)


def _place(into: dict[Any, Any], item: Item, path: Path, value: Value) -> None:
    # Built as nested dicts keyed by name or index, then lists closed up by _compact.
    node: dict[Any, Any] = into
    source: Any = {"M": item}
    for index, part in enumerate(path):
        last = index == len(path) - 1
        kind = "L" if isinstance(part, int) else "M"
        source = source[kind][part]
        if last:
            node[part] = ("value", value)
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = {"__kind__": "L" if isinstance(path[index + 1], int) else "M"}
            node[part] = child
        node = child


def _compact(node: dict[Any, Any]) -> Item:
    return {k: _unwrap(v) for k, v in node.items() if k != "__kind__"}


def _unwrap(entry: Any) -> Value:
    if isinstance(entry, tuple):
        return entry[1]  # type: ignore[no-any-return]
    if entry["__kind__"] == "L":
        return {"L": [_unwrap(entry[i]) for i in sorted(k for k in entry if k != "__kind__")]}
    return {"M": _compact(entry)}
