"""Trigger filters with Knative's semantics, compiled once per trigger. Pure.

Two forms, as a Trigger has them:

- ``filter.attributes`` (the legacy form): every named attribute must equal its value exactly
  (case-sensitive). An empty value matches any value, but the attribute must exist. The
  standard context attributes (``specversion``, ``type``, ``source``, ``subject``, ``id``,
  ``time``, ``dataschema``/``schemaurl``, ``datacontenttype``) always exist (as ``""`` when
  the event has none); an extension the event lacks fails the filter.
- ``filters`` (the CloudEvents Subscriptions API dialects): ``exact``, ``prefix``, ``suffix``
  (each attribute present and its string form equal, starting or ending with the value; an
  attribute the event lacks fails), ``all`` (and), ``any`` (or), ``not``, ``cesql``. When both
  are given,
  ``filters`` wins and ``filter`` is ignored, as Knative does.

Results are three-valued as in Knative's eventfilter: an expression can also be *no filter*
(an empty ``all``/``any``, a ``not`` of no filter); no filter at the top lets the event through.
Values that are not strings are compared by their string form (``true``, ``5``).

``cesql`` (CloudEvents SQL, skylet.eventing.cesql): the expression must evaluate to true; one
that fails (a missing attribute) fails the filter, as in Knative. An expression that does not
parse raises ``FilterError``, so the trigger is refused at deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

from skylet.eventing.cesql import CesqlError, compile_cesql
from skylet.eventing.cloudevent import attribute_text

#: Attributes Knative's attributes filter always sees, set or not.
_STANDARD = ("specversion", "type", "source", "subject", "id", "time", "datacontenttype")


class Result(Enum):
    PASS = "pass"
    FAIL = "fail"
    NONE = "none"  # no filter: neither passes nor fails


class FilterError(ValueError):
    """A filter skylet cannot compile; the message names the dialect."""


Filter = Callable[[Mapping[str, Any]], Result]


def _lookup(event: Mapping[str, Any], name: str) -> str | None:
    """An attribute's string form as Knative's filters see it; None when absent."""
    if name in event and name not in ("data", "data_base64"):
        return attribute_text(event[name])
    if name in _STANDARD:
        return ""
    if name in ("dataschema", "schemaurl"):
        other = "schemaurl" if name == "dataschema" else "dataschema"
        return attribute_text(event[other]) if other in event else ""
    return None


def _attributes(wanted: Mapping[str, str]) -> Filter:
    items = tuple(wanted.items())

    def match(event: Mapping[str, Any]) -> Result:
        for name, value in items:
            found = _lookup(event, name)
            if found is None or (value != "" and found != value):
                return Result.FAIL
        return Result.PASS

    return match


def _compare(wanted: Mapping[str, Any], test: Callable[[str, str], bool]) -> Filter:
    items = tuple((name, attribute_text(value)) for name, value in wanted.items())

    def match(event: Mapping[str, Any]) -> Result:
        for name, value in items:
            found = _lookup(event, name)
            if found is None or not test(found, value):
                return Result.FAIL
        return Result.PASS

    return match


def _and(a: Result, b: Result) -> Result:
    if a is Result.FAIL or b is Result.FAIL:
        return Result.FAIL
    if a is Result.PASS or b is Result.PASS:
        return Result.PASS
    return Result.NONE


def _all(parts: Sequence[Filter]) -> Filter:
    def match(event: Mapping[str, Any]) -> Result:
        result = Result.NONE
        for part in parts:
            result = _and(result, part(event))
            if result is Result.FAIL:
                return result
        return result

    return match


def _any(parts: Sequence[Filter]) -> Filter:
    def match(event: Mapping[str, Any]) -> Result:
        result = Result.NONE
        for part in parts:
            found = part(event)
            if found is Result.PASS:
                return found
            if found is Result.FAIL:
                result = found
        return result

    return match


def _not(part: Filter) -> Filter:
    def match(event: Mapping[str, Any]) -> Result:
        found = part(event)
        if found is Result.PASS:
            return Result.FAIL
        return Result.PASS if found is Result.FAIL else Result.NONE

    return match


def _dialect(expression: Mapping[str, Any]) -> Filter:
    if len(expression) != 1:
        raise FilterError(f"a filter expression has one dialect, not {sorted(expression)}")
    ((dialect, body),) = expression.items()
    if dialect in ("exact", "prefix", "suffix"):
        if not isinstance(body, Mapping) or not body:
            raise FilterError(f"{dialect}: a mapping of attribute to value is needed")
        if any(not name or value in ("", None) for name, value in body.items()):
            raise FilterError(f"{dialect}: attribute names and values cannot be empty")
        if dialect == "exact":
            return _compare(body, str.__eq__)
        return _compare(body, str.startswith if dialect == "prefix" else str.endswith)
    if dialect in ("all", "any"):
        if not isinstance(body, Sequence) or isinstance(body, str):
            raise FilterError(f"{dialect}: a list of filter expressions is needed")
        parts = [_dialect(part) for part in body]
        return _all(parts) if dialect == "all" else _any(parts)
    if dialect == "not":
        if not isinstance(body, Mapping):
            raise FilterError("not: one filter expression is needed")
        return _not(_dialect(body))
    if dialect == "cesql":
        try:
            test = compile_cesql(body)
        except CesqlError as error:
            raise FilterError(f"cesql: {error}") from None
        return lambda event: Result.PASS if test(event) else Result.FAIL
    raise FilterError(f"{dialect!r} is not a filter dialect")


def compile_filter(
    attributes: Mapping[str, str] | None = None,
    filters: Sequence[Mapping[str, Any]] = (),
) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an event (its JSON format document) passes a trigger's filters."""
    if filters:
        top = _all([_dialect(expression) for expression in filters])
    elif attributes:
        top = _attributes(attributes)
    else:
        return lambda _event: True
    return lambda event: top(event) is not Result.FAIL
