"""The admin API's query parameters, every one read by :class:`Query`: a value it cannot take is
``InvalidParameterValue`` (a 400 in the admin API's JSON error) naming the parameter, the value
and what is allowed, never a 500. Numbers are ASCII digits only: Python's ``str.isdigit`` and
``float`` accept other digits (``'²'.isdigit()`` is True, and ``int('²')`` raises). Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs

from skylet.asgi import Scope
from skylet.errors import InvalidParameterValue

T = TypeVar("T")

_INTEGER = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"[0-9]{1,18}(?:\.[0-9]{0,9})?")
_FLAGS = {"1": True, "true": True, "0": False, "false": False}


class Query:
    """A request's query parameters; each is read once, by name (the first value given)."""

    def __init__(self, scope: Scope) -> None:
        raw: bytes = scope.get("query_string", b"")
        self._values = parse_qs(raw.decode("latin-1"), keep_blank_values=True)

    def _get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def text(self, name: str) -> str | None:
        """The parameter as given, or None when it is absent."""
        return self._get(name)

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self._get(name)
        if raw is None:
            return default
        if _INTEGER.fullmatch(raw) is None or not low <= int(raw) <= high:
            raise InvalidParameterValue(f"{name}={raw!r} is not an integer from {low} to {high}")
        return int(raw)

    def seconds(self, name: str, default: float) -> float:
        """A non-negative number of seconds (an epoch time, say), decimals allowed."""
        raw = self._get(name)
        if raw is None:
            return default
        if _DECIMAL.fullmatch(raw) is None:
            raise InvalidParameterValue(
                f"{name}={raw!r} is not a number of seconds (digits, and a decimal point)"
            )
        return float(raw)

    def flag(self, name: str) -> bool:
        raw = self._get(name)
        if raw is None:
            return False
        flag = _FLAGS.get(raw.lower())
        if flag is None:
            raise InvalidParameterValue(f"{name}={raw!r} is not one of 1, 0, true, false")
        return flag

    def choice(self, name: str, parse: Callable[[str], T]) -> T | None:
        """The value as ``parse`` reads it (which raises InvalidParameterValue naming it)."""
        raw = self._get(name)
        return None if raw is None else parse(raw)
