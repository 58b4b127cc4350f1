"""EventBridge's event-pattern language: a pattern read and checked once (``compile``), then
matched against events (``EventPattern.matches``, or ``matches_flat`` over an event flattened
once for many rules). Pure.

A pattern is a JSON object whose keys name fields of the event (nested objects name nested
fields) and whose leaves are arrays of conditions; an event matches when every leaf has a
condition that one of the field's values satisfies (an array in the event matches when any
element does). ``$or`` takes a list of objects, any of which may match. The conditions:

    "red", 42, true, null, ""            exact (strings case-sensitive; numbers numerically)
    {"prefix": "a"}  {"prefix": {"equals-ignore-case": "a"}}  (suffix the same)
    {"equals-ignore-case": "RED"}        {"wildcard": "dir/*.png"}  (``\\*`` a literal star)
    {"anything-but": "red" | 42 | ["red", "blue"] | [1, 2] | {"prefix": "a"} | {"suffix": "z"}
                     | {"wildcard": "a*" | ["a*", "*b"]} | {"equals-ignore-case": "x" | [...]}}
    {"numeric": [">", 0, "<=", 5]}       {"exists": true | false}   {"cidr": "10.0.0.0/24"}

``exists`` looks at leaves only: a field holding an object or an empty array does not exist
for it. ``null`` matches a field that is null, not a missing one. Every malformed part is
refused with InvalidEventPatternException and the reason EventBridge gives.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skylet.aws.json_match import (
    NUMERIC_OPERATORS,
    Test,
    Value,
    cidr_test,
    exact,
    flatten,
    is_number,
    numeric_test,
    string_test,
)
from skylet.errors import ServiceError

MAX_PATTERN_CHARS = 4096  # PutRule's EventPattern, per the model


class PatternError(ValueError):
    """A pattern EventBridge refuses; ``str()`` is its reason."""


def invalid_pattern(reason: str) -> ServiceError:
    return ServiceError(
        "InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}"
    )


@dataclass(frozen=True, slots=True)
class Condition:
    test: Test | None
    exists: bool | None = None
    #: The value of an exact string condition (what a rule index keys on), else None.
    equals: str | None = None

    def holds(self, values: Sequence[Value] | None) -> bool:
        if self.exists is not None:
            return self.exists == (values is not None)
        return values is not None and any(self.test(v) for v in values)  # type: ignore[misc]


#: One way through a pattern (``$or`` makes several): each dotted path with its conditions.
Branch = tuple[tuple[str, tuple[Condition, ...]], ...]


@dataclass(frozen=True, slots=True)
class EventPattern:
    branches: tuple[Branch, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self.matches_flat(flatten(event))

    def matches_flat(self, flat: Mapping[str, Sequence[Value]]) -> bool:
        """Match an event already flattened by ``json_match.flatten`` (once for every rule)."""
        get = flat.get
        return any(
            all(any(c.holds(get(path)) for c in conditions) for path, conditions in branch)
            for branch in self.branches
        )

    def paths(self) -> frozenset[str]:
        """Every dotted path some branch names."""
        return frozenset(path for branch in self.branches for path, _ in branch)

    def required_values(self, path: str) -> frozenset[str] | None:
        """The strings ``path`` must equal for any event to match (every branch names ``path``
        with exact strings only), or None when the pattern does not pin it: a rule index
        (``source``) skips the rules an event cannot match without evaluating them."""
        found: set[str] = set()
        for branch in self.branches:
            conditions = dict(branch).get(path)
            if not conditions or any(c.equals is None for c in conditions):
                return None
            found.update(c.equals for c in conditions if c.equals is not None)
        return frozenset(found)


def compile_pattern(text: str) -> EventPattern:
    """Read ``text``, raising InvalidEventPatternException (a 400) with EventBridge's reason."""
    try:
        return parse(text)
    except PatternError as error:
        raise invalid_pattern(str(error)) from None


def parse(text: str) -> EventPattern:
    """Read ``text``, raising ``PatternError``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PatternError(f"Unrecognized token: {error.msg}") from None
    if not isinstance(document, dict):
        raise PatternError("Filter is not an object")
    if not document:
        raise PatternError("Empty objects are not allowed")
    return EventPattern(tuple(tuple(b.items()) for b in _branches(document, "")))


def _branches(node: Mapping[str, Any], parent: str) -> list[dict[str, tuple[Condition, ...]]]:
    """Every way through ``node``: a cross product over its ``$or`` lists."""
    ways: list[dict[str, tuple[Condition, ...]]] = [{}]
    for key, value in node.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("Or relationship must contain at least two conditions")
            alternatives: list[dict[str, tuple[Condition, ...]]] = []
            for branch in value:
                if not isinstance(branch, dict) or not branch:
                    raise PatternError("Or relationship must be an array of objects")
                alternatives.extend(_branches(branch, parent))
            ways = [{**w, **a} for w in ways for a in alternatives]
            continue
        path = f"{parent}.{key}" if parent else key
        if isinstance(value, dict):
            if not value:
                raise PatternError("Empty objects are not allowed")
            inner = _branches(value, path)
            ways = [{**w, **i} for w in ways for i in inner]
        elif isinstance(value, list):
            if not value:
                raise PatternError("Empty arrays are not allowed")
            conditions = tuple(_condition(rule) for rule in value)
            ways = [{**w, path: conditions} for w in ways]
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return ways


def _condition(rule: Any) -> Condition:
    if isinstance(rule, str):
        return Condition(exact(rule), equals=rule)
    if rule is None or isinstance(rule, bool | int | float):
        return Condition(exact(rule))
    if not isinstance(rule, dict):
        raise PatternError("Match value must be String, number, true, false, or null")
    if len(rule) != 1:
        raise PatternError("Only one key allowed in match expression")
    ((operator, operand),) = rule.items()
    if operator in ("prefix", "suffix"):
        return Condition(_affix(operator, operand))
    if operator == "equals-ignore-case":
        return Condition(string_test(operator, _string(operator, operand)))
    if operator == "wildcard":
        return Condition(_wildcard(_string(operator, operand)))
    if operator == "anything-but":
        return Condition(_anything_but(operand))
    if operator == "exists":
        if not isinstance(operand, bool):
            raise PatternError("exists match pattern must be either true or false.")
        return Condition(None, exists=operand)
    if operator == "numeric":
        return Condition(_numeric(operand))
    if operator == "cidr":
        return Condition(_cidr(operand))
    raise PatternError(f"Unrecognized match type {operator}")


def _string(operator: str, operand: Any) -> str:
    if not isinstance(operand, str):
        raise PatternError(f"{operator} match pattern must be a string")
    return operand


def _affix(operator: str, operand: Any) -> Test:
    """``prefix``/``suffix``, with a string or ``{"equals-ignore-case": string}``."""
    if isinstance(operand, dict):
        if list(operand) != ["equals-ignore-case"]:
            raise PatternError(f"Unsupported {operator} pattern: {', '.join(operand) or '{}'}")
        folded = _string("equals-ignore-case", operand["equals-ignore-case"]).casefold()
        if operator == "prefix":
            return lambda v: isinstance(v, str) and v.casefold().startswith(folded)
        return lambda v: isinstance(v, str) and v.casefold().endswith(folded)
    return string_test(operator, _string(operator, operand))


def _wildcard(pattern: str) -> Test:
    """``*`` any run of characters (none included); ``\\*`` and ``\\\\`` literal."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            if following not in ("*", "\\"):
                raise PatternError(f"Invalid escape character at pos {i}")
            parts.append(re.escape(following))
            i += 2
            continue
        if char == "*":
            if pattern[i + 1 : i + 2] == "*":
                raise PatternError(f"Consecutive wildcard characters at pos {i}")
            parts.append(".*")
        else:
            parts.append(re.escape(char))
        i += 1
    compiled = re.compile("".join(parts), re.DOTALL)
    return lambda v: isinstance(v, str) and compiled.fullmatch(v) is not None


def _anything_but(operand: Any) -> Test:
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise PatternError("Only one key allowed in match expression")
        ((inner, value),) = operand.items()
        if inner in ("prefix", "suffix"):
            excluded = string_test(inner, _string(inner, value))
        elif inner in ("wildcard", "equals-ignore-case"):
            texts = value if isinstance(value, list) else [value]
            if not texts:
                raise PatternError("Empty arrays are not allowed")
            make = _wildcard if inner == "wildcard" else lambda t: string_test(inner, t)
            tests = [make(_string(inner, t)) for t in texts]
            excluded = lambda v: any(t(v) for t in tests)  # noqa: E731
        else:
            raise PatternError(f"Unsupported anything-but pattern: {inner}")
        return lambda v: isinstance(v, str) and not excluded(v)
    if isinstance(operand, list):
        if not operand:
            raise PatternError("Empty arrays are not allowed")
        kinds = {
            "string" if isinstance(v, str) else "number" if is_number(v) else "" for v in operand
        }
        if "" in kinds or len(kinds) > 1:
            raise PatternError("Inside anything but list, start|null|boolean is not supported.")
        values = list(operand)
    elif isinstance(operand, str) or is_number(operand):
        values = [operand]
    else:
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    tests = [exact(v) for v in values]
    return lambda v: not any(t(v) for t in tests)


def _numeric(operand: Any) -> Test:
    if not isinstance(operand, list) or not operand:
        raise PatternError("Value of numeric must be an array.")
    first = operand[0]
    if not isinstance(first, str):
        raise PatternError(f"Invalid member in numeric match: {json.dumps(first)}")
    if first not in NUMERIC_OPERATORS:
        raise PatternError(f"Unrecognized numeric range operator: {first}")
    low = operand[1] if len(operand) > 1 else None
    if not is_number(low):
        raise PatternError(f"Value of {'equals' if first == '=' else first} must be numeric")
    bounds = [(first, float(low))]  # type: ignore[arg-type]
    if len(operand) > 2:
        if first not in (">", ">="):
            raise PatternError("Too many elements in numeric expression")
        second = operand[2]
        if not isinstance(second, str) or second not in ("<", "<="):
            raise PatternError(f"Bad numeric range operator: {second}")
        high = operand[3] if len(operand) > 3 else None
        if not is_number(high):
            raise PatternError(f"Value of {second} must be numeric")
        if float(high) <= float(low):  # type: ignore[arg-type]
            raise PatternError("Bottom must be less than top")
        if len(operand) > 4:
            raise PatternError("Too many terms in numeric range expression")
        bounds.append((second, float(high)))  # type: ignore[arg-type]
    return numeric_test(bounds)


def _cidr(operand: Any) -> Test:
    text = _string("cidr", operand)
    address, slash, mask = text.partition("/")
    if not slash or "/" in mask or not mask.isdigit():
        raise PatternError(f"Malformed CIDR, one '/' required: {text}")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise PatternError(f"Nonstandard IP address: {address}") from None
    return cidr_test(network)
