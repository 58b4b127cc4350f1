"""Key conditions (pure): a KeyConditionExpression's tree to the range of one partition a
Query reads, checked as DynamoDB checks it.

    key = key_condition(tree, schema)     # KeyRange(partition, low, high, ...)

A key condition is ``pk = :v``, optionally ``AND`` one condition on the sort key: ``=``,
``<``, ``<=``, ``>``, ``>=``, ``BETWEEN :a AND :b`` or ``begins_with(sk, :p)``. The range is
given as key bytes (``values.key_bytes``), so the store compares them as DynamoDB orders keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from skylet.aws.dynamodb.grammar import Between, Call, Compare, Condition, Literal, Logical, PathRef
from skylet.aws.dynamodb.values import Value, invalid, key_bytes, parameter

_KIND = "KeyConditionExpression"


@dataclass(frozen=True, slots=True)
class KeySchema:
    """A table's or index's key: attribute names and their types (S, N or B)."""

    partition: str
    partition_type: str
    sort: str | None = None
    sort_type: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRange:
    """One partition, and the sort keys in [low, high] (either None: unbounded), with the
    ends themselves included or not."""

    partition: bytes
    low: bytes | None = None
    high: bytes | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


def _unsupported(op: str) -> Exception:
    return invalid(f"Invalid operator used in KeyConditionExpression: {op}")


def _parts(tree: Condition) -> list[Condition]:
    if isinstance(tree, Logical):
        if tree.op != "AND":
            raise _unsupported(tree.op)
        return [*_parts(tree.left), *_parts(tree.right)]
    return [tree]


def _key_name(operand: object) -> str | None:
    if isinstance(operand, PathRef) and len(operand.path) == 1 and isinstance(operand.path[0], str):
        return operand.path[0]
    return None


def _literal(operand: object, expected: str | None) -> Value:
    if not isinstance(operand, Literal):
        raise invalid("Query key condition not supported")
    value = operand.value
    if expected is not None and next(iter(value)) != expected:
        raise parameter("Condition parameter type does not match schema type")
    return value


def key_condition(tree: Condition, schema: KeySchema) -> KeyRange:
    parts = _parts(tree)
    if len(parts) > 2:
        raise invalid("Conditions can be of length 1 or 2 only")
    partition: bytes | None = None
    sort: KeyRange | None = None
    for part in parts:
        name = _subject(part)
        if name == schema.partition:
            if partition is not None:
                raise invalid("KeyConditionExpressions must only contain one condition per key")
            if not isinstance(part, Compare) or part.op != "=":
                raise invalid("Query key condition not supported")
            partition = key_bytes(_literal(part.right, schema.partition_type))
        elif schema.sort is not None and name == schema.sort:
            if sort is not None:
                raise invalid("KeyConditionExpressions must only contain one condition per key")
            sort = _sort_range(part, schema.sort_type)
        else:
            raise invalid("Query key condition not supported")
    if partition is None:
        raise invalid(f"Query condition missed key schema element: {schema.partition}")
    if sort is None:
        return KeyRange(partition)
    return KeyRange(partition, sort.low, sort.high, sort.low_inclusive, sort.high_inclusive)


def _subject(part: Condition) -> str | None:
    if isinstance(part, Compare):
        if part.op == "<>":
            raise _unsupported("<>")
        return _key_name(part.left)
    if isinstance(part, Between):
        return _key_name(part.subject)
    if isinstance(part, Call):
        if part.name != "begins_with":
            raise _unsupported(part.name)
        return _key_name(part.args[0])
    raise _unsupported("NOT" if type(part).__name__ == "Not" else "IN")


def _sort_range(part: Condition, kind: str | None) -> KeyRange:
    if isinstance(part, Compare):
        at = key_bytes(_literal(part.right, kind))
        return {
            "=": KeyRange(b"", at, at),
            "<": KeyRange(b"", None, at, True, False),
            "<=": KeyRange(b"", None, at),
            ">": KeyRange(b"", at, None, False, True),
            ">=": KeyRange(b"", at, None),
        }[part.op]
    if isinstance(part, Between):
        low = _literal(part.low, kind)
        high = _literal(part.high, kind)
        if key_bytes(low) > key_bytes(high):
            raise invalid(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to "
                "be greater than or equal to lower bound; lower bound operand: AttributeValue: "
                f"{_show(low)}, upper bound operand: AttributeValue: {_show(high)}"
            )
        return KeyRange(b"", key_bytes(low), key_bytes(high))
    assert isinstance(part, Call)
    if kind == "N":
        raise invalid(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N"
        )
    prefix = key_bytes(_literal(part.args[1], kind))
    following = successor(prefix)
    return KeyRange(b"", prefix, following, True, False)


def successor(prefix: bytes) -> bytes | None:
    """The least byte string greater than every string starting with ``prefix`` (None: no
    bound, the prefix is all 0xFF)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _show(value: Value) -> str:
    (kind,) = value
    return f"{{{kind}:{value[kind]}}}"
