"""The expression languages' grammar: a tokenizer and a recursive-descent parser to trees.

    tree = Parser("ConditionExpression", text, names, values).condition()
    paths = Parser("ProjectionExpression", text, names, values).projection()
    actions = Parser("UpdateExpression", text, names, values).update()

Placeholders are resolved while parsing (``#n`` to a name, ``:v`` to its value), and the
parser records which it used, so the caller can refuse unused ones over all of a request's
expressions, as DynamoDB does. Precedence, loosest first, as DynamoDB documents it: ``OR``,
``AND``, ``NOT``, then comparisons, ``IN`` and ``BETWEEN``, over operands (paths, values,
functions). Errors are ValidationExceptions with DynamoDB's text:
``Invalid ConditionExpression: Syntax error; token: "=", near: "a = = :v"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from skylet.aws.dynamodb.reserved import RESERVED
from skylet.aws.dynamodb.values import Value, invalid

Path = tuple[str | int, ...]

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<hash>#[A-Za-z0-9_]+)|(?P<colon>:[A-Za-z0-9_]+)"
    r"|(?P<int>[0-9]+)|(?P<op><>|<=|>=|[=<>()\[\],.+\-]))"
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
ALL_FUNCTIONS = CONDITION_FUNCTIONS | UPDATE_FUNCTIONS | {"size"}


# --- trees ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathRef:
    path: Path


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value
    placeholder: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # "+" or "-"
    left: Operand
    right: Operand


Operand = PathRef | Literal | Call | Arithmetic


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "AND", "OR"
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | Call | Logical | Not


@dataclass(frozen=True, slots=True)
class Action:
    """One update action: ``SET path = value``, ``REMOVE path``, ``ADD path value``,
    ``DELETE path value`` (value None for REMOVE)."""

    clause: str
    path: Path
    value: Operand | None


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # name, hash, colon, int, op, eof
    text: str
    start: int


@dataclass(slots=True)
class Usage:
    """The placeholders the expressions of one request used."""

    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)


def path_text(path: Path) -> str:
    """A path as DynamoDB's messages print it: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


class Parser:
    """Parses one expression (``kind`` names it in errors: ``ConditionExpression``)."""

    def __init__(
        self,
        kind: str,
        text: str,
        names: Mapping[str, str] | None,
        values: Mapping[str, Value] | None,
        usage: Usage | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.names = names or {}
        self.values = values or {}
        self.usage = usage if usage is not None else Usage()
        self.tokens = self._tokenize(text)
        self.at = 0
        if not text.strip():
            raise invalid(f"Invalid {kind}: The expression can not be empty;")

    # --- tokens --------------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                start = position + len(text[position:]) - len(text[position:].lstrip())
                bad = text[start]
                raise invalid(
                    f'Invalid {self.kind}: Invalid character encountered; character: "{bad}"'
                    if not bad.isalnum()
                    else f'Invalid {self.kind}: Syntax error; token: "{bad}", near: "{bad}"'
                )
            kind = match.lastgroup or "op"
            tokens.append(_Token(kind, match.group(kind), match.start(kind)))
            position = match.end()
        tokens.append(_Token("eof", "<EOF>", len(text)))
        return tokens

    def _peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self.at += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind == "name" and token.text.upper() == word:
            self.at += 1
            return True
        return False

    def _op(self, op: str) -> bool:
        token = self._peek()
        if token.kind == "op" and token.text == op:
            self.at += 1
            return True
        return False

    def _expect(self, op: str) -> None:
        if not self._op(op):
            raise self.syntax()

    def syntax(self, token: _Token | None = None) -> Exception:
        """DynamoDB's syntax error at ``token`` (the next one): the token and the text from
        the one before it to the one after."""
        index = (
            self.tokens.index(token) if token is not None else min(self.at, len(self.tokens) - 1)
        )
        here = self.tokens[index]
        first = self.tokens[max(index - 1, 0)]
        last = self.tokens[min(index + 1, len(self.tokens) - 1)]
        end = last.start + (0 if last.kind == "eof" else len(last.text))
        near = self.text[first.start : end]
        return invalid(f'Invalid {self.kind}: Syntax error; token: "{here.text}", near: "{near}"')

    def _done(self) -> None:
        if self._peek().kind != "eof":
            raise self.syntax()

    # --- operands ------------------------------------------------------------------------

    def _name(self, token: _Token) -> str:
        if token.kind == "hash":
            if token.text not in self.names:
                raise invalid(
                    f"Invalid {self.kind}: An expression attribute name used in the document "
                    f"path is not defined; attribute name: {token.text}"
                )
            self.usage.names.add(token.text)
            return self.names[token.text]
        if token.text.upper() in RESERVED:
            raise invalid(
                f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved "
                f"keyword: {token.text}"
            )
        return token.text

    def path(self) -> Path:
        token = self._next()
        if token.kind not in ("name", "hash") or token.text.upper() in _KEYWORDS:
            raise self.syntax(token)
        parts: list[str | int] = [self._name(token)]
        while True:
            if self._op("."):
                token = self._next()
                if token.kind not in ("name", "hash"):
                    raise self.syntax(token)
                parts.append(self._name(token))
            elif self._op("["):
                token = self._next()
                if token.kind != "int":
                    raise self.syntax(token)
                parts.append(int(token.text))
                self._expect("]")
            else:
                return tuple(parts)

    def _value(self, token: _Token) -> Literal:
        if token.text not in self.values:
            raise invalid(
                f"Invalid {self.kind}: An expression attribute value used in expression is "
                f"not defined; attribute value: {token.text}"
            )
        self.usage.values.add(token.text)
        return Literal(self.values[token.text], token.text)

    def operand(self, *, update: bool = False) -> Operand:
        token = self._peek()
        if token.kind == "colon":
            self.at += 1
            return self._value(token)
        if token.kind == "name" and self._peek(1).kind == "op" and self._peek(1).text == "(":
            return self._call(update=update)
        if token.kind in ("name", "hash") and token.text.upper() not in _KEYWORDS:
            return PathRef(self.path())
        raise self.syntax(token)

    def _call(self, *, update: bool) -> Call:
        token = self._next()
        name = token.text
        if name not in ALL_FUNCTIONS:
            raise invalid(f"Invalid {self.kind}: Invalid function name; function: {name}")
        allowed = UPDATE_FUNCTIONS if update else CONDITION_FUNCTIONS | {"size"}
        if name not in allowed:
            raise invalid(
                f"Invalid {self.kind}: The function is not allowed in a {self._context()} "
                f"expression; function: {name}"
            )
        self._expect("(")
        args = [self.operand(update=update)]
        while self._op(","):
            args.append(self.operand(update=update))
        self._expect(")")
        expected = {"size": 1, "attribute_exists": 1, "attribute_not_exists": 1}.get(name, 2)
        if len(args) != expected:
            raise invalid(
                f"Invalid {self.kind}: Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if name in (
            "attribute_exists",
            "attribute_not_exists",
            "attribute_type",
            "if_not_exists",
        ) and not isinstance(args[0], PathRef):
            raise invalid(
                f"Invalid {self.kind}: Operator or function requires a document path; "
                f"operator or function: {name}"
            )
        return Call(name, tuple(args))

    def _context(self) -> str:
        return "update" if self.kind == "UpdateExpression" else "condition"

    # --- conditions ----------------------------------------------------------------------

    def condition(self) -> Condition:
        tree = self._or()
        self._done()
        return tree

    def _or(self) -> Condition:
        left = self._and()
        while self._keyword("OR"):
            left = Logical("OR", left, self._and())
        return left

    def _and(self) -> Condition:
        left = self._not()
        while self._keyword("AND"):
            left = Logical("AND", left, self._not())
        return left

    def _not(self) -> Condition:
        if self._keyword("NOT"):
            return Not(self._not())
        return self._predicate()

    def _predicate(self) -> Condition:
        if self._op("("):
            inner = self._or()
            self._expect(")")
            return inner
        left = self.operand()
        token = self._peek()
        if token.kind == "op" and token.text in _COMPARATORS:
            self.at += 1
            return Compare(token.text, left, self.operand())
        if self._keyword("BETWEEN"):
            low = self.operand()
            if not self._keyword("AND"):
                raise self.syntax()
            return Between(left, low, self.operand())
        if self._keyword("IN"):
            self._expect("(")
            options = [self.operand()]
            while self._op(","):
                options.append(self.operand())
            self._expect(")")
            if len(options) > 100:
                raise invalid(
                    f"Invalid {self.kind}: The IN operator is provided with too many operands; "
                    f"number of operands: {len(options)}"
                )
            return In(left, tuple(options))
        if isinstance(left, Call) and left.name != "size":
            return left
        raise self.syntax(token)

    # --- projections and updates ---------------------------------------------------------

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self._op(","):
            paths.append(self.path())
        self._done()
        return paths

    def update(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        while self._peek().kind != "eof":
            token = self._next()
            clause = token.text.upper() if token.kind == "name" else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.syntax(token)
            if clause in seen:
                raise invalid(
                    f'Invalid {self.kind}: The "{clause}" section can only be used once in an '
                    "update expression;"
                )
            seen.add(clause)
            while True:
                actions.append(self._action(clause))
                if not self._op(","):
                    break
        return actions

    def _action(self, clause: str) -> Action:
        path = self.path()
        if clause == "REMOVE":
            return Action(clause, path, None)
        if clause == "SET":
            self._expect("=")
            value = self.operand(update=True)
            token = self._peek()
            if token.kind == "op" and token.text in "+-":
                self.at += 1
                value = Arithmetic(token.text, value, self.operand(update=True))
            return Action(clause, path, value)
        token = self._next()
        if token.kind != "colon":
            raise self.syntax(token)
        return Action(clause, path, self._value(token))


def check_unused(
    usage: Usage, names: Mapping[str, str] | None, values: Mapping[str, Value] | None
) -> None:
    """DynamoDB refuses placeholders that no expression of the request used."""
    if values is not None:
        if not values:
            raise invalid("ExpressionAttributeValues must not be empty")
        for key in values:
            if not re.fullmatch(r":[A-Za-z0-9_]+", key):
                raise invalid(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
        unused = sorted(set(values) - usage.values)
        if unused:
            raise invalid(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
                + ", ".join(unused)
                + "}"
            )
    if names is not None:
        if not names:
            raise invalid("ExpressionAttributeNames must not be empty")
        for key in names:
            if not re.fullmatch(r"#[A-Za-z0-9_]+", key):
                raise invalid(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
        unused = sorted(set(names) - usage.names)
        if unused:
            raise invalid(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
                + ", ".join(unused)
                + "}"
            )
