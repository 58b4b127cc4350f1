"""``Streams``: DynamoDB Streams over the stream records table writes append (json protocol,
botocore's ``dynamodbstreams`` model).

    streams = Streams(tables)              # no I/O; reads the tables' store

A table's stream is one store log (``schema.stream_log``) with one shard; a record's
SequenceNumber is its log sequence, as 21 digits so that text order is numeric order. Records
are kept 24 hours, as DynamoDB keeps them. A shard iterator is an opaque token naming the
stream, the shard and the sequence it reads after; it expires after 15 minutes, as DynamoDB's.
DynamoDB and DynamoDB Streams share the signing name ``dynamodb``; the router tells them apart
by the X-Amz-Target prefix.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skylet import fastjson
from skylet.aws.dynamodb.schema import Table, from_wire_json, stream_log
from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.writes import TRACE_KEY
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.errors import ServiceError
from skylet.store.types import TRIM_HORIZON, LogRecord, Position

RETENTION_S = 24 * 3600.0
ITERATOR_LIFETIME_S = 15 * 60.0
MAX_RECORDS = 1000
SEQUENCE_DIGITS = 21


def sequence_text(sequence: int) -> str:
    return str(sequence).zfill(SEQUENCE_DIGITS)


def shard_id(table: Table) -> str:
    """The stream's one shard, named as DynamoDB names shards (``shardId-<digits>-<hex>``)."""
    digits = "".join(c for c in str(table.description.get("LatestStreamLabel", "")) if c.isdigit())
    return f"shardId-{digits[:20].ljust(20, '0')}-{str(table.description['TableId'])[:8]}"


def wire_record(record: LogRecord, *, keep_trace: bool = False) -> Params:
    """A stored stream record as GetRecords (and a Lambda event) carries it, in wire JSON;
    ``keep_trace``: with the writer's ``traceparent`` under ``TRACE_KEY``, for a poller."""
    body: dict[str, Any] = fastjson.loads(record.data)
    body["dynamodb"]["SequenceNumber"] = sequence_text(record.sequence)
    if not keep_trace:
        body.pop(TRACE_KEY, None)
    return body


def not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: {arn}")


class Streams(Service):
    """DynamoDB Streams. Built without I/O."""

    service_name = "dynamodbstreams"

    def __init__(self, tables: Tables, *, now: Callable[[], float] = time.time) -> None:
        self.tables = tables
        self.store = tables.store
        self.now = now

    async def stream_table(self, arn: Any) -> Table:
        """The table whose latest stream ``arn`` is; ResourceNotFoundException otherwise."""
        text = str(arn)
        name = text.split(":table/", 1)[-1].split("/stream/", 1)[0]
        if "/stream/" not in text or not name:
            raise not_found(text)
        try:
            table = await self.tables.table(name)
        except ServiceError:
            raise not_found(text) from None
        if table.description.get("LatestStreamArn") != text:
            raise not_found(text)
        if await self.store.get_log(stream_log(table.name)) is None:
            raise not_found(text)
        return table

    async def list_streams(self, request: Params, context: RequestContext) -> Params:
        found = []
        for config in await self.store.list_tables():
            if "/" in config.name:
                continue
            table = Table.from_json(config.attributes)
            arn = table.description.get("LatestStreamArn")
            wanted = request.get("TableName")
            if arn and (wanted is None or wanted == table.name):
                label = table.description["LatestStreamLabel"]
                found.append({"StreamArn": arn, "TableName": table.name, "StreamLabel": label})
        found.sort(key=lambda s: s["StreamArn"])
        start = request.get("ExclusiveStartStreamArn")
        if start is not None:
            found = [s for s in found if s["StreamArn"] > start]
        limit = int(request.get("Limit", 100))
        result: Params = {"Streams": found[:limit]}
        if len(found) > limit:
            result["LastEvaluatedStreamArn"] = found[limit - 1]["StreamArn"]
        return result

    async def describe_stream(self, request: Params, context: RequestContext) -> Params:
        table = await self.stream_table(request["StreamArn"])
        log = stream_log(table.name)
        await self.store.trim(log, self.now() - RETENTION_S)
        first = await self.store.seek(log, 0, TRIM_HORIZON) + 1
        description = table.description
        label = description["LatestStreamLabel"]
        created = datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
        return {
            "StreamDescription": {
                "StreamArn": description["LatestStreamArn"],
                "StreamLabel": label,
                "StreamStatus": "ENABLED" if table.stream_view else "DISABLED",
                "StreamViewType": description["StreamSpecification"].get("StreamViewType")
                or table.stream_view,
                "CreationRequestDateTime": created,
                "TableName": table.name,
                "KeySchema": description["KeySchema"],
                "Shards": [
                    {
                        "ShardId": shard_id(table),
                        "SequenceNumberRange": {"StartingSequenceNumber": sequence_text(first)},
                    }
                ],
            }
        }

    async def get_shard_iterator(self, request: Params, context: RequestContext) -> Params:
        arn = str(request["StreamArn"])
        table = await self.stream_table(arn)
        if request["ShardId"] != shard_id(table):
            raise ServiceError(
                "ResourceNotFoundException",
                f"Requested resource not found: Shard does not exist: {request['ShardId']}",
            )
        log = stream_log(table.name)
        await self.store.trim(log, self.now() - RETENTION_S)
        kind = request["ShardIteratorType"]
        horizon = await self.store.seek(log, 0, TRIM_HORIZON)
        if kind == "TRIM_HORIZON":
            after = horizon
        elif kind == "LATEST":
            after = await self.store.seek(log, 0, Position.LATEST)
        else:
            number = request.get("SequenceNumber")
            if number is None or not str(number).isdigit():
                raise ServiceError(
                    "ValidationException",
                    f"Invalid SequenceNumber for ShardIteratorType {kind}: {number}",
                )
            sequence = int(number)
            if sequence <= horizon:
                raise ServiceError(
                    "TrimmedDataAccessException",
                    f"Sequence number {number} is beyond the trim horizon of the shard",
                )
            after = sequence - 1 if kind == "AT_SEQUENCE_NUMBER" else sequence
        return {"ShardIterator": self._iterator(arn, request["ShardId"], after)}

    async def get_records(self, request: Params, context: RequestContext) -> Params:
        arn, shard, after = self._read_iterator(request["ShardIterator"])
        table = await self.stream_table(arn)
        limit = int(request.get("Limit", MAX_RECORDS))
        if not 1 <= limit <= MAX_RECORDS:
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 1000",
            )
        page = await self.store.read(stream_log(table.name), 0, after_sequence=after, limit=limit)
        oldest = self.now() - RETENTION_S
        records = [_for_wire(wire_record(r)) for r in page if r.timestamp >= oldest]
        last = page[-1].sequence if page else after
        return {"Records": records, "NextShardIterator": self._iterator(arn, shard, last)}

    def _iterator(self, arn: str, shard: str, after: int) -> str:
        token = json.dumps({"arn": arn, "shard": shard, "after": after, "at": self.now()})
        return base64.urlsafe_b64encode(token.encode()).decode()

    def _read_iterator(self, text: Any) -> tuple[str, str, int]:
        try:
            token = json.loads(base64.urlsafe_b64decode(str(text).encode()))
            arn, shard, after, at = token["arn"], token["shard"], int(token["after"]), token["at"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ServiceError("ValidationException", "Invalid ShardIterator") from None
        if self.now() - float(at) > ITERATOR_LIFETIME_S:
            raise ServiceError(
                "ExpiredIteratorException",
                "Iterator expired. The iterator was created at "
                f"time {datetime.fromtimestamp(float(at), UTC).isoformat()}",
            )
        return str(arn), str(shard), after


def _for_wire(record: Params) -> Params:
    """A record as the codec serializes it: binaries as bytes, the time as a datetime."""
    body = record["dynamodb"]
    body["ApproximateCreationDateTime"] = datetime.fromtimestamp(
        body["ApproximateCreationDateTime"], UTC
    )
    for key in ("Keys", "NewImage", "OldImage"):
        if key in body:
            body[key] = from_wire_json(body[key])
    return record
