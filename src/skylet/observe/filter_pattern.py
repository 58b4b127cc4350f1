"""CloudWatch Logs' filter-pattern syntax (FilterLogEvents, ``skylet logs --filter``). Pure.

Three forms, told apart by the pattern's first character:

- **terms** (unstructured events): ``ERROR`` (contains ERROR), ``ERROR Exception`` (both),
  ``?ERROR ?WARN`` (either), ``ERROR -ARGUMENTS`` (the first, not the second), ``"INTERNAL
  SERVER ERROR"`` (a phrase), ``%[Ee]rror%`` (a regular expression). Matching is case
  sensitive; an empty pattern matches every event.
- **JSON** (``{ … }``): ``{ $.level = "ERROR" }``, ``{ $.latency > 50 }``, ``{ $.ip != 10.0.* }``
  (``*`` is a wildcard in strings), ``{ $.a[0].b = 1 }``, ``{ $.x IS NULL }``, ``IS TRUE``,
  ``IS FALSE``, ``NOT EXISTS``, joined by ``&&`` and ``||`` with parentheses. Strings compare
  with ``=`` and ``!=`` only; a number compares with any of ``= != < > <= >=``, and only with a
  field that is a number. An event that is not a JSON object matches no JSON pattern.
- **space-delimited** (``[ … ]``): ``[ip, user, ..., status = 4*, bytes > 1000]`` names the
  event's space-separated fields (text in ``""`` or ``[]`` is one field), ``...`` stands for any
  number of them, and each field may carry conditions (``&&``, ``||``) as in JSON patterns.

:func:`compile_pattern` parses once and raises :class:`InvalidFilterPattern` naming what is
wrong; :meth:`Pattern.matches` tests one event's message.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


class InvalidFilterPattern(ValueError):
    """The pattern is not CloudWatch Logs' syntax (the message says where)."""


Test = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled filter pattern; ``matches`` takes an event's message."""

    text: str
    _test: Test

    def matches(self, message: str) -> bool:
        return self._test(message)


def compile_pattern(text: str | None) -> Pattern:
    """Parse ``text`` (None or blank: every event matches)."""
    stripped = (text or "").strip()
    if not stripped:
        return Pattern(text or "", lambda _message: True)
    regexes = [m for m in _REGEX_TOKEN.findall(stripped) if m]
    if len(regexes) > MAX_REGEXES:
        raise InvalidFilterPattern(
            f"{len(regexes)} regular expressions in one pattern (allowed: at most {MAX_REGEXES})"
        )
    if stripped.startswith("{"):
        return Pattern(text or "", _json_pattern(stripped))
    if stripped.startswith("["):
        return Pattern(text or "", _delimited_pattern(stripped))
    return Pattern(text or "", _term_pattern(stripped))


# -- terms ------------------------------------------------------------------------------------

_TERM = re.compile(r'\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|%((?:[^%\\]|\\.)+)%|([^\s"]+))')


def _term_pattern(text: str) -> Test:
    required: list[Test] = []
    optional: list[Test] = []
    excluded: list[Test] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TERM.match(text, position)
        if found is None:
            raise InvalidFilterPattern(f"cannot read the term at character {position + 1}")
        sign, quoted, regex, bare = found.groups()
        if regex is not None:
            test = _regex_test(regex)
        else:
            term = _unescape(quoted) if quoted is not None else bare
            test = _contains(term)
        {"": required, "?": optional, "-": excluded}[sign].append(test)
        position = found.end()

    def matches(message: str) -> bool:
        if not all(test(message) for test in required):
            return False
        if optional and not any(test(message) for test in optional):
            return False
        return not any(test(message) for test in excluded)

    return matches


def _contains(term: str) -> Test:
    return lambda message: term in message


def _regex_test(source: str) -> Test:
    compiled = _regex(source)
    return lambda message: compiled.search(message) is not None


#: What CloudWatch Logs lets a regular expression hold: letters, digits, some symbols and the
#: operators ^ $ ? [ ] { } | \ * + . -- no parentheses, no multi-byte characters. (Spaces are
#: taken too.) Without groups, no quantifier can nest, which keeps matching from blowing up.
_REGEX_CHARACTERS = re.compile(r"^[A-Za-z0-9_#=@/;,:\-^$?\[\]{}|\\*+. ]+$")
#: At most two regular expressions in one pattern, as CloudWatch Logs allows.
MAX_REGEXES = 2
_REGEX_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(%(?:[^%\\]|\\.)+%)')


def _regex(source: str) -> re.Pattern[str]:
    if "(" in source or ")" in source:
        raise InvalidFilterPattern(
            f"%{source}%: parentheses are not supported in a regular expression"
        )
    if not _REGEX_CHARACTERS.match(source):
        raise InvalidFilterPattern(
            f"%{source}% has a character a regular expression may not (allowed: letters, "
            "digits, _ # = @ / ; , : - and the operators ^ $ ? [ ] { } | \\ * + .)"
        )
    try:
        return re.compile(source)
    except re.error as exc:
        raise InvalidFilterPattern(f"%{source}% is not a regular expression: {exc}") from None


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted)


# -- values and comparisons, shared by JSON and space-delimited patterns ------------------------

_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")


@dataclass(frozen=True, slots=True)
class _Value:
    """A pattern's right-hand side: a number (unquoted digits), a string with ``*``
    wildcards, or a regular expression."""

    number: float | None = None
    glob: re.Pattern[str] | None = None
    regex: re.Pattern[str] | None = None


def _value(token: str, quoted: bool) -> _Value:
    if not quoted and token.startswith("%") and token.endswith("%") and len(token) > 2:
        return _Value(regex=_regex(token[1:-1]))
    if not quoted and _NUMBER.match(token):
        return _Value(number=float(token))
    pieces = token.split("*")
    return _Value(glob=re.compile(".*".join(map(re.escape, pieces)), re.DOTALL))


def _compare(actual: Any, operator: str, value: _Value, *, numbers_as_text: bool) -> bool:
    """``actual OP value``. ``numbers_as_text``: a space-delimited field is text, compared as
    a number when it reads as one."""
    if value.number is not None:
        if numbers_as_text and isinstance(actual, str) and _NUMBER.match(actual):
            actual = float(actual)
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        if isinstance(actual, float) and math.isnan(actual):
            return False
        return _ORDER[operator](float(actual), value.number)
    if operator not in ("=", "!="):
        raise InvalidFilterPattern(f"{operator} compares numbers only (allowed: = and !=)")
    if not isinstance(actual, str):
        if numbers_as_text or isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        actual = json.dumps(actual)
    if value.regex is not None:
        hit = value.regex.search(actual) is not None
    else:
        assert value.glob is not None
        hit = value.glob.fullmatch(actual) is not None
    return hit if operator == "=" else not hit


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


# -- a small tokenizer for the structured forms -----------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>"(?:[^"\\]|\\.)*")
      | (?P<regex>%(?:[^%\\]|\\.)+%)
      | (?P<selector>\$[^\s=<>!(){}&|,]*)
      | (?P<punct>&&|\|\||!=|<=|>=|[=<>(){}\[\],])
      | (?P<word>[^\s"=<>!(){}\[\],&|]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # quoted, regex, punct, word
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if found is None:
            raise InvalidFilterPattern(f"cannot read the pattern at character {position + 1}")
        kind = found.lastgroup or "word"
        value = found.group(kind)
        if kind == "quoted":
            value = _unescape(value[1:-1])
        tokens.append(_Token(kind, value))
        position = found.end()
    return tokens


class _Reader:
    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise InvalidFilterPattern("the pattern ends too early")
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.kind != "punct" or token.text != text:
            raise InvalidFilterPattern(f"expected {text!r}, found {token.text!r}")

    def punct(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text in texts


Condition = Callable[[Callable[[str], tuple[bool, Any]]], bool]
"""A condition over a lookup: ``lookup(selector) -> (found, value)``."""


def _expression(reader: _Reader, comparison: Callable[[_Reader], Condition]) -> Condition:
    """``a && b || c``, ``&&`` binding tighter, with parentheses."""
    left = _conjunction(reader, comparison)
    while reader.punct("||"):
        reader.take()
        right = _conjunction(reader, comparison)
        left = _either(left, right)
    return left


def _conjunction(reader: _Reader, comparison: Callable[[_Reader], Condition]) -> Condition:
    left = _operand(reader, comparison)
    while reader.punct("&&"):
        reader.take()
        right = _operand(reader, comparison)
        left = _both(left, right)
    return left


def _operand(reader: _Reader, comparison: Callable[[_Reader], Condition]) -> Condition:
    if reader.punct("("):
        reader.take()
        inner = _expression(reader, comparison)
        reader.expect(")")
        return inner
    return comparison(reader)


def _either(a: Condition, b: Condition) -> Condition:
    return lambda lookup: a(lookup) or b(lookup)


def _both(a: Condition, b: Condition) -> Condition:
    return lambda lookup: a(lookup) and b(lookup)


def _right_side(reader: _Reader) -> _Value:
    token = reader.take()
    if token.kind == "punct":
        raise InvalidFilterPattern(f"expected a value, found {token.text!r}")
    return _value(token.text, quoted=token.kind == "quoted")


# -- JSON ---------------------------------------------------------------------------------------

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _selector(text: str) -> list[str | int]:
    if not text.startswith("$"):
        raise InvalidFilterPattern(f"{text!r} is not a selector (allowed: $.field, $.a[0].b)")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        found = _STEP.match(text, position)
        if found is None:
            raise InvalidFilterPattern(f"{text!r} is not a selector (allowed: $.field, $.a[0].b)")
        name, index = found.groups()
        steps.append(int(index) if index is not None else name)
        position = found.end()
    if not steps:
        raise InvalidFilterPattern("$ alone is not a selector (allowed: $.field)")
    return steps


def _json_comparison(reader: _Reader) -> Condition:
    token = reader.take()
    if token.kind != "selector":
        raise InvalidFilterPattern(f"expected a selector ($.field), found {token.text!r}")
    selector = token.text
    _selector(selector)  # checked now, so a bad one is an error before any event
    following = reader.peek()
    if following is not None and following.kind == "word" and following.text in ("IS", "NOT"):
        return _json_keyword(reader, selector)
    operator = reader.take()
    if operator.kind != "punct" or operator.text not in _OPERATORS:
        raise InvalidFilterPattern(
            f"expected a comparison after {selector}, found {operator.text!r}"
        )
    value = _right_side(reader)
    if value.number is None and operator.text not in ("=", "!="):
        raise InvalidFilterPattern(f"{operator.text} compares numbers only (allowed: = and !=)")

    def condition(lookup: Callable[[str], tuple[bool, Any]]) -> bool:
        found, actual = lookup(selector)
        return found and _compare(actual, operator.text, value, numbers_as_text=False)

    return condition


def _json_keyword(reader: _Reader, selector: str) -> Condition:
    first = reader.take().text
    second = reader.take().text
    phrase = f"{first} {second}"
    tests: dict[str, Callable[[bool, Any], bool]] = {
        "IS NULL": lambda found, value: found and value is None,
        "IS TRUE": lambda found, value: found and value is True,
        "IS FALSE": lambda found, value: found and value is False,
        "NOT EXISTS": lambda found, _value: not found,
    }
    test = tests.get(phrase)
    if test is None:
        raise InvalidFilterPattern(
            f"{phrase!r} after {selector} is not a test (allowed: {', '.join(tests)})"
        )
    return lambda lookup: test(*lookup(selector))


def _json_pattern(text: str) -> Test:
    reader = _Reader(_tokens(text))
    reader.expect("{")
    condition = _expression(reader, _json_comparison)
    reader.expect("}")
    if reader.peek() is not None:
        raise InvalidFilterPattern(f"unexpected {reader.take().text!r} after the closing brace")

    def matches(message: str) -> bool:
        if not message.lstrip().startswith("{"):
            return False
        try:
            document = json.loads(message)
        except ValueError:
            return False
        if not isinstance(document, dict):
            return False
        return condition(lambda selector: _resolve(document, _selector(selector)))

    return matches


def _resolve(document: Any, steps: list[str | int]) -> tuple[bool, Any]:
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False, None
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return False, None
            node = node[step]
    return True, node


# -- space-delimited ------------------------------------------------------------------------------

_ELLIPSIS = "..."


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # "..." for the ellipsis
    condition: Condition | None = None


def _delimited_comparison(reader: _Reader) -> Condition:
    token = reader.take()
    if token.kind != "word":
        raise InvalidFilterPattern(f"expected a field name, found {token.text!r}")
    name = token.text
    operator = reader.take()
    if operator.kind != "punct" or operator.text not in _OPERATORS:
        raise InvalidFilterPattern(f"expected a comparison after {name}, found {operator.text!r}")
    value = _right_side(reader)
    if value.number is None and operator.text not in ("=", "!="):
        raise InvalidFilterPattern(f"{operator.text} compares numbers only (allowed: = and !=)")

    def condition(lookup: Callable[[str], tuple[bool, Any]]) -> bool:
        found, actual = lookup(name)
        return found and _compare(actual, operator.text, value, numbers_as_text=True)

    return condition


def _delimited_pattern(text: str) -> Test:
    reader = _Reader(_tokens(text))
    reader.expect("[")
    fields: list[_Field] = []
    while True:
        token = reader.peek()
        if token is None:
            raise InvalidFilterPattern("the pattern has no closing ]")
        if token.kind == "punct" and token.text == "]":
            reader.take()
            break
        if token.kind != "word":
            raise InvalidFilterPattern(f"expected a field name, found {token.text!r}")
        if token.text == _ELLIPSIS:
            reader.take()
            fields.append(_Field(_ELLIPSIS))
        else:
            following = reader.tokens[reader.at + 1] if reader.at + 1 < len(reader.tokens) else None
            if following is not None and following.kind == "punct" and following.text in _OPERATORS:
                start = reader.at
                condition = _expression(reader, _delimited_comparison)
                fields.append(_Field(reader.tokens[start].text, condition))
            else:
                reader.take()
                fields.append(_Field(token.text))
        if reader.punct(","):
            reader.take()
        elif not reader.punct("]"):
            raise InvalidFilterPattern(f"expected , or ] after {fields[-1].name}")
    if reader.peek() is not None:
        raise InvalidFilterPattern(f"unexpected {reader.take().text!r} after the closing ]")
    if not fields:
        raise InvalidFilterPattern("[] names no fields")

    conditions = [f.condition for f in fields if f.condition is not None]

    def matches(message: str) -> bool:
        return any(
            all(condition(_lookup(bound)) for condition in conditions)
            for bound in _bindings(fields, _split_fields(message))
        )

    return matches


def _lookup(bound: dict[str, str]) -> Callable[[str], tuple[bool, Any]]:
    return lambda name: (name in bound, bound.get(name))


def _split_fields(message: str) -> list[str]:
    """The event's fields: split on spaces, with ``"…"`` and ``[…]`` one field each."""
    found = re.findall(r'"([^"]*)"|\[([^\]]*)\]|(\S+)', message)
    return [quoted or bracketed or bare for quoted, bracketed, bare in found]


def _bindings(fields: Sequence[_Field], values: Sequence[str]) -> Iterator[dict[str, str]]:
    """Every way to bind ``fields`` to ``values`` in order, an ellipsis taking any number of
    them (none, one, …): the names each alignment gives the event's fields."""
    if not fields:
        if not values:
            yield {}
        return
    head, rest = fields[0], fields[1:]
    if head.name == _ELLIPSIS:
        for skip in range(len(values) + 1):
            yield from _bindings(rest, values[skip:])
        return
    if not values:
        return
    for bound in _bindings(rest, values[1:]):
        yield {head.name: values[0], **bound}
