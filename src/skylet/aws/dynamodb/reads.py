"""Query, Scan, BatchGetItem, BatchWriteItem.

A Query reads one partition's range of the table or an index (``keys.key_condition``), a
Scan the table in hash order, optionally one segment; both stop at ``Limit`` items read or
1 MB, apply the FilterExpression to what they read (so ``Count`` may be below
``ScannedCount``), and answer ``LastEvaluatedKey`` when more may follow.
"""

from __future__ import annotations

from typing import Any

from skylet.aws.dynamodb import legacy
from skylet.aws.dynamodb.conditions import matches, project
from skylet.aws.dynamodb.items import Expressions, TableBase
from skylet.aws.dynamodb.keys import key_condition
from skylet.aws.dynamodb.schema import Index, Table, decode_item, index_table, project_for_index
from skylet.aws.dynamodb.values import Item, invalid, key_bytes, normalise_item
from skylet.aws.dynamodb.writes import change
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.store.types import Row, RowKey, SortRange

PAGE_BYTES = 1 << 20


class ReadOperations(TableBase):
    async def query(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "Query")
        table = await self.table(request["TableName"])
        index = table.index(request["IndexName"]) if request.get("IndexName") else None
        schema = index.schema if index is not None else table.schema
        exprs = Expressions(request)
        parser = exprs.parse("KeyConditionExpression")
        if parser is not None:
            key = key_condition(parser.condition(), schema)
        elif request.get("KeyConditions") is not None:
            key = key_condition(legacy.key_conditions(request), schema)
        else:
            raise invalid(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
                "the request."
            )
        filtering = exprs.parse("FilterExpression")
        tree = (
            filtering.condition()
            if filtering is not None
            else legacy.filters(request, "QueryFilter", schema)
        )
        paths = exprs.projection()
        exprs.done()
        store_table = index_table(table.name, index.name) if index else table.name
        after = None
        start = request.get("ExclusiveStartKey")
        if start is not None:
            start = normalise_item(start)
            after = self._position(table, index, start)
        forward = bool(request.get("ScanIndexForward", True))
        limit = int(request.get("Limit", 0)) or None
        sort = SortRange(key.low, key.high, key.low_inclusive, key.high_inclusive)

        async def fetch(after: Any, count: int) -> list[Row]:
            return await self.store.query_rows(
                store_table, key.partition, sort, forward=forward, after=after, limit=count
            )

        return await self._page(
            table,
            index,
            fetch,
            after,
            limit,
            tree,
            paths,
            request,
            lambda row: (row.key.sort, row.key.unique),
        )

    async def scan(self, request: Params, context: RequestContext) -> Params:
        legacy.check_styles(request, "Scan")
        table = await self.table(request["TableName"])
        index = table.index(request["IndexName"]) if request.get("IndexName") else None
        exprs = Expressions(request)
        filtering = exprs.parse("FilterExpression")
        tree = (
            filtering.condition()
            if filtering is not None
            else legacy.filters(request, "ScanFilter", None)
        )
        paths = exprs.projection()
        exprs.done()
        segments = int(request.get("TotalSegments", 1))
        segment = int(request.get("Segment", 0))
        if ("Segment" in request) != ("TotalSegments" in request):
            raise invalid(
                "The TotalSegments parameter is required but was not present in the request when "
                "Segment parameter is present"
            )
        if segment >= segments:
            raise invalid(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: "
                f"Segment: {segment} is not less than TotalSegments: {segments}"
            )
        store_table = index_table(table.name, index.name) if index else table.name
        after = None
        start = request.get("ExclusiveStartKey")
        if start is not None:
            start = normalise_item(start)
            sort, unique = self._position(table, index, start)
            schema = index.schema if index else table.schema
            after = RowKey(store_table, key_bytes(start[schema.partition]), sort, unique)
        limit = int(request.get("Limit", 0)) or None

        async def fetch(after: Any, count: int) -> list[Row]:
            return await self.store.scan_rows(
                store_table, after=after, limit=count, segment=segment, segments=segments
            )

        return await self._page(
            table, index, fetch, after, limit, tree, paths, request, lambda row: row.key
        )

    def _position(self, table: Table, index: Index | None, start: Item) -> tuple[bytes, bytes]:
        own = table.row_key(table.key_of(start))
        if index is None:
            return own.sort, b""
        unique = len(own.partition).to_bytes(4, "big") + own.partition + own.sort
        sort = key_bytes(start[index.schema.sort]) if index.schema.sort else b""
        return sort, unique

    async def _page(
        self,
        table: Table,
        index: Index | None,
        fetch: Any,
        after: Any,
        limit: int | None,
        tree: Any,
        paths: Any,
        request: Params,
        position: Any,
    ) -> Params:
        items: list[Item] = []
        scanned = 0
        size = 0
        last: Item | None = None
        more = False
        while True:
            wanted = min(limit - scanned, 500) if limit else 500
            rows = await fetch(after, wanted)
            for row in rows:
                item = decode_item(row.data)
                if index is not None:
                    item = project_for_index(index, table, item)
                scanned += 1
                size += len(row.data)
                last = item
                if tree is None or matches(tree, item, "FilterExpression"):
                    items.append(project(item, paths) if paths is not None else item)
                if (limit and scanned >= limit) or size >= PAGE_BYTES:
                    more = True
                    break
            if more or len(rows) < wanted:
                break
            after = position(rows[-1])
        result: Params = {"Count": len(items), "ScannedCount": scanned}
        if request.get("Select") != "COUNT":
            result["Items"] = items
        if more and last is not None:
            keys = table.key_of(last)
            if index is not None:
                keys.update(table.key_of(last, index.schema))
            result["LastEvaluatedKey"] = keys
        return result

    async def batch_get_item(self, request: Params, context: RequestContext) -> Params:
        wanted = request["RequestItems"]
        if sum(len(r["Keys"]) for r in wanted.values()) > 100:
            raise invalid("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        for name, spec in wanted.items():
            table = await self.table(name)
            legacy.check_styles(spec, "BatchGetItem")
            exprs = Expressions(spec)
            paths = exprs.projection()
            exprs.done()
            keys = [table.check_key(normalise_item(k)) for k in spec["Keys"]]
            rows = await self.store.get_rows([table.row_key(k) for k in keys])
            found = [decode_item(r.data) for r in rows if r is not None]
            responses[name] = [project(i, paths) if paths is not None else i for i in found]
        return {"Responses": responses, "UnprocessedKeys": {}}

    async def batch_write_item(self, request: Params, context: RequestContext) -> Params:
        wanted = request["RequestItems"]
        if sum(len(v) for v in wanted.values()) > 25:
            raise invalid("Too many items requested for the BatchWriteItem call")
        writes: list[tuple[Table, Item, Item | None]] = []
        for name, entries in wanted.items():
            table = await self.table(name)
            for entry in entries:
                if "PutRequest" in entry:
                    item = normalise_item(entry["PutRequest"]["Item"])
                    table.check_item_keys(item)
                    writes.append((table, table.key_of(item), item))
                else:
                    key = table.check_key(normalise_item(entry["DeleteRequest"]["Key"]))
                    writes.append((table, key, None))
        keys = [t.row_key(k) for t, k, _ in writes]
        if len(set(keys)) != len(keys):
            raise invalid("Provided list of item keys contains duplicates")
        now = self.now()

        def decide(rows: list[Row | None]) -> tuple[Any, None]:
            from skylet.store.types import TableWrite

            puts: list[Any] = []
            deletes: list[Any] = []
            appends: list[Any] = []
            for (table, _, new), row in zip(writes, rows, strict=True):
                # A put's old item matters only to its indexes' rows and its stream record.
                needed = new is None or table.stream_view is not None or table.indexes()
                old = decode_item(row.data) if row is not None and needed else None
                part = change(table, old, new, now=now, region=context.region, trace=context.trace)
                puts.extend(part.puts)
                deletes.extend(part.deletes)
                appends.extend(part.appends)
            return TableWrite(tuple(puts), tuple(deletes), tuple(appends)), None

        await self.store.transact(keys, decide)
        return {"UnprocessedItems": {}}
