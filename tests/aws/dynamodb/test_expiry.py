"""Time to live: which items are due (pure, the clock passed in), and the sweeper on a real
store of each backend: expired items deleted a bounded batch per tick, each with a REMOVE
stream record carrying DynamoDB's service identity, and nothing else touched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.aws.dynamodb.expiry import HORIZON_S, ExpirySweeper, due, expired
from skylet.aws.dynamodb.schema import stream_log
from skylet.aws.dynamodb.service import Tables
from skylet.aws.service import RequestContext
from skylet.store.base import Store
from tests.store_fixtures import FakeClock

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "is_due"),
    [
        ({"N": str(int(NOW) - 1)}, True),
        ({"N": str(int(NOW))}, True),
        ({"N": str(int(NOW) + 1)}, False),
        ({"N": f"{NOW - 0.5}"}, True),
        ({"N": str(int(NOW - HORIZON_S) - 1)}, False),
        ({"N": str(int(NOW - HORIZON_S) + 1)}, True),
        ({"S": str(int(NOW) - 1)}, False),
        (None, False),
    ],
    ids=[
        "a second ago is due",
        "this second is due",
        "a second ahead is not",
        "fractions count",
        "more than five years ago is left alone",
        "just under five years ago is due",
        "a string never expires",
        "no attribute never expires",
    ],
)
def test_an_item_is_due_when_its_number_of_epoch_seconds_is_past(
    value: dict[str, str] | None, is_due: bool
) -> None:
    item: dict[str, Any] = {"id": {"S": "a"}}
    if value is not None:
        item["ttl"] = value
    assert expired(item, "ttl", NOW) is is_due


def test_due_keeps_the_order_and_only_the_expired() -> None:
    items = [{"id": {"S": str(i)}, "ttl": {"N": str(int(NOW) + (i % 2))}} for i in range(5)]
    assert [i["id"]["S"] for i in due(items, "ttl", NOW)] == ["0", "2", "4"]


CONTEXT = RequestContext("dynamodb", "X", "json", "", "eu-west-1", "000000000000", "")


async def _table(tables: Tables, name: str, ttl: bool = True) -> None:
    await tables.create_table(
        {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
        },
        CONTEXT,
    )
    if ttl:
        spec = {"Enabled": True, "AttributeName": "expires"}
        await tables.update_time_to_live(
            {"TableName": name, "TimeToLiveSpecification": spec}, CONTEXT
        )


async def _put(tables: Tables, table: str, key: str, expires: float | None) -> None:
    item: dict[str, Any] = {"id": {"S": key}}
    if expires is not None:
        item["expires"] = {"N": str(int(expires))}
    await tables.put_item({"TableName": table, "Item": item}, CONTEXT)


async def _keys(tables: Tables, table: str) -> list[str]:
    found = await tables.scan({"TableName": table}, CONTEXT)
    return sorted(i["id"]["S"] for i in found["Items"])


@pytest.mark.anyio
async def test_the_sweeper_deletes_expired_items_with_the_service_identity(
    store: Store, clock: FakeClock
) -> None:
    tables = Tables(store, now=clock)
    await _table(tables, "Sessions")
    await _table(tables, "Plain", ttl=False)
    now = clock()
    await _put(tables, "Sessions", "old", now - 10)
    await _put(tables, "Sessions", "later", now + 60)
    await _put(tables, "Sessions", "forever", None)
    await _put(tables, "Plain", "old", now - 10)
    sweeper = ExpirySweeper(tables, now=clock)
    # Expired but not yet swept: still read, as DynamoDB reads it.
    assert await _keys(tables, "Sessions") == ["forever", "later", "old"]
    assert await sweeper.sweep() == 1
    assert await _keys(tables, "Sessions") == ["forever", "later"]
    assert await _keys(tables, "Plain") == ["old"]  # no TTL on this table
    clock.advance(61)
    assert await sweeper.sweep() == 1
    assert await _keys(tables, "Sessions") == ["forever"]
    records = await store.read(stream_log("Sessions"), 0, after_sequence=0, limit=10)
    removals = [json.loads(r.data) for r in records if json.loads(r.data)["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"] for r in removals] == [
        {"id": {"S": "old"}},
        {"id": {"S": "later"}},
    ]
    assert all(
        r["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        for r in removals
    )
    assert removals[0]["dynamodb"]["OldImage"]["expires"] == {"N": str(int(now - 10))}
    assert removals[0]["awsRegion"] == "eu-west-1"


@pytest.mark.anyio
async def test_a_tick_reads_a_bounded_batch_and_the_next_goes_on(
    store: Store, clock: FakeClock
) -> None:
    tables = Tables(store, now=clock)
    await _table(tables, "Big")
    for i in range(25):
        await _put(tables, "Big", f"k{i:02}", clock() - 1)
    sweeper = ExpirySweeper(tables, now=clock, batch_rows=10)
    assert [await sweeper.sweep() for _ in range(3)] == [10, 10, 5]
    assert await _keys(tables, "Big") == []


@pytest.mark.anyio
async def test_an_item_updated_since_it_was_read_is_not_deleted(
    store: Store, clock: FakeClock
) -> None:
    tables = Tables(store, now=clock)
    await _table(tables, "Moved")
    await _put(tables, "Moved", "a", clock() - 1)
    sweeper = ExpirySweeper(tables, now=clock)
    table = await tables.table("Moved")
    await _put(tables, "Moved", "a", clock() + 3600)  # renewed after the sweep's read
    deleted = await sweeper._delete(
        table, {"id": {"S": "a"}, "expires": {"N": str(int(clock() - 1))}}, "expires", clock()
    )
    assert deleted is False
    assert await _keys(tables, "Moved") == ["a"]


@pytest.mark.anyio
async def test_update_time_to_live_refuses_what_dynamodb_refuses(
    store: Store, clock: FakeClock
) -> None:
    from skylet.errors import ServiceError

    tables = Tables(store, now=clock)
    await _table(tables, "Twice")
    again = {"Enabled": True, "AttributeName": "expires"}
    other = {"Enabled": True, "AttributeName": "other"}
    off = {"Enabled": False, "AttributeName": "expires"}
    for spec, message in (
        (again, "TimeToLive is already enabled"),
        (
            other,
            "TimeToLive is active on a different AttributeName: current AttributeName is expires",
        ),
    ):
        with pytest.raises(ServiceError) as raised:
            await tables.update_time_to_live(
                {"TableName": "Twice", "TimeToLiveSpecification": spec}, CONTEXT
            )
        assert (raised.value.code, raised.value.message) == ("ValidationException", message)
    await tables.update_time_to_live(
        {"TableName": "Twice", "TimeToLiveSpecification": off}, CONTEXT
    )
    with pytest.raises(ServiceError) as raised:
        await tables.update_time_to_live(
            {"TableName": "Twice", "TimeToLiveSpecification": off}, CONTEXT
        )
    assert raised.value.message == "TimeToLive is already disabled"
