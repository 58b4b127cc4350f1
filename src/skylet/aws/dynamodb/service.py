"""``Tables``: Amazon DynamoDB on skylet's durable store (json protocol, botocore's model).

    tables = Tables(store)                 # no I/O; the store is started by the platform

Table operations here; items (``items.py``), reads (``reads.py``) and transactions
(``transactions.py``) are mixed in. docs/dynamodb.md says what is served and how it differs.

A table's description is read from the store once and kept for ``TABLE_CACHE_S``: every item
operation needs it, and reading it costs as much as the item itself. This node's own table
changes take effect at once; another node's (on PostgreSQL) within that second, as DynamoDB's
own table changes take a while to show everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from skylet.aws.dynamodb.items import ItemOperations
from skylet.aws.dynamodb.partiql import StatementOperations
from skylet.aws.dynamodb.reads import ReadOperations
from skylet.aws.dynamodb.resources import DeclaredTable
from skylet.aws.dynamodb.schema import (
    Table,
    describe_new,
    enable_stream,
    for_wire,
    index_table,
    stream_log,
)
from skylet.aws.dynamodb.transactions import TransactionOperations
from skylet.aws.dynamodb.values import invalid
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError, StoreConflict
from skylet.store.base import Store
from skylet.store.types import Row, TableWrite

TABLE_CACHE_S = 1.0


class Tables(ItemOperations, ReadOperations, TransactionOperations, StatementOperations):
    """DynamoDB. Built without I/O."""

    service_name = "dynamodb"

    def __init__(self, store: Store, *, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now
        self.tokens: dict[str, tuple[float, str, Params]] = {}
        self._described: dict[str, tuple[float, Table]] = {}

    async def create_table(self, request: Params, context: RequestContext) -> Params:
        table = describe_new(request, context.region, context.account_id, self.now())
        if request.get("Tags"):
            table.description["Tags"] = request["Tags"]
        self.forget(table.name)
        try:
            await self.store.create_table(table.name, attributes=table.to_json())
        except StoreConflict:
            raise ServiceError(
                "ResourceInUseException", f"Table already exists: {table.name}"
            ) from None
        for index in table.indexes():
            await self.store.create_table(index_table(table.name, index.name), attributes="{}")
        if table.stream_view is not None:
            await self._ensure_log(table.name)
        described = for_wire(table, 0, 0)
        described["TableStatus"] = "ACTIVE"
        return {"TableDescription": described}

    async def declare(self, declared: DeclaredTable, region: str, account: str) -> Params:
        """Make a manifest's table, or bring the one a previous start made to its stream and
        TTL settings (keys and indexes stay as first made); return DescribeTable's ``Table``."""
        context = RequestContext("dynamodb", "CreateTable", "json", "", region, account, "")
        name = declared.name
        if await self.store.get_table(name) is None:
            await self.create_table(declared.request, context)
        table = await self.table(name)
        wanted = (declared.request.get("StreamSpecification") or {}).get("StreamViewType")
        if table.stream_view != wanted:
            if table.stream_view is not None:
                off = {"StreamEnabled": False}
                await self.update_table({"TableName": name, "StreamSpecification": off}, context)
            if wanted is not None:
                on = {"StreamEnabled": True, "StreamViewType": wanted}
                await self.update_table({"TableName": name, "StreamSpecification": on}, context)
        if declared.time_to_live is not None:
            spec = {
                "Enabled": bool(declared.time_to_live.get("Enabled")),
                "AttributeName": str(declared.time_to_live.get("AttributeName", "")),
            }
            await self._declare_ttl(table, spec, context)
        described: Params = (await self.describe_table({"TableName": name}, context))["Table"]
        return described

    async def _declare_ttl(self, table: Table, spec: Params, context: RequestContext) -> None:
        """Bring the table's TTL to the manifest's setting, doing nothing if it is so."""
        current = table.description.get("TimeToLive") or {}
        enabled = current.get("TimeToLiveStatus") == "ENABLED"
        if enabled == spec["Enabled"] and (
            not enabled or current.get("AttributeName") == spec["AttributeName"]
        ):
            return
        name = table.name
        if enabled:  # on another attribute: off first, as DynamoDB needs
            off = {"Enabled": False, "AttributeName": current.get("AttributeName", "")}
            await self.update_time_to_live(
                {"TableName": name, "TimeToLiveSpecification": off}, context
            )
        if spec["Enabled"]:
            await self.update_time_to_live(
                {"TableName": name, "TimeToLiveSpecification": spec}, context
            )

    async def _ensure_log(self, name: str) -> None:
        if await self.store.get_log(stream_log(name)) is None:
            await self.store.create_log(stream_log(name))

    async def describe_table(self, request: Params, context: RequestContext) -> Params:
        table = await self.table(request["TableName"])
        count, size = await self.store.count_rows(table.name)
        return {"Table": for_wire(table, count, size)}

    async def list_tables(self, request: Params, context: RequestContext) -> Params:
        names = [t.name for t in await self.store.list_tables() if "/" not in t.name]
        start = request.get("ExclusiveStartTableName")
        if start is not None:
            names = [n for n in names if n > start]
        limit = int(request.get("Limit", 100))
        page = names[:limit]
        result: Params = {"TableNames": page}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = page[-1]
        return result

    async def delete_table(self, request: Params, context: RequestContext) -> Params:
        table = await self.table(request["TableName"], fresh=True)
        if table.description.get("DeletionProtectionEnabled"):
            raise ServiceError(
                "ValidationException",
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first.",
            )
        count, size = await self.store.count_rows(table.name)
        for index in table.indexes():
            await self.store.delete_table(index_table(table.name, index.name))
        await self.store.delete_table(table.name)
        self.forget(table.name)
        described = for_wire(table, count, size)
        described["TableStatus"] = "DELETING"
        return {"TableDescription": described}

    async def update_table(self, request: Params, context: RequestContext) -> Params:
        table = await self.table(request["TableName"], fresh=True)
        description = table.description
        if "AttributeDefinitions" in request:
            known = {a["AttributeName"]: a for a in description["AttributeDefinitions"]}
            for a in request["AttributeDefinitions"]:
                known[a["AttributeName"]] = a
            description["AttributeDefinitions"] = list(known.values())
        if "BillingMode" in request:
            description["BillingModeSummary"] = {"BillingMode": request["BillingMode"]}
        if "DeletionProtectionEnabled" in request:
            description["DeletionProtectionEnabled"] = request["DeletionProtectionEnabled"]
        stream = request.get("StreamSpecification")
        if stream is not None:
            if stream.get("StreamEnabled"):
                if table.stream_view is not None:
                    raise ServiceError(
                        "ValidationException", f"Table already has an enabled stream: {table.name}"
                    )
                enable_stream(description, stream["StreamViewType"], self.now())
                await self._ensure_log(table.name)
            else:
                description["StreamSpecification"] = {"StreamEnabled": False}
        backfill: list[str] = []
        for update in request.get("GlobalSecondaryIndexUpdates") or []:
            if "Create" in update:
                create = update["Create"]
                indexes = description.setdefault("GlobalSecondaryIndexes", [])
                indexes.append(
                    {
                        "IndexName": create["IndexName"],
                        "KeySchema": create["KeySchema"],
                        "Projection": create.get("Projection") or {"ProjectionType": "ALL"},
                        "IndexStatus": "ACTIVE",
                        "IndexArn": f"{description['TableArn']}/index/{create['IndexName']}",
                        "IndexSizeBytes": 0,
                        "ItemCount": 0,
                    }
                )
                backfill.append(create["IndexName"])
            elif "Delete" in update:
                name = update["Delete"]["IndexName"]
                table.index(name)
                description["GlobalSecondaryIndexes"] = [
                    i
                    for i in description.get("GlobalSecondaryIndexes", [])
                    if i["IndexName"] != name
                ]
                await self.store.delete_table(index_table(table.name, name))
        updated = Table(description)
        updated.indexes()  # checks the new key schemas against the definitions
        await self.store.update_table(table.name, attributes=updated.to_json())
        self.forget(table.name)
        for name in backfill:
            await self._backfill(updated, name)
        count, size = await self.store.count_rows(table.name)
        return {"TableDescription": for_wire(updated, count, size)}

    async def _backfill(self, table: Table, index: str) -> None:
        from skylet.aws.dynamodb.schema import decode_item

        await self.store.create_table(index_table(table.name, index), attributes="{}")
        after = None
        while True:
            page = await self.store.scan_rows(table.name, after=after, limit=500)
            if not page:
                return
            rows: list[Row] = []
            for row in page:
                rows.extend(
                    r
                    for r in table.rows(decode_item(row.data))[1]
                    if r.key.table == index_table(table.name, index)
                )
            await self.store.transact([], _constant(TableWrite(puts=tuple(rows))))
            after = page[-1].key

    async def update_time_to_live(self, request: Params, context: RequestContext) -> Params:
        table = await self.table(request["TableName"], fresh=True)
        spec = request["TimeToLiveSpecification"]
        current = table.description.get("TimeToLive") or {}
        enabled = current.get("TimeToLiveStatus") == "ENABLED"
        if spec["Enabled"] and enabled:
            if current.get("AttributeName") != spec["AttributeName"]:
                raise invalid(
                    "TimeToLive is active on a different AttributeName: current AttributeName is "
                    f"{current.get('AttributeName')}"
                )
            raise invalid("TimeToLive is already enabled")
        if not spec["Enabled"] and not enabled:
            raise invalid("TimeToLive is already disabled")
        table.description["TimeToLive"] = {
            "TimeToLiveStatus": "ENABLED" if spec["Enabled"] else "DISABLED",
            **({"AttributeName": spec["AttributeName"]} if spec["Enabled"] else {}),
        }
        await self.store.update_table(table.name, attributes=table.to_json())
        self.forget(table.name)
        return {"TimeToLiveSpecification": spec}

    async def describe_time_to_live(self, request: Params, context: RequestContext) -> Params:
        table = await self.table(request["TableName"])
        return {
            "TimeToLiveDescription": table.description.get(
                "TimeToLive", {"TimeToLiveStatus": "DISABLED"}
            )
        }

    async def tag_resource(self, request: Params, context: RequestContext) -> Params:
        table = await self._by_arn(request["ResourceArn"])
        tags = {t["Key"]: t["Value"] for t in table.description.get("Tags", [])}
        tags.update({t["Key"]: t["Value"] for t in request["Tags"]})
        table.description["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        await self.store.update_table(table.name, attributes=table.to_json())
        self.forget(table.name)
        return {}

    async def untag_resource(self, request: Params, context: RequestContext) -> Params:
        table = await self._by_arn(request["ResourceArn"])
        table.description["Tags"] = [
            t for t in table.description.get("Tags", []) if t["Key"] not in request["TagKeys"]
        ]
        await self.store.update_table(table.name, attributes=table.to_json())
        self.forget(table.name)
        return {}

    async def list_tags_of_resource(self, request: Params, context: RequestContext) -> Params:
        table = await self._by_arn(request["ResourceArn"])
        return {"Tags": table.description.get("Tags", [])}

    async def _by_arn(self, arn: str) -> Table:
        name = arn.rsplit("table/", 1)[-1].split("/")[0]
        return await self.table(name, fresh=True)

    async def describe_endpoints(self, request: Params, context: RequestContext) -> Params:
        return {"Endpoints": [{"Address": context.host, "CachePeriodInMinutes": 1440}]}

    async def table(self, name: Any, *, fresh: bool = False) -> Table:
        """The table's description; ``fresh`` reads the store (for a change to make: the
        object returned is then the caller's to change), else it may be up to
        ``TABLE_CACHE_S`` old and is shared (not to be changed)."""
        key = str(name)
        moment = time.monotonic()
        if not fresh:
            kept = self._described.get(key)
            if kept is not None and moment - kept[0] < TABLE_CACHE_S:
                return kept[1]
        config = await self.store.get_table(key) if "/" not in key else None
        if config is None:
            self._described.pop(key, None)
            raise ServiceError("ResourceNotFoundException", "Requested resource not found")
        if fresh:
            self._described.pop(key, None)
            return Table.from_json(config.attributes)
        table = Table.from_json(config.attributes)
        self._described[key] = (moment, table)
        return table

    def forget(self, name: str) -> None:
        """Drop the kept description of ``name`` (this node changed it)."""
        self._described.pop(name, None)


def _constant(write: TableWrite) -> Callable[[list[Row | None]], tuple[TableWrite, None]]:
    return lambda _rows: (write, None)
