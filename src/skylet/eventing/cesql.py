"""CloudEvents SQL (CESQL v1) expressions for the ``cesql`` filter dialect, compiled once. Pure.

What is read: string literals (``'…'`` or ``"…"``, a quote doubled or backslash-escaped),
integers, ``TRUE``/``FALSE``; attribute names; ``AND``, ``OR``, ``XOR``, ``NOT``; ``=``,
``!=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``; ``[NOT] LIKE`` (``%`` any run, ``_`` one
character, ``\\`` escapes); ``[NOT] IN (…)``; ``EXISTS name``; ``+ - * / %`` and unary ``-``;
and the functions ``LENGTH``, ``CONCAT``, ``CONCAT_WS``, ``LOWER``, ``UPPER``, ``TRIM``,
``LEFT``, ``RIGHT``, ``SUBSTRING``, ``ABS``, ``INT``, ``BOOL``, ``STRING``, ``IS_INT``,
``IS_BOOL``. Keywords and function names are case-insensitive.

Evaluation, as Knative's cesql filter has it: an expression that fails (an attribute the
event lacks, outside ``EXISTS``; a value that cannot be cast; a division by zero) fails the
filter. ``=``/``!=`` between values of two types cast the right one to the left one's type (a
string ``'5'`` to 5, ``'true'`` to TRUE); ``<``, ``<=``, ``>``, ``>=`` and arithmetic are on
integers (both sides cast); ``LIKE`` and string functions cast to strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Value = str | int | bool
Node = Callable[[Mapping[str, Any]], Value]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+)
  | (?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<op><>|!=|<=|>=|[=<>+\-*/%(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class CesqlError(ValueError):
    """An expression that does not parse; the message says where."""


class _Failed(Exception):
    """Evaluation failed: the filter fails."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        found = _TOKEN.match(text, at)
        if found is None:
            raise CesqlError(f"cannot read {text[at : at + 12]!r} at {at}")
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind)))
        at = found.end()
    return out


def _string(raw: str) -> str:
    quote = raw[0]
    body = raw[1:-1].replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _to_int(value: Value) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(value.strip())
    except ValueError:
        raise _Failed from None


def _to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Failed


def _to_str(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cast_like(left: Value, right: Value) -> Value:
    if isinstance(left, bool):
        return _to_bool(right)
    if isinstance(left, int):
        return _to_int(right)
    return _to_str(right)


def _like(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _div(a: int, b: int) -> int:
    if b == 0:
        raise _Failed
    return int(a / b)


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise _Failed
    return a - b * int(a / b)


_ARITH: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": _mod,
}


def _substring(s: str, start: int, length: int | None = None) -> str:
    begin = start - 1 if start > 0 else len(s) + start
    begin = max(begin, 0)
    return s[begin:] if length is None else s[begin : begin + max(length, 0)]


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Value]]] = {
    "LENGTH": (1, 1, lambda s: len(_to_str(s))),
    "CONCAT": (0, 99, lambda *a: "".join(_to_str(x) for x in a)),
    "CONCAT_WS": (1, 99, lambda sep, *a: _to_str(sep).join(_to_str(x) for x in a)),
    "LOWER": (1, 1, lambda s: _to_str(s).lower()),
    "UPPER": (1, 1, lambda s: _to_str(s).upper()),
    "TRIM": (1, 1, lambda s: _to_str(s).strip()),
    "LEFT": (2, 2, lambda s, n: _to_str(s)[: max(_to_int(n), 0)]),
    "RIGHT": (2, 2, lambda s, n: _to_str(s)[len(_to_str(s)) - max(_to_int(n), 0) :]),
    "SUBSTRING": (2, 3, lambda s, *a: _substring(_to_str(s), *(_to_int(x) for x in a))),
    "ABS": (1, 1, lambda n: abs(_to_int(n))),
    "INT": (1, 1, _to_int),
    "BOOL": (1, 1, _to_bool),
    "STRING": (1, 1, _to_str),
    "IS_INT": (1, 1, lambda v: _is(v, _to_int)),
    "IS_BOOL": (1, 1, lambda v: _is(v, _to_bool)),
}


def _is(value: Value, cast: Callable[[Value], Value]) -> bool:
    try:
        cast(value)
    except _Failed:
        return False
    return True


def _logic(op: str, left: Node, right: Node) -> Node:
    """``left OP right``; AND and OR do not evaluate the right side when the left decides."""

    def run(e: Mapping[str, Any]) -> bool:
        a = _to_bool(left(e))
        if op == "AND":
            return a and _to_bool(right(e))
        if op == "OR":
            return a or _to_bool(right(e))
        return a != _to_bool(right(e))

    return run


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, text = self.peek()
        if kind == "word" and text.upper() in words:
            self.at += 1
            return True
        return False

    def op(self, *ops: str) -> str | None:
        kind, text = self.peek()
        if kind == "op" and text in ops:
            self.at += 1
            return text
        return None

    def expect(self, op: str) -> None:
        if self.op(op) is None:
            raise CesqlError(f"expected {op!r}, found {self.peek()[1] or 'the end'!r}")

    def parse(self) -> Node:
        node = self.or_()
        if self.at != len(self.tokens):
            raise CesqlError(f"unexpected {self.peek()[1]!r}")
        return node

    def or_(self) -> Node:
        node = self.xor()
        while self.word("OR"):
            node = _logic("OR", node, self.xor())
        return node

    def xor(self) -> Node:
        node = self.and_()
        while self.word("XOR"):
            node = _logic("XOR", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.word("AND"):
            node = _logic("AND", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.word("NOT"):
            inner = self.not_()
            return lambda e: not _to_bool(inner(e))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        negate = False
        if self.word("NOT"):
            negate = True
            if not (self.peek()[0] == "word" and self.peek()[1].upper() in ("LIKE", "IN")):
                raise CesqlError("NOT here must be followed by LIKE or IN")
        if self.word("LIKE"):
            kind, text = self.peek()
            if kind != "str":
                raise CesqlError("LIKE needs a string literal pattern")
            self.at += 1
            pattern = _like(_string(text))
            return lambda e: (pattern.fullmatch(_to_str(left(e))) is not None) != negate
        if self.word("IN"):
            self.expect("(")
            items = [self.additive()]
            while self.op(","):
                items.append(self.additive())
            self.expect(")")

            def member(e: Mapping[str, Any]) -> bool:
                value = left(e)
                return any(value == _cast_like(value, item(e)) for item in items) != negate

            return member
        op = self.op(*_COMPARE)
        if op is None:
            return left
        right = self.additive()
        test = _COMPARE[op]
        ordered = op in ("<", "<=", ">", ">=")  # defined on integers: both sides cast

        def compare(e: Mapping[str, Any]) -> bool:
            a = left(e)
            if ordered:
                return test(_to_int(a), _to_int(right(e)))
            return test(a, _cast_like(a, right(e)))

        return compare

    def additive(self) -> Node:
        node = self.multiplicative()
        while (op := self.op("+", "-")) is not None:
            node = self._arith(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while (op := self.op("*", "/", "%")) is not None:
            node = self._arith(op, node, self.unary())
        return node

    @staticmethod
    def _arith(op: str, left: Node, right: Node) -> Node:
        fn = _ARITH[op]
        return lambda e: fn(_to_int(left(e)), _to_int(right(e)))

    def unary(self) -> Node:
        if self.op("-") is not None:
            inner = self.unary()
            return lambda e: -_to_int(inner(e))
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.peek()
        if kind == "op" and text == "(":
            self.at += 1
            node = self.or_()
            self.expect(")")
            return node
        if kind == "num":
            self.at += 1
            number = int(text)
            return lambda e: number
        if kind == "str":
            self.at += 1
            literal = _string(text)
            return lambda e: literal
        if kind != "word":
            raise CesqlError(f"unexpected {text or 'end of expression'!r}")
        self.at += 1
        upper = text.upper()
        if upper in ("TRUE", "FALSE"):
            truth = upper == "TRUE"
            return lambda e: truth
        if upper == "EXISTS":
            kind, name = self.peek()
            if kind != "word":
                raise CesqlError("EXISTS needs an attribute name")
            self.at += 1
            attribute = name.lower()
            return lambda e: attribute in e and attribute not in ("data", "data_base64")
        if self.op("(") is not None:
            if upper not in _FUNCTIONS:
                raise CesqlError(f"unknown function {text}")
            low, high, fn = _FUNCTIONS[upper]
            args: list[Node] = []
            if self.op(")") is None:
                args.append(self.or_())
                while self.op(","):
                    args.append(self.or_())
                self.expect(")")
            if not low <= len(args) <= high:
                raise CesqlError(f"{upper} takes {low}-{high} arguments, not {len(args)}")
            return lambda e: fn(*(a(e) for a in args))
        attribute = text.lower()

        def lookup(e: Mapping[str, Any]) -> Value:
            if attribute not in e or attribute in ("data", "data_base64"):
                raise _Failed
            value = e[attribute]
            return value if isinstance(value, str | int | bool) else str(value)

        return lookup


def compile_cesql(expression: str) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an event passes ``expression``; CesqlError when it does not parse."""
    if not isinstance(expression, str) or not expression.strip():
        raise CesqlError("an empty expression")
    node = _Parser(expression).parse()

    def matches(event: Mapping[str, Any]) -> bool:
        try:
            return _to_bool(node(event))
        except _Failed:
            return False

    return matches
