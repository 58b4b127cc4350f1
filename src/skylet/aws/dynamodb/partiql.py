"""PartiQL's simple statements for ExecuteStatement (the parser is pure), carried out by the
item operations they amount to, so one set of checks and one evaluator serve them all:

    SELECT * | path, … FROM "Table"["Index"] [WHERE condition]        → Query, or Scan
    INSERT INTO "Table" VALUE {'attr': value, …}                      → PutItem, if absent
    UPDATE "Table" SET path = value[, …] [REMOVE path[, …]] WHERE key → UpdateItem, if present
    DELETE FROM "Table" WHERE key [AND condition]                     → DeleteItem

Values are ``?`` (the request's Parameters, in order), 'strings' ('' for a quote), numbers,
TRUE, FALSE, NULL, [lists], {'maps': …} and <<sets>>. Conditions: comparisons (``=``, ``<>``,
``!=``, ``<``, ``<=``, ``>``, ``>=``), BETWEEN … AND …, IN [...], ``begins_with``,
``contains``, ``attribute_exists``, ``attribute_not_exists``, AND, OR, NOT, parentheses. A
SELECT whose WHERE has its partition key equal to a value reads one partition (Query, its
sort key conditions as the key range); any other reads the table (Scan). Each statement is
turned into the expressions of its operation (names and values as placeholders), so DynamoDB's
own validation messages apply.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from skylet.aws.dynamodb.grammar import (
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Logical,
    Not,
    Operand,
    Path,
    PathRef,
)
from skylet.aws.dynamodb.items import TableBase
from skylet.aws.dynamodb.keys import KeySchema
from skylet.aws.dynamodb.schema import decode_item, encode_item
from skylet.aws.dynamodb.values import Value, invalid, normalise
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<quoted>\"(?:[^\"]|\"\")*\")"
    r"|(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><<|>>|<>|!=|<=|>=|[=<>?()\[\]{},.:+\-*]))"
)
_COMPARE = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FUNCTIONS = frozenset({"begins_with", "contains", "attribute_exists", "attribute_not_exists"})


def malformed(detail: str) -> ServiceError:
    return invalid(f"Statement wasn't well formed, can't be processed: {detail}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, quoted, number, name, op, eof
    text: str


@dataclass
class Statement:
    """One parsed statement: its kind, table (and index), and its parts."""

    kind: str  # SELECT, INSERT, UPDATE, DELETE
    table: str
    index: str | None = None
    projection: list[Path] | None = None  # None: *
    where: Condition | None = None
    item: dict[str, Value] = field(default_factory=dict)  # INSERT's
    sets: list[tuple[Path, Operand]] = field(default_factory=list)
    removes: list[Path] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str, parameters: list[Value]) -> None:
        self.tokens = self._tokenize(text)
        self.at = 0
        self.parameters = parameters
        self.used = 0

    @staticmethod
    def _tokenize(text: str) -> list[_Token]:
        tokens: list[_Token] = []
        at = 0
        stripped = text.rstrip().rstrip(";")
        while at < len(stripped):
            found = _TOKEN.match(stripped, at)
            if found is None or found.end() == at:
                if stripped[at:].strip() == "":
                    break
                raise malformed(f"Unexpected character near: {stripped[at : at + 10]!r}")
            kind = found.lastgroup or "op"
            tokens.append(_Token(kind, found.group(kind)))
            at = found.end()
        tokens.append(_Token("eof", ""))
        return tokens

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def next(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.upper() == word:
            self.at += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise malformed(f"Expected {word} near: {self.peek().text or 'the end'}")

    def op(self, text: str) -> bool:
        if self.peek().kind == "op" and self.peek().text == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.op(text):
            raise malformed(f"Expected '{text}' near: {self.peek().text or 'the end'}")

    def done(self) -> None:
        if self.peek().kind != "eof":
            raise malformed(f"Unexpected token: {self.peek().text}")
        if self.used != len(self.parameters):
            raise invalid("Number of parameters in request and statement don't match.")

    # -- names and values -----------------------------------------------------------------

    def name(self) -> str:
        token = self.next()
        if token.kind == "quoted":
            return token.text[1:-1].replace('""', '"')
        if token.kind == "name":
            return token.text
        raise malformed(f"Expected a name near: {token.text or 'the end'}")

    def path(self) -> Path:
        parts: list[str | int] = [self.name()]
        while True:
            if self.op("."):
                parts.append(self.name())
            elif self.op("["):
                token = self.next()
                if token.kind == "number" and token.text.isdigit():
                    parts.append(int(token.text))
                elif token.kind == "string":
                    parts.append(token.text[1:-1].replace("''", "'"))
                else:
                    raise malformed(f"Expected an index near: {token.text}")
                self.expect("]")
            else:
                return tuple(parts)

    def value(self) -> Value:
        token = self.next()
        if token.kind == "op" and token.text == "?":
            if self.used >= len(self.parameters):
                raise invalid("Number of parameters in request and statement don't match.")
            self.used += 1
            return normalise(self.parameters[self.used - 1])
        if token.kind == "string":
            return {"S": token.text[1:-1].replace("''", "'")}
        if token.kind == "number":
            return normalise({"N": token.text})
        if token.kind == "op" and token.text == "-" and self.peek().kind == "number":
            return normalise({"N": "-" + self.next().text})
        if token.kind == "name" and token.text.upper() in ("TRUE", "FALSE"):
            return {"BOOL": token.text.upper() == "TRUE"}
        if token.kind == "name" and token.text.upper() == "NULL":
            return {"NULL": True}
        if token.kind == "op" and token.text == "[":
            elements: list[Value] = []
            if not self.op("]"):
                elements.append(self.value())
                while self.op(","):
                    elements.append(self.value())
                self.expect("]")
            return {"L": elements}
        if token.kind == "op" and token.text == "{":
            return {"M": self.map_body()}
        if token.kind == "op" and token.text == "<<":
            members = [self.value()]
            while self.op(","):
                members.append(self.value())
            self.expect(">>")
            kinds = {next(iter(m)) for m in members}
            if len(kinds) != 1 or next(iter(kinds)) not in ("S", "N", "B"):
                raise malformed("A set's members must be all strings, numbers or binaries")
            kind = next(iter(kinds))
            return normalise({f"{kind}S": [m[kind] for m in members]})
        raise malformed(f"Expected a value near: {token.text or 'the end'}")

    def map_body(self) -> dict[str, Value]:
        members: dict[str, Value] = {}
        if self.op("}"):
            return members
        while True:
            key = self.next()
            if key.kind not in ("string", "quoted"):
                raise malformed(f"Expected an attribute name near: {key.text}")
            self.expect(":")
            members[key.text[1:-1]] = self.value()
            if self.op("}"):
                return members
            self.expect(",")

    # -- conditions -------------------------------------------------------------------------

    def condition(self) -> Condition:
        left = self._and()
        while self.keyword("OR"):
            left = Logical("OR", left, self._and())
        return left

    def _and(self) -> Condition:
        left = self._not()
        while self.keyword("AND"):
            left = Logical("AND", left, self._not())
        return left

    def _not(self) -> Condition:
        if self.keyword("NOT"):
            return Not(self._not())
        return self._predicate()

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind in ("name", "quoted") and token.text.upper() not in ("TRUE", "FALSE", "NULL"):
            return PathRef(self.path())
        return Literal(self.value(), "?")

    def _predicate(self) -> Condition:
        if self.op("("):
            inner = self.condition()
            self.expect(")")
            return inner
        token = self.peek()
        if token.kind == "name" and token.text.lower() in _FUNCTIONS:
            following = self.tokens[self.at + 1]
            if following.kind == "op" and following.text == "(":
                self.at += 2
                args = [self.operand()]
                while self.op(","):
                    args.append(self.operand())
                self.expect(")")
                return Call(token.text.lower(), tuple(args))
        left = self.operand()
        token = self.next()
        if token.kind == "op" and token.text in _COMPARE:
            return Compare(_COMPARE[token.text], left, self.operand())
        if token.kind == "name" and token.text.upper() == "BETWEEN":
            low = self.operand()
            self.expect_keyword("AND")
            return Between(left, low, self.operand())
        if token.kind == "name" and token.text.upper() == "IN":
            closing = "]" if self.op("[") else ")" if self.op("(") else None
            if closing is None:
                raise malformed("Expected a list after IN")
            options = [self.operand()]
            while self.op(","):
                options.append(self.operand())
            self.expect(closing)
            return In(left, tuple(options))
        raise malformed(f"Unexpected token: {token.text or 'the end'}")

    # -- statements -------------------------------------------------------------------------

    def statement(self) -> Statement:
        if self.keyword("SELECT"):
            projection: list[Path] | None = None
            if not self.op("*"):
                projection = [self.path()]
                while self.op(","):
                    projection.append(self.path())
            self.expect_keyword("FROM")
            table = self.name()
            index = self.name() if self.op(".") else None
            found = Statement("SELECT", table, index, projection)
            if self.keyword("WHERE"):
                found.where = self.condition()
        elif self.keyword("INSERT"):
            self.expect_keyword("INTO")
            found = Statement("INSERT", self.name())
            self.expect_keyword("VALUE")
            self.expect("{")
            found.item = self.map_body()
        elif self.keyword("UPDATE"):
            found = Statement("UPDATE", self.name())
            while True:
                if self.keyword("SET"):
                    found.sets.append(self._assignment())
                    while self.op(","):
                        found.sets.append(self._assignment())
                elif self.keyword("REMOVE"):
                    found.removes.append(self.path())
                    while self.op(","):
                        found.removes.append(self.path())
                else:
                    break
            if not found.sets and not found.removes:
                raise malformed("Expected SET or REMOVE")
            self.expect_keyword("WHERE")
            found.where = self.condition()
        elif self.keyword("DELETE"):
            self.expect_keyword("FROM")
            found = Statement("DELETE", self.name())
            self.expect_keyword("WHERE")
            found.where = self.condition()
        else:
            raise malformed(f"Unexpected keyword: {self.peek().text or 'the end'}")
        self.done()
        return found

    def _assignment(self) -> tuple[Path, Operand]:
        target = self.path()
        self.expect("=")
        first = self.operand()
        if self.peek().kind == "op" and self.peek().text in ("+", "-"):
            sign = self.next().text
            return target, Arithmetic(sign, first, self.operand())
        return target, first


def parse(text: str, parameters: list[Value]) -> Statement:
    if not isinstance(text, str) or not text.strip():
        raise malformed("The statement is empty")
    return _Parser(text, parameters).statement()


# --- turning trees back into expressions ---------------------------------------------------


class _Renderer:
    """Expression text with every name and value a placeholder (so reserved words and odd
    names are no matter)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Value] = {}

    def path(self, path: Path) -> str:
        text = ""
        for part in path:
            if isinstance(part, int):
                text += f"[{part}]"
                continue
            placeholder = next((k for k, v in self.names.items() if v == part), None)
            if placeholder is None:
                placeholder = f"#n{len(self.names)}"
                self.names[placeholder] = part
            text += ("." if text else "") + placeholder
        return text

    def value(self, value: Value) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def operand(self, operand: Operand) -> str:
        if isinstance(operand, PathRef):
            return self.path(operand.path)
        if isinstance(operand, Literal):
            return self.value(operand.value)
        if isinstance(operand, Call):
            return f"{operand.name}({', '.join(self.operand(a) for a in operand.args)})"
        return f"{self.operand(operand.left)} {operand.op} {self.operand(operand.right)}"

    def condition(self, tree: Condition) -> str:
        if isinstance(tree, Logical):
            return f"({self.condition(tree.left)}) {tree.op} ({self.condition(tree.right)})"
        if isinstance(tree, Not):
            return f"NOT ({self.condition(tree.operand)})"
        if isinstance(tree, Compare):
            return f"{self.operand(tree.left)} {tree.op} {self.operand(tree.right)}"
        if isinstance(tree, Between):
            low, high = self.operand(tree.low), self.operand(tree.high)
            return f"{self.operand(tree.subject)} BETWEEN {low} AND {high}"
        if isinstance(tree, In):
            options = ", ".join(self.operand(o) for o in tree.options)
            return f"{self.operand(tree.subject)} IN ({options})"
        return self.operand(tree)

    def into(self, request: Params) -> Params:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def _conjuncts(tree: Condition | None) -> list[Condition]:
    if tree is None:
        return []
    if isinstance(tree, Logical) and tree.op == "AND":
        return [*_conjuncts(tree.left), *_conjuncts(tree.right)]
    return [tree]


def _equal_to(part: Condition, name: str) -> Value | None:
    if isinstance(part, Compare) and part.op == "=":
        for side, other in ((part.left, part.right), (part.right, part.left)):
            if isinstance(side, PathRef) and side.path == (name,) and isinstance(other, Literal):
                return other.value
    return None


def _on_key(part: Condition, name: str | None) -> bool:
    """Whether ``part`` is a key condition DynamoDB takes on sort key ``name``."""
    if name is None:
        return False
    if isinstance(part, Compare) and part.op != "<>":
        return (
            isinstance(part.left, PathRef)
            and part.left.path == (name,)
            and isinstance(part.right, Literal)
        )
    if isinstance(part, Between):
        subject = part.subject
        return isinstance(subject, PathRef) and subject.path == (name,)
    if isinstance(part, Call) and part.name == "begins_with":
        first = part.args[0]
        return isinstance(first, PathRef) and first.path == (name,)
    return False


def _join(parts: list[Condition]) -> Condition | None:
    if not parts:
        return None
    tree = parts[0]
    for part in parts[1:]:
        tree = Logical("AND", tree, part)
    return tree


def _key(parts: list[Condition], schema: KeySchema) -> tuple[dict[str, Value], list[Condition]]:
    """The primary key a write's WHERE names (every key attribute equal to a value), and the
    rest of its conditions."""
    key: dict[str, Value] = {}
    rest: list[Condition] = []
    for part in parts:
        matched = False
        for name in (schema.partition, schema.sort):
            if name is not None and name not in key:
                value = _equal_to(part, name)
                if value is not None:
                    key[name] = value
                    matched = True
                    break
        if not matched:
            rest.append(part)
    wanted = [n for n in (schema.partition, schema.sort) if n is not None]
    if set(key) != set(wanted):
        raise invalid("Where clause does not contain a mandatory equality on all key attributes")
    return key, rest


def _token(key: Params | None) -> str | None:
    """NextToken: the page's LastEvaluatedKey, opaque to clients."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(encode_item(key)).decode()


def _from_token(token: str) -> Params:
    try:
        return decode_item(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, AttributeError):
        raise invalid("Invalid NextToken") from None


class StatementOperations(TableBase):
    """ExecuteStatement; the item operations it calls are the service's own (mixed in)."""

    if TYPE_CHECKING:

        async def query(self, request: Params, context: RequestContext) -> Params: ...
        async def scan(self, request: Params, context: RequestContext) -> Params: ...
        async def put_item(self, request: Params, context: RequestContext) -> Params: ...
        async def update_item(self, request: Params, context: RequestContext) -> Params: ...
        async def delete_item(self, request: Params, context: RequestContext) -> Params: ...

    async def execute_statement(self, request: Params, context: RequestContext) -> Params:
        statement = parse(request.get("Statement", ""), list(request.get("Parameters") or []))
        table = await self.table(statement.table)
        if statement.kind == "SELECT":
            return await self._select(statement, table.schema, request, context)
        if statement.kind == "INSERT":
            if not statement.item:
                raise malformed("INSERT needs an item")
            render = _Renderer()
            check = f"attribute_not_exists({render.path((table.schema.partition,))})"
            put = render.into(
                {"TableName": table.name, "Item": statement.item, "ConditionExpression": check}
            )
            try:
                await self.put_item(put, context)
            except ServiceError as error:
                if error.code != "ConditionalCheckFailedException":
                    raise
                raise ServiceError(
                    "DuplicateItemException", "Duplicate primary key exists in table"
                ) from None
            return {"Items": []}
        key, rest = _key(_conjuncts(statement.where), table.schema)
        render = _Renderer()
        if statement.kind == "UPDATE":
            clauses = []
            if statement.sets:
                sets = ", ".join(
                    f"{render.path(p)} = {render.operand(v)}" for p, v in statement.sets
                )
                clauses.append(f"SET {sets}")
            if statement.removes:
                clauses.append("REMOVE " + ", ".join(render.path(p) for p in statement.removes))
            exists = Call("attribute_exists", (PathRef((table.schema.partition,)),))
            condition = render.condition(_join([exists, *rest]) or exists)
            update = render.into(
                {
                    "TableName": table.name,
                    "Key": key,
                    "UpdateExpression": " ".join(clauses),
                    "ConditionExpression": condition,
                }
            )
            self._on_failure(request, update)
            await self.update_item(update, context)
            return {"Items": []}
        delete: Params = {"TableName": table.name, "Key": key}
        extra = _join(rest)
        if extra is not None:
            delete["ConditionExpression"] = render.condition(extra)
            render.into(delete)
            self._on_failure(request, delete)
        await self.delete_item(delete, context)
        return {"Items": []}

    @staticmethod
    def _on_failure(request: Params, into: Params) -> None:
        mode = request.get("ReturnValuesOnConditionCheckFailure")
        if mode is not None:
            into["ReturnValuesOnConditionCheckFailure"] = mode

    async def _select(
        self, statement: Statement, schema: KeySchema, request: Params, context: RequestContext
    ) -> Params:
        table = await self.table(statement.table)
        if statement.index is not None:
            schema = table.index(statement.index).schema
        parts = _conjuncts(statement.where)
        render = _Renderer()
        read: Params = {"TableName": table.name}
        if statement.index is not None:
            read["IndexName"] = statement.index
        partition = next((p for p in parts if _equal_to(p, schema.partition) is not None), None)
        operation = self.scan
        if partition is not None:
            keyed = [partition]
            rest = [p for p in parts if p is not partition]
            sort = next((p for p in rest if _on_key(p, schema.sort)), None)
            if sort is not None:
                keyed.append(sort)
                rest = [p for p in rest if p is not sort]
            key_tree = _join(keyed)
            assert key_tree is not None
            read["KeyConditionExpression"] = render.condition(key_tree)
            filtering = _join(rest)
            operation = self.query
        else:
            filtering = statement.where
        if filtering is not None:
            read["FilterExpression"] = render.condition(filtering)
        if statement.projection is not None:
            read["ProjectionExpression"] = ", ".join(render.path(p) for p in statement.projection)
        if request.get("Limit") is not None:
            read["Limit"] = request["Limit"]
        if request.get("NextToken"):
            read["ExclusiveStartKey"] = _from_token(str(request["NextToken"]))
        answer = await operation(render.into(read), context)
        result: Params = {"Items": answer.get("Items", [])}
        token = _token(answer.get("LastEvaluatedKey"))
        if token is not None:
            result["NextToken"] = token
            result["LastEvaluatedKey"] = answer["LastEvaluatedKey"]
        return result
