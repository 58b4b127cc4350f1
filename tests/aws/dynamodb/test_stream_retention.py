"""DynamoDB Streams' clock-bound rules on a real SQLite store with a settable clock: records
kept 24 hours, iterators valid 15 minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.streams import ITERATOR_LIFETIME_S, RETENTION_S, Streams
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError
from skylet.store import open_store
from tests.store_fixtures import FakeClock

CONTEXT = RequestContext("dynamodb", "", "json", "", "us-east-1", "000000000000", "localhost")

pytestmark = pytest.mark.anyio


@pytest.fixture
async def streams(tmp_path: Path) -> AsyncIterator[tuple[Streams, FakeClock, str]]:
    store = open_store("", data_dir=tmp_path)
    await store.start()
    clock = FakeClock(ticking=True)
    tables = Tables(store, now=clock)
    created = await tables.create_table(
        {
            "TableName": "T",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
        CONTEXT,
    )
    await tables.put_item({"TableName": "T", "Item": {"id": {"S": "a"}}}, CONTEXT)
    yield Streams(tables, now=clock), clock, created["TableDescription"]["LatestStreamArn"]
    await store.aclose()


async def iterator(streams: Streams, arn: str) -> str:
    described = await streams.describe_stream({"StreamArn": arn}, CONTEXT)
    shard = described["StreamDescription"]["Shards"][0]["ShardId"]
    request = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
    return str((await streams.get_shard_iterator(request, CONTEXT))["ShardIterator"])


async def test_records_older_than_24_hours_are_no_longer_read(
    streams: tuple[Streams, FakeClock, str],
) -> None:
    service, clock, arn = streams
    page = await service.get_records({"ShardIterator": await iterator(service, arn)}, CONTEXT)
    assert len(page["Records"]) == 1
    clock.advance(RETENTION_S + 1)
    page = await service.get_records({"ShardIterator": await iterator(service, arn)}, CONTEXT)
    assert page["Records"] == []


async def test_an_iterator_expires_after_15_minutes(
    streams: tuple[Streams, FakeClock, str],
) -> None:
    service, clock, arn = streams
    token = await iterator(service, arn)
    clock.advance(ITERATOR_LIFETIME_S + 1)
    with pytest.raises(ServiceError) as raised:
        await service.get_records({"ShardIterator": token}, CONTEXT)
    assert raised.value.code == "ExpiredIteratorException"
