"""PutItem, GetItem, UpdateItem, DeleteItem: one item, read and decided in one transaction
with its condition, written with its indexes' rows and its stream record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skylet.aws.dynamodb import legacy
from skylet.aws.dynamodb.conditions import matches, project
from skylet.aws.dynamodb.grammar import Action, Parser, Path, Usage, check_unused
from skylet.aws.dynamodb.schema import Table, decode_item
from skylet.aws.dynamodb.updates import apply
from skylet.aws.dynamodb.values import (
    Item,
    check_item_size,
    invalid,
    normalise_item,
    parameter,
)
from skylet.aws.dynamodb.writes import change
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.errors import ServiceError
from skylet.store.base import Store
from skylet.store.types import Row, TableWrite


def condition_failed(old: Item | None, request: Params) -> ServiceError:
    fields: dict[str, Any] = {}
    if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
        fields["Item"] = old
    return ServiceError(
        "ConditionalCheckFailedException", "The conditional request failed", fields=fields
    )


class Expressions:
    """A request's expressions parsed with one record of the placeholders they used."""

    def __init__(self, request: Params) -> None:
        self.names = request.get("ExpressionAttributeNames")
        self.values = request.get("ExpressionAttributeValues")
        self.usage = Usage()
        self.request = request

    def parse(self, member: str) -> Parser | None:
        text = self.request.get(member)
        if text is None:
            return None
        return Parser(member, text, self.names, self.values, self.usage)

    def projection(self) -> list[Path] | None:
        """The ProjectionExpression's paths, or AttributesToGet's names (None: neither)."""
        parser = self.parse("ProjectionExpression")
        if parser is None:
            return legacy.attributes_to_get(self.request)
        return parser.projection()

    def condition(self) -> Any:
        """The ConditionExpression's tree, or Expected's (None: neither)."""
        parser = self.parse("ConditionExpression")
        return parser.condition() if parser is not None else legacy.expected(self.request)

    def done(self) -> None:
        check_unused(self.usage, self.names, self.values)


class TableBase(Service):
    store: Store
    now: Callable[[], float]

    async def table(self, name: Any) -> Table:
        raise NotImplementedError


def returned(mode: str, old: Item | None, new: Item | None, paths: list[Path]) -> Params:
    if mode == "ALL_OLD" and old:
        return {"Attributes": old}
    if mode == "ALL_NEW" and new:
        return {"Attributes": new}
    if mode in ("UPDATED_OLD", "UPDATED_NEW"):
        source = old if mode == "UPDATED_OLD" else new
        if source:
            picked = project(source, paths)
            if picked:
                return {"Attributes": picked}
    return {}


class ItemOperations(TableBase):
    async def _write_one(
        self,
        table: Table,
        key: Item,
        request: Params,
        decide: Callable[[Item | None], Item | None],
        context: RequestContext,
    ) -> tuple[Item | None, Item | None, list[Path]]:
        exprs = Expressions(request)
        paths: list[Path] = []
        tree = exprs.condition()
        build = decide
        actions: list[Action] | None = None
        up = exprs.parse("UpdateExpression")
        if up is not None:
            actions = up.update()
        elif request.get("AttributeUpdates") is not None:
            actions = legacy.attribute_updates(request, table.schema)
        if actions is not None:
            schema = table.schema
            for action in actions:
                if action.path[0] in (schema.partition, schema.sort):
                    raise parameter(
                        f"Cannot update attribute {action.path[0]}. This attribute is part of "
                        "the key"
                    )

            def build(old: Item | None) -> Item | None:
                assert actions is not None
                return apply(actions, old if old is not None else dict(key))

            paths = [a.path for a in actions]
        exprs.done()
        row_key = table.row_key(key)
        now, region = self.now(), context.region

        def deciding(rows: list[Row | None]) -> tuple[TableWrite, tuple[Item | None, Item | None]]:
            old = decode_item(rows[0].data) if rows[0] is not None else None
            if tree is not None and not matches(tree, old):
                raise condition_failed(old, request)
            new = build(old)
            if new is not None:
                check_item_size(new)
                table.check_item_keys(new)
            write = change(table, old, new, now=now, region=region, trace=context.trace)
            return write, (old, new)

        old, new = await self.store.transact([row_key], deciding)
        return old, new, paths

    async def put_item(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "PutItem")
        table = await self.table(request["TableName"])
        item = normalise_item(request["Item"])
        table.check_item_keys(item)
        check_item_size(item)
        mode = request.get("ReturnValues", "NONE")
        if mode not in ("NONE", "ALL_OLD"):
            raise invalid("ReturnValues can only be ALL_OLD or NONE")
        old, _, _ = await self._write_one(
            table, table.key_of(item), request, lambda _: item, context
        )
        return returned(mode, old, None, [])

    async def delete_item(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "DeleteItem")
        table = await self.table(request["TableName"])
        key = table.check_key(normalise_item(request["Key"]))
        mode = request.get("ReturnValues", "NONE")
        if mode not in ("NONE", "ALL_OLD"):
            raise invalid("ReturnValues can only be ALL_OLD or NONE")
        old, _, _ = await self._write_one(table, key, request, lambda _: None, context)
        return returned(mode, old, None, [])

    async def update_item(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "UpdateItem")
        table = await self.table(request["TableName"])
        key = table.check_key(normalise_item(request["Key"]))
        mode = request.get("ReturnValues", "NONE")
        old, new, paths = await self._write_one(
            table, key, request, lambda old: old if old is not None else dict(key), context
        )
        return returned(mode, old, new, paths)

    async def get_item(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "GetItem")
        table = await self.table(request["TableName"])
        key = table.check_key(normalise_item(request["Key"]))
        exprs = Expressions(request)
        paths = exprs.projection()
        exprs.done()
        (row,) = await self.store.get_rows([table.row_key(key)])
        if row is None:
            return {}
        item = decode_item(row.data)
        return {"Item": project(item, paths) if paths is not None else item}
