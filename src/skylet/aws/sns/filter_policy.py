"""SNS's filter-policy language: a policy read and checked once (``parse``), then matched
against each message (``FilterPolicy.matches``). Pure.

A policy is a JSON object of keys to arrays of conditions; a message passes when, for every
key, at least one condition matches (``$or`` takes a list of such objects, any of which may
pass). The conditions:

    "red", 42, true, null               exact (strings case-sensitive; numbers numerically)
    {"prefix": "a"}  {"suffix": ".png"}  {"equals-ignore-case": "RED"}
    {"anything-but": "red" | 42 | ["red", 42] | {"prefix": "a"} | {"suffix": "z"}}
    {"numeric": ["=", 5]}  {"numeric": [">", 0, "<=", 5]}     (=, <, <=, >, >=, a range)
    {"exists": true | false}
    {"cidr": "10.0.0.0/24"}

Scope ``MessageAttributes`` (the default) matches message attributes by name: ``String``
values against strings, ``Number`` values against numbers, each element of a ``String.Array``
as a JSON value; ``Binary`` attributes are ignored, as SNS ignores them. Scope ``MessageBody``
matches the message, a JSON object, with nested keys (``{"order": {"kind": ["book"]}}`` or
``{"order.kind": …}``); an array in the message matches when any element does.

SNS's limits are checked as SNS does: 5 keys (a nested policy counts its top keys; ``$or``
its largest branch), 150 combinations (the product of each array's length times its depth;
the sum over ``$or`` branches), and every malformed part refused with SNS's message.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from skylet.aws.json_match import (
    NUMERIC_OPERATORS,
    Test,
    Value,
    cidr_test,
    flatten,
    is_number,
    numeric_test,
    scalar,
    string_test,
)
from skylet.aws.json_match import exact as _exact
from skylet.aws.sns.names import invalid
from skylet.errors import ServiceError

Scope = Literal["MessageAttributes", "MessageBody"]
SCOPES: tuple[Scope, ...] = ("MessageAttributes", "MessageBody")
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024
_NUMERIC_OPS = NUMERIC_OPERATORS


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a key: ``exists`` conditions look at presence, the rest at values."""

    test: Test | None
    exists: bool | None = None

    def matches(self, values: Sequence[Value] | None) -> bool:
        if self.exists is not None:
            return self.exists == (values is not None)
        test = self.test
        return values is not None and test is not None and any(test(v) for v in values)


#: One way through the policy (``$or`` makes several): dotted key → its conditions.
Branch = Mapping[str, tuple[Condition, ...]]


@dataclass(frozen=True, slots=True)
class FilterPolicy:
    scope: Scope
    branches: tuple[Branch, ...]

    def matches(self, attributes: Mapping[str, tuple[str, str]], body: str) -> bool:
        """Whether a message passes: ``attributes`` name → (DataType, value) as published."""
        if self.scope == "MessageAttributes":
            lookup = _attribute_values(attributes)
        else:
            try:
                document = json.loads(body)
            except ValueError:
                return False  # SNS: a body policy passes only JSON objects
            if not isinstance(document, dict):
                return False
            lookup = _body_values(document)
        return any(
            all(any(c.matches(lookup(key)) for c in conditions) for key, conditions in b.items())
            for b in self.branches
        )


def parse(text: str, scope: str = "MessageAttributes", *, subscribe: bool = False) -> FilterPolicy:
    """Read and check a policy as Subscribe (``subscribe``) or SetSubscriptionAttributes
    would, raising InvalidParameter with SNS's message."""
    prefix = "Attributes Reason: " if subscribe else ""
    if scope not in SCOPES:
        raise invalid(
            f"{prefix}FilterPolicyScope: Invalid value [{scope}]. Please use either "
            "MessageBody or MessageAttributes"
        )
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise invalid(f"{prefix}FilterPolicy: Filter policy is too long")
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(f"{prefix}FilterPolicy: failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise invalid(f"{prefix}FilterPolicy: Filter policy must be a JSON object")
    reader = _Reader(prefix, scope == "MessageBody")
    if reader.keys(document) > MAX_KEYS:
        raise reader.error("Filter policy can not have more than 5 keys")
    branches, combinations = reader.branches(document, "", 1)
    if combinations > MAX_COMBINATIONS:
        raise reader.error("Filter policy is too complex")
    return FilterPolicy(scope, tuple(branches))


class _Reader:
    def __init__(self, prefix: str, nested: bool) -> None:
        self.prefix = prefix
        self.nested = nested

    def error(self, message: str) -> ServiceError:
        return invalid(f"{self.prefix}FilterPolicy: {message}")

    def keys(self, node: Mapping[str, Any]) -> int:
        count = sum(1 for key in node if key != "$or")
        branches = node.get("$or")
        if isinstance(branches, list):
            count += max((self.keys(b) for b in branches if isinstance(b, dict)), default=0)
        return count

    def branches(
        self, node: Mapping[str, Any], parent: str, depth: int
    ) -> tuple[list[dict[str, tuple[Condition, ...]]], int]:
        """Every way through ``node`` (a cross product over ``$or``), and its combinations."""
        ways: list[dict[str, tuple[Condition, ...]]] = [{}]
        combinations = 1
        for key, value in node.items():
            if key == "$or":
                ways, combinations = self._or(value, parent, depth, ways, combinations)
                continue
            path = f"{parent}.{key}" if parent else key
            if isinstance(value, dict):
                if not self.nested:
                    raise invalid(
                        f"{self.prefix}Filter policy scope MessageAttributes does not support "
                        "nested filter policy"
                    )
                inner, count = self.branches(value, path, depth + 1)
                ways = [{**w, **i} for w in ways for i in inner]
                combinations *= count
            elif isinstance(value, list):
                if not value:
                    raise self.error("Empty arrays are not allowed")
                conditions = tuple(self.condition(rule) for rule in value)
                ways = [{**w, path: conditions} for w in ways]
                combinations *= len(value) * depth
            else:
                raise self.error(f'"{key}" must be an object or an array')
        return ways, combinations

    def _or(
        self,
        value: Any,
        parent: str,
        depth: int,
        ways: list[dict[str, tuple[Condition, ...]]],
        combinations: int,
    ) -> tuple[list[dict[str, tuple[Condition, ...]]], int]:
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.error('"$or" must be an array of objects')
        alternatives: list[dict[str, tuple[Condition, ...]]] = []
        total = 0
        for branch in value:
            inner, count = self.branches(branch, parent, depth)
            alternatives.extend(inner)
            total += combinations * count
        return [{**w, **a} for w in ways for a in alternatives], total

    def condition(self, rule: Any) -> Condition:
        if rule is None or isinstance(rule, str | bool | int | float):
            return Condition(_exact(rule))
        if not isinstance(rule, dict):
            raise self.error("Match value must be String, number, true, false, or null")
        if len(rule) != 1:
            raise self.error("Only one key allowed in match expression")
        ((operator, operand),) = rule.items()
        if operator in ("prefix", "suffix", "equals-ignore-case"):
            if not isinstance(operand, str):
                raise self.error(f"{operator} match pattern must be a string")
            return Condition(string_test(operator, operand))
        if operator == "anything-but":
            return Condition(self._anything_but(operand))
        if operator == "exists":
            if not isinstance(operand, bool):
                raise self.error("exists match pattern must be either true or false.")
            return Condition(None, exists=operand)
        if operator == "numeric":
            return Condition(self._numeric(operand))
        if operator == "cidr":
            return Condition(self._cidr(operand))
        raise self.error(f"Unrecognized match type {operator}")

    def _anything_but(self, operand: Any) -> Test:
        if isinstance(operand, dict):
            if len(operand) != 1:
                raise self.error("Only one key allowed in match expression")
            ((inner, text),) = operand.items()
            if inner not in ("prefix", "suffix"):
                raise self.error(f"Unsupported anything-but pattern: {inner}")
            if not isinstance(text, str):
                raise self.error(f"{inner} match pattern must be a string")
            matches = string_test(inner, text)
            return lambda v: isinstance(v, str) and not matches(v)
        values = operand if isinstance(operand, list) else [operand]
        if not values:
            raise self.error("Empty arrays are not allowed")
        for value in values:
            if isinstance(value, dict | list):
                raise self.error("Match value must be String, number, true, false, or null")
        excluded = [_exact(v) for v in values]
        return lambda v: not any(test(v) for test in excluded)

    def _numeric(self, operand: Any) -> Test:
        if not isinstance(operand, list) or not operand:
            raise self.error("Invalid member in numeric match: ]")
        terms = list(operand)
        first = terms[0]
        if not isinstance(first, str):
            raise self.error(f"Invalid member in numeric match: {_show(first)}")
        if first not in _NUMERIC_OPS:
            raise self.error(f"Unrecognized numeric range operator: {first}")
        low = terms[1] if len(terms) > 1 else None
        if not is_number(low):
            raise self.error(f"Value of {'equals' if first == '=' else first} must be numeric")
        bounds = [(first, float(low))]  # type: ignore[arg-type]
        if len(terms) > 2:
            if first not in (">", ">="):
                raise self.error("Too many elements in numeric expression")
            second = terms[2]
            if not isinstance(second, str):
                raise self.error(f"Bad value in numeric range: {_show(second)}")
            if second not in ("<", "<="):
                raise self.error(f"Bad numeric range operator: {second}")
            high = terms[3] if len(terms) > 3 else None
            if not is_number(high):
                raise self.error(f"Value of {second} must be numeric")
            if float(high) <= float(low):  # type: ignore[arg-type]
                raise self.error("Bottom must be less than top")
            if len(terms) > 4:
                raise self.error("Too many terms in numeric range expression")
            bounds.append((second, float(high)))  # type: ignore[arg-type]
        return numeric_test(bounds)

    def _cidr(self, operand: Any) -> Test:
        if not isinstance(operand, str):
            raise self.error("prefix match pattern must be a string")
        address, slash, mask = operand.partition("/")
        if not slash or "/" in mask:
            raise self.error("Malformed CIDR, one '/' required")
        if not mask.isdigit():
            raise self.error("Malformed CIDR, mask bits must be an integer")
        try:
            network = ipaddress.ip_network(operand, strict=False)
        except ValueError:
            raise self.error(f"Nonstandard IP address: {address}") from None
        return cidr_test(network)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _attribute_values(
    attributes: Mapping[str, tuple[str, str]],
) -> Callable[[str], Sequence[Value] | None]:
    def lookup(name: str) -> Sequence[Value] | None:
        found = attributes.get(name)
        if found is None:
            return None
        data_type, text = found
        base = data_type.split(".", 1)[0]
        if data_type == "String.Array":
            try:
                array = json.loads(text)
            except ValueError:
                return []
            if not isinstance(array, list):
                return []
            return [scalar(v) for v in array if not isinstance(v, dict | list)]
        if base == "Number":
            try:
                return [float(text)]
            except ValueError:
                return []
        if base == "String":
            return [text]
        return None  # Binary: SNS ignores it

    return lookup


def _body_values(document: Mapping[str, Any]) -> Callable[[str], Sequence[Value] | None]:
    return flatten(document).get
