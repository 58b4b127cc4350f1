"""DynamoDB's legacy parameters (pure), translated to the expression trees ``grammar.py``
builds, so one evaluator serves both styles.

    check_styles(request, EXPRESSIONS, LEGACY)     # the mixing rules, DynamoDB's messages
    tree = expected(request)                       # Expected + ConditionalOperator, or None
    tree = filters(request, "QueryFilter", keys)   # QueryFilter / ScanFilter, or None
    tree = key_conditions(request)                 # KeyConditions, for keys.key_condition
    actions = attribute_updates(request, schema)   # AttributeUpdates as update actions
    paths = attributes_to_get(request)             # AttributesToGet as projection paths

Each legacy condition is one attribute's ``ComparisonOperator`` over its
``AttributeValueList``: EQ and NE take any type; LE, LT, GE, GT, IN and BETWEEN a String,
Number or Binary; CONTAINS and NOT_CONTAINS a scalar whose presence in a string, binary or
set they test (NOT_CONTAINS is false for a missing attribute: there is nothing to test);
BEGINS_WITH a String or Binary; NULL and NOT_NULL no value. ``Expected`` also has the older
``Value``/``Exists`` form (equal to a value; absent). Conditions are combined with
``ConditionalOperator`` (AND, the default, or OR), in the order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from skylet.aws.dynamodb.grammar import (
    Action,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Logical,
    Not,
    Path,
    PathRef,
)
from skylet.aws.dynamodb.keys import KeySchema
from skylet.aws.dynamodb.values import SETS, invalid, normalise, order, parameter

_ARITY: dict[str, tuple[int, int]] = {
    "EQ": (1, 1),
    "NE": (1, 1),
    "LE": (1, 1),
    "LT": (1, 1),
    "GE": (1, 1),
    "GT": (1, 1),
    "CONTAINS": (1, 1),
    "NOT_CONTAINS": (1, 1),
    "BEGINS_WITH": (1, 1),
    "NULL": (0, 0),
    "NOT_NULL": (0, 0),
    "IN": (1, 1 << 30),
    "BETWEEN": (2, 2),
}
_SCALARS = frozenset({"S", "N", "B"})
#: The value types each operator takes (absent: every type).
_TYPES: dict[str, frozenset[str]] = {
    "LE": _SCALARS,
    "LT": _SCALARS,
    "GE": _SCALARS,
    "GT": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
    "BEGINS_WITH": frozenset({"S", "B"}),
}
_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_KEY_OPERATORS = frozenset({"EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN"})

#: Per operation: its expression parameters and its legacy ones, in DynamoDB's order.
STYLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PutItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "DeleteItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "UpdateItem": (
        ("UpdateExpression", "ConditionExpression"),
        ("AttributeUpdates", "Expected", "ConditionalOperator"),
    ),
    "GetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "Query": (
        ("KeyConditionExpression", "FilterExpression", "ProjectionExpression"),
        ("KeyConditions", "QueryFilter", "ConditionalOperator", "AttributesToGet"),
    ),
    "Scan": (
        ("FilterExpression", "ProjectionExpression"),
        ("ScanFilter", "ConditionalOperator", "AttributesToGet"),
    ),
    "BatchGetItem": (("ProjectionExpression",), ("AttributesToGet",)),
}


def check_styles(request: Mapping[str, Any], operation: str) -> None:
    """Refuse what DynamoDB refuses: legacy and expression parameters in one request, and
    placeholders without the expressions that would use them."""
    expressions, legacy = STYLES[operation]
    used = [e for e in expressions if request.get(e) is not None]
    if used:
        old = [p for p in legacy if request.get(p) is not None]
        # KeyConditions may go with a FilterExpression or ProjectionExpression, not with a
        # KeyConditionExpression: DynamoDB counts it only beside the latter.
        if "KeyConditionExpression" not in used and "KeyConditions" in old:
            old.remove("KeyConditions")
        if old:
            raise invalid(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(old)}}} Expression parameters: "
                f"{{{', '.join(used)}}}"
            )
    if request.get("ExpressionAttributeNames") is not None and not used:
        raise invalid("ExpressionAttributeNames can only be specified when using expressions")
    valued = [e for e in expressions if e != "ProjectionExpression"]
    if (
        valued
        and request.get("ExpressionAttributeValues") is not None
        and all(request.get(e) is None for e in valued)
    ):
        verb = "are" if len(valued) > 1 else "is"
        raise invalid(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(valued)} {verb} null"
        )


def _enum(value: Any, member: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return str(value)


def _combine(parts: list[Condition], request: Mapping[str, Any]) -> Condition | None:
    if not parts:
        return None
    joiner = request.get("ConditionalOperator")
    joiner = "AND" if joiner is None else _enum(joiner, "conditionalOperator", ("AND", "OR"))
    tree = parts[0]
    for part in parts[1:]:
        tree = Logical(joiner, tree, part)
    return tree


def _literals(values: Any, name: str) -> list[Literal]:
    if not isinstance(values, list):
        raise invalid(f"AttributeValueList must be a list for Attribute: {name}")
    return [Literal(normalise(v), name) for v in values]


def _comparison(name: str, operator: Any, values: list[Literal], member: str) -> Condition:
    """One attribute's legacy condition as a tree, checked as DynamoDB checks it."""
    op = _enum(operator, f"{member}.{name}.member.comparisonOperator", tuple(_ARITY))
    low, high = _ARITY[op]
    if not low <= len(values) <= high:
        raise parameter(f"Invalid number of argument(s) for the {op} ComparisonOperator")
    kinds = [next(iter(v.value)) for v in values]
    if any(k != kinds[0] for k in kinds):
        raise parameter("AttributeValues inside AttributeValueList must be of same type")
    allowed = _TYPES.get(op)
    for kind in kinds:
        if allowed is not None and kind not in allowed:
            raise parameter(f"ComparisonOperator {op} is not valid for {kind} AttributeValue type")
    path = PathRef((name,))
    if op in _COMPARATORS:
        return Compare(_COMPARATORS[op], path, values[0])
    if op == "NULL":
        return Call("attribute_not_exists", (path,))
    if op == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if op == "CONTAINS":
        return Call("contains", (path, values[0]))
    if op == "NOT_CONTAINS":
        present = Call("attribute_exists", (path,))
        return Logical("AND", present, Not(Call("contains", (path, values[0]))))
    if op == "BEGINS_WITH":
        return Call("begins_with", (path, values[0]))
    if op == "IN":
        return In(path, tuple(values))
    if order(values[0].value, values[1].value) == 1:
        raise invalid(
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound"
        )
    return Between(path, values[0], values[1])


def expected(request: Mapping[str, Any]) -> Condition | None:
    """``Expected`` (with ``ConditionalOperator``) as a condition tree; None without it."""
    given = request.get("Expected")
    if not given:
        return None
    parts: list[Condition] = []
    for name, spec in given.items():
        if not isinstance(spec, dict):
            raise invalid(f"Expected must map attribute names to conditions: {name}")
        if "AttributeValueList" in spec and "Value" in spec:
            raise parameter(
                f"Value and AttributeValueList cannot be used together for Attribute: {name}"
            )
        if "ComparisonOperator" in spec:
            op = spec["ComparisonOperator"]
            if "Exists" in spec:
                raise parameter(
                    f"Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )
            given_values = "AttributeValueList" in spec or "Value" in spec
            if op not in ("NULL", "NOT_NULL") and not given_values:
                raise parameter(
                    f"Value or AttributeValueList must be used with ComparisonOperator: {op} "
                    f"for Attribute: {name}"
                )
            raw = spec.get("AttributeValueList", [])
            if "Value" in spec:
                raw = [spec["Value"]]
            parts.append(_comparison(name, op, _literals(raw, name), "expected"))
            continue
        if "AttributeValueList" in spec:
            raise parameter(
                f"AttributeValueList can only be used with a ComparisonOperator for Attribute: "
                f"{name}"
            )
        exists = spec.get("Exists")
        if (exists is None or exists) and spec.get("Value") is None:
            shown = "null" if exists is None else "true"
            raise parameter(f"Value must be provided when Exists is {shown} for Attribute: {name}")
        if exists is False:
            if spec.get("Value") is not None:
                raise parameter(f"Value cannot be used when Exists is false for Attribute: {name}")
            parts.append(Call("attribute_not_exists", (PathRef((name,)),)))
        else:
            value = Literal(normalise(spec["Value"]), name)
            parts.append(Compare("=", PathRef((name,)), value))
    return _combine(parts, request)


def _conditions(given: Any, member: str) -> list[Condition]:
    if not isinstance(given, dict):
        raise invalid(f"{member} must map attribute names to conditions")
    parts: list[Condition] = []
    for name, spec in given.items():
        if not isinstance(spec, dict):
            raise invalid(f"{member} must map attribute names to conditions: {name}")
        values = _literals(spec.get("AttributeValueList") or [], name)
        lowered = member[0].lower() + member[1:]
        parts.append(_comparison(name, spec.get("ComparisonOperator"), values, lowered))
    return parts


def filters(request: Mapping[str, Any], member: str, keys: KeySchema | None) -> Condition | None:
    """``QueryFilter`` or ``ScanFilter`` as a filter tree; None without it. A QueryFilter may
    not name the queried key's attributes (``keys``), as DynamoDB refuses."""
    given = request.get(member)
    if not given:
        return None
    if keys is not None:
        for name in given:
            if name in (keys.partition, keys.sort):
                raise invalid(
                    f"QueryFilter can only contain non-primary key attributes: Primary key "
                    f"attribute: {name}"
                )
    return _combine(_conditions(given, member), request)


def key_conditions(request: Mapping[str, Any]) -> Condition:
    """``KeyConditions`` as a key condition tree (``keys.key_condition`` checks the rest)."""
    given = request["KeyConditions"]
    if isinstance(given, dict):
        for spec in given.values():
            op = spec.get("ComparisonOperator") if isinstance(spec, dict) else None
            if op not in _KEY_OPERATORS and op in _ARITY:
                raise invalid("Attempted conditional constraint is not an indexable operation")
    parts = _conditions(given, "KeyConditions")
    if not parts:
        raise invalid("KeyConditions must not be empty")
    tree = parts[0]
    for part in parts[1:]:
        tree = Logical("AND", tree, part)
    return tree


def attribute_updates(request: Mapping[str, Any], schema: KeySchema) -> list[Action]:
    """``AttributeUpdates`` as update actions: PUT sets, DELETE without a value removes the
    attribute and with a set removes its members, ADD adds to a number or set (a missing
    attribute counts as 0 or empty) and appends to a list."""
    given = request["AttributeUpdates"]
    if not isinstance(given, dict):
        raise invalid("AttributeUpdates must map attribute names to updates")
    actions: list[Action] = []
    for name, spec in given.items():
        if not isinstance(spec, dict):
            raise invalid(f"AttributeUpdates must map attribute names to updates: {name}")
        if name in (schema.partition, schema.sort):
            raise parameter(f"Cannot update attribute {name}. This attribute is part of the key")
        action = spec.get("Action", "PUT")
        action = _enum(action, f"attributeUpdates.{name}.member.action", ("ADD", "PUT", "DELETE"))
        raw = spec.get("Value")
        if raw is None:
            if action != "DELETE":
                raise parameter(
                    "Only DELETE action is allowed when no attribute value is specified"
                )
            actions.append(Action("REMOVE", (name,), None))
            continue
        value = Literal(normalise(raw), name)
        kind = next(iter(value.value))
        path: Path = (name,)
        if action == "PUT":
            actions.append(Action("SET", path, value))
        elif action == "DELETE":
            if kind not in SETS:
                raise parameter(f"DELETE action with value is not supported for the type {kind}")
            actions.append(Action("DELETE", path, value))
        elif kind == "L":
            empty = Literal({"L": []}, name)
            start = Call("if_not_exists", (PathRef(path), empty))
            actions.append(Action("SET", path, Call("list_append", (start, value))))
        elif kind == "N" or kind in SETS:
            actions.append(Action("ADD", path, value))
        else:
            raise parameter(f"ADD action is not supported for the type {kind}")
    return actions


def attributes_to_get(request: Mapping[str, Any]) -> list[Path] | None:
    """``AttributesToGet`` as projection paths (top-level names); None without it."""
    names = request.get("AttributesToGet")
    if names is None:
        return None
    if not isinstance(names, list) or not names:
        raise invalid(
            f"1 validation error detected: Value '{names}' at 'attributesToGet' failed to "
            "satisfy constraint: Member must have length greater than or equal to 1"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise parameter(f"Duplicate value in attribute name: {name}")
        seen.add(name)
    if request.get("Select") == "ALL_ATTRIBUTES":
        raise invalid("Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
    return [(str(n),) for n in names]
