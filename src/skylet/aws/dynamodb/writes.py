"""One item's change as the store writes it (pure): the rows to put and delete, for the table
and its indexes, and the stream record, all for one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from skylet import fastjson
from skylet.aws.dynamodb.schema import Table, stream_log, to_wire_json
from skylet.aws.dynamodb.values import Item, item_size
from skylet.store.types import LogAppend, Row, RowKey, TableWrite


def change(
    table: Table,
    old: Item | None,
    new: Item | None,
    *,
    now: float,
    region: str,
    service_identity: bool = False,
    trace: str | None = None,
) -> TableWrite:
    """The write that turns ``old`` into ``new`` (None: absent) for one key."""
    puts: list[Row] = []
    deletes: list[RowKey] = []
    old_index = set(table.index_keys(old)) if old is not None and table.indexes() else set()
    if new is not None:
        own, index_rows = table.rows(new)
        puts.append(own)
        puts.extend(index_rows)
        deletes.extend(old_index - {r.key for r in index_rows})
    elif old is not None:
        deletes.append(table.row_key(table.key_of(old)))
        deletes.extend(old_index)
    appends: tuple[LogAppend, ...] = ()
    view = table.stream_view
    if view is not None and (old is not None or new is not None):
        record = stream_record(
            table,
            old,
            new,
            view,
            now=now,
            region=region,
            service_identity=service_identity,
            trace=trace,
        )
        appends = (LogAppend(stream_log(table.name), (record,)),)
    return TableWrite(tuple(puts), tuple(deletes), appends)


#: skylet's own key in a stored stream record: never on the wire (streams.wire_record).
TRACE_KEY = "_skylet_trace"


def stream_record(
    table: Table,
    old: Item | None,
    new: Item | None,
    view: str,
    *,
    now: float,
    region: str,
    service_identity: bool = False,
    trace: str | None = None,
) -> bytes:
    """DynamoDB Streams' record, less SequenceNumber (the log's sequence, added on read);
    ``trace``: the writer's ``traceparent`` (``RequestContext.trace``), kept under ``TRACE_KEY``."""
    event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    keys = table.key_of(new if new is not None else old or {})
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": int(now),
        "Keys": to_wire_json(keys),
        "SizeBytes": 0,
        "StreamViewType": view,
    }
    size = item_size(keys)
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
        body["NewImage"] = to_wire_json(new)
        size += item_size(new)
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
        body["OldImage"] = to_wire_json(old)
        size += item_size(old)
    body["SizeBytes"] = size
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
    }
    if service_identity:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    if trace is not None:  # the writer's trace, which a mapping's invocation continues
        record[TRACE_KEY] = trace
    return fastjson.dumps(record)
