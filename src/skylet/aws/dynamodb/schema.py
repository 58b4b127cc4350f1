"""A table's definition (pure): CreateTable's input checked and turned into the description
DynamoDB answers, kept in the store as JSON with the table; the keys of the table and of
its indexes; an item's rows (the table's and each index's)."""

from __future__ import annotations

import base64
import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from skylet import arns, fastjson
from skylet.aws.dynamodb.keys import KeySchema
from skylet.aws.dynamodb.values import Item, Value, invalid, key_bytes, parameter
from skylet.store.types import Row, RowKey

Params = dict[str, Any]


def index_table(table: str, index: str) -> str:
    """The store table holding an index's rows (``/`` never appears in a table's name)."""
    return f"{table}/{index}"


def stream_log(table: str) -> str:
    return f"dynamodb-stream/{table}"


def _schema(key_schema: list[Params], types: dict[str, str], where: str) -> KeySchema:
    hashes = [k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1 or len(key_schema) != len(hashes) + len(ranges):
        raise invalid(f"1 validation error detected: Invalid KeySchema{where}")
    for name in hashes + ranges:
        if name not in types:
            raise parameter(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: "
                f"[{', '.join(hashes + ranges)}], AttributeDefinitions: [{', '.join(types)}]"
            )
    sort = ranges[0] if ranges else None
    return KeySchema(hashes[0], types[hashes[0]], sort, types[sort] if sort else None)


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    schema: KeySchema
    projection: Params
    local: bool


@dataclass(frozen=True)
class Table:
    """A table's description (DynamoDB's ``TableDescription`` less what is computed). Its
    name, key schema and indexes are worked out once (every item operation asks for them):
    a change to those makes a new ``Table``."""

    description: Params

    @functools.cached_property
    def name(self) -> str:
        return str(self.description["TableName"])

    @functools.cached_property
    def types(self) -> dict[str, str]:
        return {
            a["AttributeName"]: a["AttributeType"] for a in self.description["AttributeDefinitions"]
        }

    @functools.cached_property
    def schema(self) -> KeySchema:
        return _schema(self.description["KeySchema"], self.types, "")

    def indexes(self) -> list[Index]:
        return self._indexes

    @functools.cached_property
    def _indexes(self) -> list[Index]:
        found = []
        for kind, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
            for index in self.description.get(kind, []):
                found.append(
                    Index(
                        index["IndexName"],
                        _schema(index["KeySchema"], self.types, ""),
                        index["Projection"],
                        local,
                    )
                )
        return found

    def index(self, name: str) -> Index:
        for index in self.indexes():
            if index.name == name:
                return index
        raise invalid(f"The table does not have the specified index: {name}")

    @property
    def stream_view(self) -> str | None:
        spec = self.description.get("StreamSpecification") or {}
        return spec.get("StreamViewType") if spec.get("StreamEnabled") else None

    def to_json(self) -> str:
        return fastjson.dumps(self.description).decode()

    @classmethod
    def from_json(cls, text: str) -> Table:
        return cls(fastjson.loads(text.encode()))

    # --- items and rows ----------------------------------------------------------------------

    def key_of(self, item: Item, schema: KeySchema | None = None) -> Item:
        schema = schema or self.schema
        names = [schema.partition] + ([schema.sort] if schema.sort else [])
        return {n: item[n] for n in names if n in item}

    def check_key(self, key: Item) -> Item:
        """``key`` checked as a primary key (exactly the key attributes, of their types)."""
        schema = self.schema
        names = [schema.partition] + ([schema.sort] if schema.sort else [])
        types = [schema.partition_type] + ([schema.sort_type] if schema.sort_type else [])
        if set(key) != set(names):
            raise invalid("The provided key element does not match the schema")
        for name, kind in zip(names, types, strict=True):
            if next(iter(key[name])) != kind:
                raise invalid("The provided key element does not match the schema")
        return key

    def check_item_keys(self, item: Item) -> None:
        schema = self.schema
        for name, kind in (
            (schema.partition, schema.partition_type),
            (schema.sort, schema.sort_type),
        ):
            if name is None:
                continue
            if name not in item:
                raise parameter(f"Missing the key {name} in the item")
            actual = next(iter(item[name]))
            if actual != kind:
                raise parameter(f"Type mismatch for key {name} expected: {kind} actual: {actual}")
            if kind in ("S", "B") and len(item[name][kind]) == 0:
                raise parameter(
                    "One or more parameter values are not valid. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                    f"value. Key: {name}"
                )
        for index in self.indexes():
            for name, kind in (
                (index.schema.partition, index.schema.partition_type),
                (index.schema.sort, index.schema.sort_type),
            ):
                if name is not None and name in item and next(iter(item[name])) != kind:
                    raise parameter(
                        "Type mismatch for Index Key "
                        f"{name} Expected: {kind} Actual: {next(iter(item[name]))} "
                        f"IndexName: {index.name}"
                    )

    def row_key(self, key: Item) -> RowKey:
        schema = self.schema
        sort = key_bytes(key[schema.sort]) if schema.sort else b""
        return RowKey(self.name, key_bytes(key[schema.partition]), sort)

    def rows(self, item: Item) -> tuple[Row, list[Row]]:
        """The table's row of ``item`` and its indexes' rows (an index skips an item that
        lacks its key attributes: a sparse index)."""
        data = encode_item(item)
        own = self.row_key(self.key_of(item))
        unique = len(own.partition).to_bytes(4, "big") + own.partition + own.sort
        rows = []
        for index in self.indexes():
            s = index.schema
            if s.partition not in item or (s.sort is not None and s.sort not in item):
                continue
            sort = key_bytes(item[s.sort]) if s.sort else b""
            rows.append(
                Row(
                    RowKey(
                        index_table(self.name, index.name),
                        key_bytes(item[s.partition]),
                        sort,
                        unique,
                    ),
                    data,
                )
            )
        return Row(own, data), rows

    def index_keys(self, item: Item) -> list[RowKey]:
        return [row.key for row in self.rows(item)[1]]


def project_for_index(index: Index, table: Table, item: Item) -> Item:
    kind = index.projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return item
    keep = set(table.key_of(item)) | set(table.key_of(item, index.schema))
    if kind == "INCLUDE":
        keep |= set(index.projection.get("NonKeyAttributes", []))
    return {k: v for k, v in item.items() if k in keep}


# --- item encoding: DynamoDB's JSON, binaries in base64 ------------------------------------


def _encode(value: Value) -> Any:
    (kind,) = value
    data = value[kind]
    if kind == "B":
        return {"B": base64.b64encode(data).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in data]}
    if kind == "M":
        return {"M": {k: _encode(v) for k, v in data.items()}}
    if kind == "L":
        return {"L": [_encode(v) for v in data]}
    return value


def _decode(value: Any) -> Value:
    (kind,) = value
    data = value[kind]
    if kind == "B":
        return {"B": base64.b64decode(data)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in data]}
    if kind == "M":
        return {"M": {k: _decode(v) for k, v in data.items()}}
    if kind == "L":
        return {"L": [_decode(v) for v in data]}
    return dict(value)


def encode_item(item: Item) -> bytes:
    return fastjson.dumps({k: _encode(v) for k, v in item.items()})


def decode_item(data: bytes) -> Item:
    return {k: _decode(v) for k, v in fastjson.loads(data).items()}


def from_wire_json(item: Any) -> Item:
    """DynamoDB JSON (binaries base64) as values, binaries as bytes."""
    return {k: _decode(v) for k, v in item.items()}


def to_wire_json(item: Item) -> Any:
    """``item`` as DynamoDB JSON (binaries base64), as a stream record carries it."""
    return {k: _encode(v) for k, v in item.items()}


# --- CreateTable ---------------------------------------------------------------------------


def describe_new(request: Params, region: str, account: str, now: float) -> Table:
    name = request["TableName"]
    types = {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]}
    _schema(request["KeySchema"], types, "")
    arn = arns.arn("dynamodb", f"table/{name}", region=region, account=account)
    billing = request.get("BillingMode", "PROVISIONED")
    throughput = request.get("ProvisionedThroughput") or {}
    description: Params = {
        "TableName": name,
        "AttributeDefinitions": request["AttributeDefinitions"],
        "KeySchema": request["KeySchema"],
        "TableStatus": "ACTIVE",
        "CreationDateTime": now,
        "TableArn": arn,
        "TableId": str(uuid.uuid4()),
        "BillingModeSummary": {"BillingMode": billing},
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0),
        },
        "DeletionProtectionEnabled": bool(request.get("DeletionProtectionEnabled", False)),
    }
    if request.get("TableClass"):
        description["TableClassSummary"] = {"TableClass": request["TableClass"]}
    used = {k["AttributeName"] for k in request["KeySchema"]}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = []
        for index in request.get(kind) or []:
            key = _schema(index["KeySchema"], types, "")
            used |= {k["AttributeName"] for k in index["KeySchema"]}
            if (
                kind == "LocalSecondaryIndexes"
                and key.partition != _schema(request["KeySchema"], types, "").partition
            ):
                raise parameter(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    "for index: "
                    + index["IndexName"]
                    + ". index hash key: "
                    + key.partition
                    + ", table hash key: "
                    + _schema(request["KeySchema"], types, "").partition
                )
            described = {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index.get("Projection") or {"ProjectionType": "ALL"},
                "IndexArn": f"{arn}/index/{index['IndexName']}",
                "IndexSizeBytes": 0,
                "ItemCount": 0,
            }
            if kind == "GlobalSecondaryIndexes":
                described["IndexStatus"] = "ACTIVE"
                described["ProvisionedThroughput"] = {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": (index.get("ProvisionedThroughput") or {}).get(
                        "ReadCapacityUnits", 0
                    ),
                    "WriteCapacityUnits": (index.get("ProvisionedThroughput") or {}).get(
                        "WriteCapacityUnits", 0
                    ),
                }
            indexes.append(described)
        if indexes:
            description[kind] = indexes
    unused = set(types) - used
    if unused:
        raise parameter(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
    stream = request.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        enable_stream(description, stream["StreamViewType"], now)
    return Table(description)


def enable_stream(description: Params, view: str, now: float) -> None:
    label = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    description["LatestStreamLabel"] = label
    description["LatestStreamArn"] = f"{description['TableArn']}/stream/{label}"


def for_wire(table: Table, item_count: int, size: int) -> Params:
    """The description DescribeTable answers (times as datetimes)."""
    described = dict(table.description)
    described["CreationDateTime"] = datetime.fromtimestamp(described["CreationDateTime"], UTC)
    described["ItemCount"] = item_count
    described["TableSizeBytes"] = size
    described.pop("TimeToLive", None)
    described.pop("Tags", None)
    return described
