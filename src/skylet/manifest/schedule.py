"""Schedule expressions: ``rate(5 minutes)``, AWS 6-field ``cron(0 1 * * ? *)`` and 5-field cron.

``ScheduleExpression.parse`` checks the syntax (field counts, ranges, names, the special
characters each field allows) and raises ValueError with a message saying what is wrong and
what is allowed. It computes nothing about fire times: that is the scheduler's pure function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from skylet.manifest.diagnostics import show, span

ALLOWED = "rate(N minutes|hours|days), AWS cron(6 fields), or a 5-field cron"

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None
    specials: str = ""  # which of ? L W # the field accepts


# AWS numbers days of week 1-7 from Sunday; Unix cron 0-7 with both 0 and 7 meaning Sunday.
_AWS_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, specials="?LW"),
    _Field("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    _Field("day-of-week", 1, 7, {d: i + 1 for i, d in enumerate(_DAYS)}, specials="?L#"),
    _Field("year", 1970, 2199),
)
_UNIX_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    _Field("day-of-week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)


@dataclass(frozen=True, slots=True)
class ScheduleExpression:
    """A validated schedule. ``rate_s`` is set for rates; ``cron_fields`` for cron, in the
    order written, with ``flavor`` "aws" (6 fields, 1=Sunday, ``?``/``L``/``W``/``#``) or
    "unix" (5 fields, 0 or 7 = Sunday)."""

    expression: str
    kind: Literal["rate", "cron"]
    rate_s: int | None = None
    cron_fields: tuple[str, ...] = ()
    flavor: Literal["aws", "unix"] | None = None

    @classmethod
    def parse(cls, text: str) -> ScheduleExpression:
        """Parse and validate ``text``; raise ValueError naming the problem and what is allowed."""
        expression = text.strip()
        try:
            return cls._parse(expression)
        except _Invalid as exc:
            raise ValueError(
                f"{show(text)} is not a valid schedule expression: {exc} (allowed: {ALLOWED})"
            ) from None

    @classmethod
    def _parse(cls, expression: str) -> ScheduleExpression:
        if expression.startswith("rate("):
            return cls._parse_rate(expression)
        match = _CRON.match(expression)
        fields = (match.group(1) if match else expression).split()
        if len(fields) == 6 and match:
            _check_fields(fields, _AWS_FIELDS)
            if (fields[2] == "?") == (fields[4] == "?"):
                raise _Invalid("exactly one of day-of-month and day-of-week must be '?'")
            return cls(expression, "cron", cron_fields=tuple(fields), flavor="aws")
        if len(fields) == 5:
            _check_fields(fields, _UNIX_FIELDS)
            return cls(expression, "cron", cron_fields=tuple(fields), flavor="unix")
        wanted = "6 fields inside cron(...) or 5" if match else "5 fields"
        raise _Invalid(f"has {len(fields)} field(s), expected {wanted}")

    @classmethod
    def _parse_rate(cls, expression: str) -> ScheduleExpression:
        match = _RATE.match(expression)
        if not match:
            raise _Invalid("a rate is 'rate(<positive integer> <unit>)'")
        value, unit = int(match.group(1)), match.group(2)
        singular = unit.removesuffix("s")
        if singular not in _UNIT_SECONDS:
            raise _Invalid(f"unknown unit {unit!r}")
        if value < 1:
            raise _Invalid("the value must be at least 1")
        # AWS insists on the grammatical number: rate(1 minute) but rate(5 minutes).
        if value == 1 and unit != singular:
            raise _Invalid(f"use {singular!r} for a value of 1")
        if value != 1 and unit == singular:
            raise _Invalid(f"use '{singular}s' for a value other than 1")
        return cls(expression, "rate", rate_s=value * _UNIT_SECONDS[singular])

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(cls.coerce)

    @classmethod
    def coerce(cls, value: Any) -> ScheduleExpression:
        """Accept a ScheduleExpression or parse a string (the pydantic validator)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise ValueError(f"{show(value)} is not a schedule expression (allowed: {ALLOWED})")

    def __str__(self) -> str:
        return self.expression


class _Invalid(Exception):
    pass


def _check_fields(fields: list[str], specs: tuple[_Field, ...]) -> None:
    for text, spec in zip(fields, specs, strict=True):
        for item in text.split(","):
            try:
                _check_item(item.upper(), spec)
            except _Invalid as exc:
                raise _Invalid(f"{spec.name} field {text!r}: {exc}") from None


def _check_item(item: str, spec: _Field) -> None:
    if item in ("?", "L") or (item == "LW" and "W" in spec.specials):
        if item[0] not in spec.specials:
            raise _Invalid(f"{item!r} is not allowed here")
        return
    if "#" in item and "#" in spec.specials:
        day, _, nth = item.partition("#")
        _value(day, spec)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _Invalid(f"the week number after '#' must be {span(1, 5)}")
        return
    if item.endswith(("L", "W")) and item[-1] in spec.specials and item[:-1].isdigit():
        _value(item[:-1], spec)
        return
    base, slash, step = item.partition("/")
    if slash and (not step.isdigit() or int(step) < 1):
        raise _Invalid(f"{item!r}: the step after '/' must be a positive integer")
    if base == "*":
        return
    first, dash, last = base.partition("-")
    low = _value(first, spec)
    # Day-of-week ranges may wrap (FRI-MON); every other range must run forwards.
    if dash and _value(last, spec) < low and spec.name != "day-of-week":
        raise _Invalid(f"{item!r}: the range runs backwards")


def _value(text: str, spec: _Field) -> int:
    if spec.names and text in spec.names:
        return spec.names[text]
    if not text.isdigit():
        raise _Invalid(f"{text!r} is not a number")
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise _Invalid(f"{value} is out of range {span(spec.low, spec.high)}")
    return value
