"""The syntax of Serverless Framework variables: ``${source:address, fallback, ...}``.

``parse_template`` splits a string into literal text and ``Variable`` nodes. A variable's
parameters are themselves templates, so ``${self:custom.${opt:stage}}`` and
``${opt:stage, ${env:STAGE, 'dev'}}`` nest to any depth. Only ``${`` followed by a lower-case
source name and ``:`` or ``(`` starts a variable: CloudFormation's own ``${AWS::Region}`` and
``${MyBucket.Arn}`` inside ``Fn::Sub`` strings are left alone, as the Serverless Framework does.
Evaluation lives in ``variables.py``; this module is pure syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_START = re.compile(r"\s*[a-z][a-zA-Z0-9]*(?:\(|:(?!:))")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


class VariableSyntaxError(ValueError):
    """A ``${`` that starts a variable but is not well formed."""


@dataclass(frozen=True, slots=True)
class Variable:
    """``${...}`` as written (``text``) and its comma-separated parameters: the reference first,
    then fallbacks. Each parameter is a tuple of literal text and nested variables."""

    text: str
    params: tuple[tuple[str | Variable, ...], ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A string as literal pieces and variables."""

    pieces: tuple[str | Variable, ...]

    @property
    def has_variables(self) -> bool:
        return any(isinstance(p, Variable) for p in self.pieces)

    @property
    def whole(self) -> Variable | None:
        """The variable when the string is exactly one variable: its value keeps its type."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], Variable):
            return self.pieces[0]
        return None


@lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Split ``text`` into literal text and variables; raise VariableSyntaxError if malformed."""
    pieces: list[str | Variable] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i) and _START.match(text, i + 2):
            if literal:
                pieces.append("".join(literal))
                literal = []
            variable, i = _parse_variable(text, i)
            pieces.append(variable)
        else:
            literal.append(text[i])
            i += 1
    if literal:
        pieces.append("".join(literal))
    return Template(tuple(pieces))


def _parse_variable(text: str, start: int) -> tuple[Variable, int]:
    """Parse the variable at ``text[start:]`` (which begins with ``${``); return it and the
    index just past its closing brace."""
    params: list[tuple[str | Variable, ...]] = []
    pieces: list[str | Variable] = []
    literal: list[str] = []
    parens = 0
    i = start + 2

    def end_param() -> None:
        nonlocal pieces, literal
        if literal:
            pieces.append("".join(literal))
        param = _trimmed(pieces)
        if not param:
            raise VariableSyntaxError(f"{text[start : i + 1]!r} has an empty parameter")
        params.append(param)
        pieces, literal = [], []

    while i < len(text):
        char = text[i]
        if text.startswith("${", i) and _START.match(text, i + 2):
            if literal:
                pieces.append("".join(literal))
                literal = []
            nested, i = _parse_variable(text, i)
            pieces.append(nested)
            continue
        if char in "'\"":
            # A quoted default may contain commas and braces; copy it through untouched.
            end = _closing_quote(text, i)
            literal.append(text[i : end + 1])
            i = end + 1
            continue
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
        elif parens == 0 and char == ",":
            end_param()
            i += 1
            continue
        elif parens == 0 and char == "}":
            end_param()
            return Variable(text[start : i + 1], tuple(params)), i + 1
        literal.append(char)
        i += 1
    raise VariableSyntaxError(f"{text[start:]!r} has no closing '}}'")


def _closing_quote(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    raise VariableSyntaxError(f"{text[start:]!r} has an unterminated quote")


def _trimmed(pieces: list[str | Variable]) -> tuple[str | Variable, ...]:
    out = list(pieces)
    if out and isinstance(out[0], str):
        out[0] = out[0].lstrip()
    if out and isinstance(out[-1], str):
        out[-1] = out[-1].rstrip()
    return tuple(p for p in out if p != "")


def literal_value(text: str) -> tuple[bool, Any]:
    """Interpret a fallback written as a literal: a quoted string, number, true/false or null.

    Returns ``(True, value)`` for a literal and ``(False, None)`` for anything else (which must
    then be a variable reference such as ``self:provider.stage``).
    """
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        body = text[1:-1]
        return True, body.replace("\\" + text[0], text[0]).replace("\\\\", "\\")
    if _NUMBER.match(text):
        return True, float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return True, text == "true"
    if text == "null":
        return True, None
    return False, None
