"""Event filter patterns (Lambda's FilterCriteria, EventBridge's pattern language): checking a
pattern and matching an event against it. Pure.

A pattern is a JSON object whose keys are the event's: a nested object matches a nested
object, and a list holds the matchers of one field, any of which may match (a field that is
a list matches when any of its elements does). Matchers: a literal (string, number, true,
false, null), ``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``,
``{"wildcard": "a*b"}``, ``{"anything-but": v | [v…] | {"prefix": s} | {"suffix": s}}``,
``{"numeric": [">", 0, "<=", 5]}``, ``{"exists": true | false}``; ``{"$or": [pattern, …]}``
at any level. Numbers are matched as numbers; a literal number matches the same number only
(``300`` is not ``"300"``).
"""

from __future__ import annotations

import fnmatch
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()
_COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}
_MATCHER_KEYS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists"}
)


class PatternError(ValueError):
    """A pattern that is not one (Lambda: "Invalid filter pattern definition.")."""


def parse(text: str) -> dict[str, Any]:
    """A pattern from its JSON text, checked; PatternError for anything else."""
    try:
        pattern = json.loads(text)
    except (TypeError, ValueError):
        raise PatternError("the pattern is not JSON") from None
    check(pattern)
    return pattern  # type: ignore[no-any-return]


def check(pattern: Any) -> None:
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError("a pattern is a non-empty JSON object")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("$or takes a list of at least two patterns")
            for alternative in value:
                check(alternative)
        elif isinstance(value, dict):
            check(value)
        elif isinstance(value, list) and value:
            for matcher in value:
                _check_matcher(matcher)
        else:
            raise PatternError(f"{key!r}: a field's matchers are a non-empty list")


def _check_matcher(matcher: Any) -> None:
    if matcher is None or isinstance(matcher, str | int | float | bool):
        return
    if not isinstance(matcher, dict) or len(matcher) != 1:
        raise PatternError(f"{matcher!r} is not a matcher")
    ((kind, argument),) = matcher.items()
    if kind not in _MATCHER_KEYS:
        raise PatternError(f"{kind!r} is not a matcher")
    if kind == "exists" and not isinstance(argument, bool):
        raise PatternError("exists takes true or false")
    if kind in ("prefix", "suffix", "equals-ignore-case", "wildcard") and not isinstance(
        argument, str
    ):
        raise PatternError(f"{kind} takes a string")
    if kind == "numeric":
        _comparisons(argument)


def _comparisons(argument: Any) -> list[tuple[str, float]]:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise PatternError("numeric takes one or two comparisons")
    pairs = []
    for op, number in zip(argument[::2], argument[1::2], strict=True):
        if op not in _COMPARISONS or not _is_number(number):
            raise PatternError(f"numeric: {op!r} {number!r} is not a comparison")
        pairs.append((op, float(number)))
    return pairs


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` (a JSON-like value) matches the checked ``pattern``."""
    if not isinstance(event, Mapping):
        return False
    for key, value in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in value):
                return False
        elif isinstance(value, Mapping):
            if not matches(value, event.get(key)):
                return False
        elif not _field_matches(value, event.get(key, _MISSING)):
            return False
    return True


def _field_matches(matchers: Sequence[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if (value is not _MISSING) == matcher["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        if any(_matches_one(matcher, v) for v in values):
            return True
    return False


def _matches_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _same(matcher, value)
    ((kind, argument),) = matcher.items()
    if kind == "numeric":
        return _is_number(value) and all(
            _COMPARISONS[op](float(value), number) for op, number in _comparisons(argument)
        )
    if kind == "anything-but":
        return not _anything_but_excludes(argument, value)
    if not isinstance(value, str):
        return False
    if kind == "prefix":
        return value.startswith(argument)
    if kind == "suffix":
        return value.endswith(argument)
    if kind == "equals-ignore-case":
        return value.casefold() == str(argument).casefold()
    return fnmatch.fnmatchcase(value, argument.replace("[", "[[]"))  # wildcard: only *


def _anything_but_excludes(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        ((kind, text),) = argument.items()
        if not isinstance(value, str):
            return False
        return bool(value.startswith(text) if kind == "prefix" else value.endswith(text))
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_same(item, value) for item in excluded)


def _same(literal: Any, value: Any) -> bool:
    if _is_number(literal) or _is_number(value):
        return _is_number(literal) and _is_number(value) and float(literal) == float(value)
    return bool(literal == value) and type(literal) is type(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
