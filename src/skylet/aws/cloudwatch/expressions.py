"""Metric math for GetMetricData: the common expressions, parsed and evaluated over time
series. Pure.

Supported: numbers; the ids of other queries; ``+ - * /`` and parentheses (between series
they apply at the timestamps both have; with a number, at every timestamp); ``METRICS()``
(every query returned so far) and ``[a, b]`` lists; ``SUM``, ``AVG``, ``MIN``, ``MAX`` (of a
list: a series, per timestamp; of one series: a number), ``ABS``, ``RATE`` (change per second
between consecutive datapoints) and ``DIFF``. Anything else is refused with the message AWS
gives for an expression it cannot parse.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Series = dict[int, float]
Value = float | Series | list[Series]


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated (the message says why)."""


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")
_FUNCTIONS = {"SUM", "AVG", "MIN", "MAX", "ABS", "RATE", "DIFF", "METRICS"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "op", "end"
    text: str


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    for number, name, op in _TOKEN.findall(text):
        if number:
            found.append(_Token("num", number))
        elif name:
            found.append(_Token("name", name))
        elif op.strip():
            if op not in "+-*/()[],":
                raise ExpressionError(f"Unsupported character '{op}' in the expression")
            found.append(_Token("op", op))
    found.append(_Token("end", ""))
    return found


class _Parser:
    def __init__(self, text: str, values: Mapping[str, Series]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.values = values

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self, text: str | None = None) -> _Token:
        token = self.tokens[self.at]
        if text is not None and token.text != text:
            raise ExpressionError(f"Syntax error: expected '{text}'")
        self.at += 1
        return token

    def parse(self) -> Value:
        value = self.sum()
        if self.peek().kind != "end":
            raise ExpressionError(f"Syntax error near '{self.peek().text}'")
        return value

    def sum(self) -> Value:
        value = self.product()
        while self.peek().text in ("+", "-"):
            op = self.take().text
            value = _arith(op, value, self.product())
        return value

    def product(self) -> Value:
        value = self.unary()
        while self.peek().text in ("*", "/"):
            op = self.take().text
            value = _arith(op, value, self.unary())
        return value

    def unary(self) -> Value:
        if self.peek().text == "-":
            self.take()
            return _arith("*", -1.0, self.unary())
        return self.atom()

    def atom(self) -> Value:
        token = self.take()
        if token.kind == "num":
            return float(token.text)
        if token.text == "(":
            value = self.sum()
            self.take(")")
            return value
        if token.text == "[":
            items: list[Series] = []
            while True:
                items.extend(_as_list(self.sum()))
                if self.peek().text == ",":
                    self.take()
                    continue
                self.take("]")
                return items
        if token.kind == "name":
            if self.peek().text == "(":
                return self.call(token.text)
            if token.text not in self.values:
                raise ExpressionError(f"Unrecognized metric id or function: {token.text}")
            return dict(self.values[token.text])
        raise ExpressionError(f"Syntax error near '{token.text}'")

    def call(self, name: str) -> Value:
        if name.upper() not in _FUNCTIONS:
            raise ExpressionError(f"Unsupported function: {name}")
        self.take("(")
        if name.upper() == "METRICS":
            self.take(")")
            return [dict(v) for v in self.values.values()]
        argument = self.sum()
        self.take(")")
        return _call(name.upper(), argument)


def _as_list(value: Value) -> list[Series]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    raise ExpressionError("A list holds time series, not numbers")


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b != 0 else math.nan,
}


def _arith(op: str, left: Value, right: Value) -> Value:
    apply = _OPS[op]
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise ExpressionError("Arithmetic between two lists of time series")
        if isinstance(left, list):
            assert not isinstance(right, list)
            return [_as_series(_series_arith(apply, s, right)) for s in left]
        assert isinstance(right, list)
        return [_as_series(_series_arith(apply, left, s)) for s in right]
    return _series_arith(apply, left, right)


def _as_series(value: float | Series) -> Series:
    assert isinstance(value, dict)
    return value


def _series_arith(
    apply: Callable[[float, float], float], left: float | Series, right: float | Series
) -> float | Series:
    if isinstance(left, dict) and isinstance(right, dict):
        return {t: apply(v, right[t]) for t, v in left.items() if t in right}
    if isinstance(left, dict):
        assert isinstance(right, float)
        return {t: apply(v, right) for t, v in left.items()}
    if isinstance(right, dict):
        return {t: apply(left, v) for t, v in right.items()}
    return apply(left, right)


def _reduce(name: str, values: list[float]) -> float:
    if not values:
        return math.nan
    if name == "SUM":
        return sum(values)
    if name == "AVG":
        return sum(values) / len(values)
    if name == "MIN":
        return min(values)
    return max(values)


def _call(name: str, argument: Value) -> Value:
    if name in ("SUM", "AVG", "MIN", "MAX"):
        if isinstance(argument, list):
            stamps = sorted({t for s in argument for t in s})
            return {t: _reduce(name, [s[t] for s in argument if t in s]) for t in stamps}
        if isinstance(argument, dict):
            return _reduce(name, list(argument.values()))
        return argument
    if name == "ABS":
        if isinstance(argument, list):
            return [{t: abs(v) for t, v in s.items()} for s in argument]
        if isinstance(argument, dict):
            return {t: abs(v) for t, v in argument.items()}
        return abs(argument)
    if not isinstance(argument, dict):
        raise ExpressionError(f"{name} takes one time series")
    stamps = sorted(argument)
    changed: Series = {}
    for before, after in itertools.pairwise(stamps):
        delta = argument[after] - argument[before]
        changed[after] = delta / (after - before) if name == "RATE" else delta
    return changed


def evaluate(expression: str, values: Mapping[str, Series]) -> Value:
    """``expression`` over the series ``values`` holds by query id."""
    if not expression.strip():
        raise ExpressionError("The expression is empty")
    return _Parser(expression, values).parse()


def references(expression: str) -> set[str]:
    """The names an expression uses that are not functions (the ids it depends on)."""
    return {
        t.text for t in _tokens(expression) if t.kind == "name" and t.text.upper() not in _FUNCTIONS
    }
