"""TransactGetItems and TransactWriteItems: all or nothing, in one store transaction.

Every item's condition is checked against what the transaction read; one failing cancels it
all with ``TransactionCanceledException`` and a reason per item, in request order. A
``ClientRequestToken`` seen in the last 10 minutes with the same request answers as the first
call did and writes nothing again (kept in memory: a restart forgets tokens).
"""

from __future__ import annotations

import hashlib
from typing import Any

from skylet import fastjson
from skylet.aws.dynamodb.conditions import matches, project
from skylet.aws.dynamodb.items import Expressions, TableBase
from skylet.aws.dynamodb.schema import Table, decode_item
from skylet.aws.dynamodb.updates import apply
from skylet.aws.dynamodb.values import Item, check_item_size, invalid, normalise_item
from skylet.aws.dynamodb.writes import change
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError
from skylet.store.types import Row, TableWrite

TOKEN_WINDOW_S = 600.0


class TransactionOperations(TableBase):
    tokens: dict[str, tuple[float, str, Params]]

    async def transact_get_items(self, request: Params, context: RequestContext) -> Params:
        gets = []
        for entry in request["TransactItems"]:
            get = entry["Get"]
            table = await self.table(get["TableName"])
            exprs = Expressions(get)
            paths = exprs.projection()
            exprs.done()
            gets.append((table, table.check_key(normalise_item(get["Key"])), paths))
        rows = await self.store.get_rows([t.row_key(k) for t, k, _ in gets])
        responses: list[Params] = []
        for (_, _, paths), row in zip(gets, rows, strict=True):
            if row is None:
                responses.append({})
            else:
                item = decode_item(row.data)
                responses.append({"Item": project(item, paths) if paths is not None else item})
        return {"Responses": responses}

    async def transact_write_items(self, request: Params, context: RequestContext) -> Params:
        entries = request["TransactItems"]
        if len(entries) > 100:
            raise invalid("Member must have length less than or equal to 100")
        token = request.get("ClientRequestToken")
        digest = hashlib.sha256(fastjson.dumps(_plain(entries))).hexdigest()
        now = self.now()
        if token is not None:
            seen = self.tokens.get(token)
            if seen is not None and now - seen[0] < TOKEN_WINDOW_S:
                if seen[1] != digest:
                    raise ServiceError(
                        "IdempotentParameterMismatchException",
                        "The request uses the same client token as a previous, but non-identical "
                        "request.",
                    )
                return seen[2]
        plan = []
        for entry in entries:
            (kind,) = entry
            spec = entry[kind]
            table = await self.table(spec["TableName"])
            if kind == "Put":
                item = normalise_item(spec["Item"])
                table.check_item_keys(item)
                key = table.key_of(item)
            else:
                key = table.check_key(normalise_item(spec["Key"]))
                item = None
            exprs = Expressions(spec)
            cond = exprs.parse("ConditionExpression")
            tree = cond.condition() if cond is not None else None
            update = exprs.parse("UpdateExpression")
            actions = update.update() if update is not None else None
            exprs.done()
            plan.append((kind, table, key, item, tree, actions, spec))
        keys = [t.row_key(k) for _, t, k, *_ in plan]
        if len(set(keys)) != len(keys):
            raise invalid("Transaction request cannot include multiple operations on one item")

        def decide(rows: list[Row | None]) -> tuple[TableWrite, None]:
            reasons: list[Params] = []
            failed = False
            writes: list[tuple[Table, Item | None, Item | None]] = []
            for (kind, table, key, item, tree, actions, spec), row in zip(plan, rows, strict=True):
                old = decode_item(row.data) if row is not None else None
                if tree is not None and not matches(tree, old):
                    failed = True
                    reason: Params = {
                        "Code": "ConditionalCheckFailed",
                        "Message": "The conditional request failed",
                    }
                    if spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
                        reason["Item"] = old
                    reasons.append(reason)
                    continue
                reasons.append({"Code": "None"})
                if kind == "Put":
                    writes.append((table, old, item))
                elif kind == "Delete":
                    writes.append((table, old, None))
                elif kind == "Update":
                    assert actions is not None
                    new = apply(actions, old if old is not None else dict(key))
                    check_item_size(new)
                    writes.append((table, old, new))
            if failed:
                codes = ", ".join(r["Code"] for r in reasons)
                raise ServiceError(
                    "TransactionCanceledException",
                    f"Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    fields={"CancellationReasons": reasons},
                )
            puts: list[Any] = []
            deletes: list[Any] = []
            appends: list[Any] = []
            for target, before, after in writes:
                if before is None and after is None:
                    continue
                part = change(
                    target, before, after, now=now, region=context.region, trace=context.trace
                )
                puts.extend(part.puts)
                deletes.extend(part.deletes)
                appends.extend(part.appends)
            return TableWrite(tuple(puts), tuple(deletes), tuple(appends)), None

        await self.store.transact(keys, decide)
        result: Params = {}
        if token is not None:
            self.tokens = {k: v for k, v in self.tokens.items() if now - v[0] < TOKEN_WINDOW_S}
            self.tokens[token] = (now, digest, result)
        return result


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
