"""PynamoDB, unchanged, against a real platform on a real socket: a Model with hash and range
keys and a GSI, conditional saves and deletes, update actions, queries with range conditions,
scans, counts, batch writes and gets, transactions, versions and TTL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    TableError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("dynamodb-pynamodb")

CREDENTIALS = {"region": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}


class Address(MapAttribute[str, Any]):
    city = UnicodeAttribute()
    zip = UnicodeAttribute(null=True)


class ByAuthor(GlobalSecondaryIndex["Thread"]):
    class Meta:
        index_name = "ByAuthor"
        projection = AllProjection()

    author = UnicodeAttribute(hash_key=True)
    views = NumberAttribute(range_key=True)


class ByTag(GlobalSecondaryIndex["Thread"]):
    class Meta:
        index_name = "ByCategory"
        projection = KeysOnlyProjection()

    category = UnicodeAttribute(hash_key=True)


class Thread(Model):
    class Meta:
        table_name = "PynamoThread"
        billing_mode = "PAY_PER_REQUEST"

    forum = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute(range_key=True)
    author = UnicodeAttribute(default="anon")
    views = NumberAttribute(default=0)
    category = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    scores = NumberSetAttribute(null=True)
    replies = ListAttribute[str](null=True)
    address = Address(null=True)
    by_author = ByAuthor()
    by_category = ByTag()


class Counter(Model):
    class Meta:
        table_name = "PynamoCounter"
        billing_mode = "PAY_PER_REQUEST"

    name = UnicodeAttribute(hash_key=True)
    version = VersionAttribute()
    total = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


@pytest.fixture(scope="module", autouse=True)
def models(server: SqsServer) -> Iterator[None]:
    for model in (Thread, Counter):
        model.Meta.host = server.url
        for key, value in CREDENTIALS.items():
            setattr(model.Meta, key, value)
        model._connection = None
        model.create_table(wait=True)
    yield


@pytest.fixture
def connection(server: SqsServer) -> Connection:
    return Connection(host=server.url, **CREDENTIALS)


def test_models_create_their_tables_with_keys_and_indexes(connection: Connection) -> None:
    assert Thread.exists() and Counter.exists()
    described = connection.describe_table("PynamoThread")
    assert described["KeySchema"] == [
        {"AttributeName": "forum", "KeyType": "HASH"},
        {"AttributeName": "subject", "KeyType": "RANGE"},
    ]
    indexes = {i["IndexName"]: i["Projection"] for i in described["GlobalSecondaryIndexes"]}
    assert indexes == {
        "ByAuthor": {"ProjectionType": "ALL"},
        "ByCategory": {"ProjectionType": "KEYS_ONLY"},
    }


def test_save_get_refresh_and_conditional_save(server: SqsServer) -> None:
    thread = Thread("S3", "buckets", author="ann", views=3, tags={"a", "b"})
    thread.address = Address(city="Oslo")
    thread.save(condition=Thread.forum.does_not_exist())
    got = Thread.get("S3", "buckets")
    assert (got.author, got.views, got.tags, got.address.city) == ("ann", 3, {"a", "b"}, "Oslo")
    with pytest.raises(PutError) as raised:
        Thread("S3", "buckets").save(condition=Thread.forum.does_not_exist())
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"
    got.views = 9
    got.save(condition=Thread.views == 3)
    thread.refresh()
    assert thread.views == 9
    with pytest.raises(DoesNotExist):
        Thread.get("S3", "nothing")
    assert Thread.get("S3", "buckets", attributes_to_get=["author"]).author == "ann"


def test_update_actions_and_their_conditions(server: SqsServer) -> None:
    thread = Thread("Lambda", "cold", views=1, tags={"x"}, scores={1, 2}, replies=["r1"])
    thread.save()
    thread.update(
        actions=[
            Thread.views.add(5),
            Thread.tags.add({"y"}),
            Thread.scores.delete({1}),
            Thread.replies.set(Thread.replies.append(["r2"])),
            Thread.category.set("compute"),
            Thread.author.remove(),
        ],
        condition=Thread.views < 10,
    )
    assert (thread.views, thread.tags, thread.scores) == (6, {"x", "y"}, {2})
    assert (thread.replies, thread.category) == (["r1", "r2"], "compute")
    assert Thread.get("Lambda", "cold").author == "anon"  # removed, so the default again
    with pytest.raises(UpdateError) as raised:
        thread.update(actions=[Thread.views.set(0)], condition=Thread.views > 100)
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"


def test_queries_with_range_conditions_indexes_and_counts(server: SqsServer) -> None:
    with Thread.batch_write() as batch:
        for i in range(30):
            batch.save(Thread("Q", f"s{i:02}", author="bob", views=i, category=f"c{i % 3}"))
    assert [t.subject for t in Thread.query("Q", Thread.subject.startswith("s1"))] == [
        f"s1{i}" for i in range(10)
    ]
    between = Thread.query("Q", Thread.subject.between("s03", "s05"), scan_index_forward=False)
    assert [t.subject for t in between] == ["s05", "s04", "s03"]
    heavy = Thread.query("Q", Thread.subject < "s10", filter_condition=Thread.views >= 7)
    assert [t.views for t in heavy] == [7, 8, 9]
    pages = Thread.query("Q", limit=7, page_size=3)
    assert len(list(pages)) == 7
    assert Thread.count("Q") == 30
    assert Thread.count("Q", Thread.subject.startswith("s2")) == 10
    assert Thread.count("Q", filter_condition=Thread.category == "c0") == 10
    by_author = Thread.by_author.query("bob", ByAuthor.views.between(10, 12))
    assert [(t.subject, t.views) for t in by_author] == [("s10", 10), ("s11", 11), ("s12", 12)]
    by_category = list(Thread.by_category.query("c1"))
    assert len(by_category) == 10 and by_category[0].author == "anon"  # keys only


def test_scan_with_filters_and_segments(server: SqsServer) -> None:
    with Thread.batch_write() as batch:
        for i in range(12):
            batch.save(Thread("Scan", f"{i:02}", views=100 + i))
    found = {t.subject for t in Thread.scan(Thread.views >= 100)}
    assert found == {f"{i:02}" for i in range(12)}
    segments = [
        {t.subject for t in Thread.scan(Thread.forum == "Scan", segment=s, total_segments=3)}
        for s in range(3)
    ]
    assert set().union(*segments) == found and sum(map(len, segments)) == 12
    assert len(list(Thread.scan(Thread.forum == "Scan", limit=5))) == 5


def test_batch_write_and_batch_get(server: SqsServer) -> None:
    with Thread.batch_write() as batch:
        for i in range(40):  # more than one BatchWriteItem of 25
            batch.save(Thread("Batch", f"{i:02}", views=i))
    keys = [("Batch", f"{i:02}") for i in range(0, 40, 2)]
    got = sorted(t.views for t in Thread.batch_get(keys))
    assert got == list(range(0, 40, 2))
    with Thread.batch_write() as batch:
        for forum, subject in keys:
            batch.delete(Thread(forum, subject))
    assert Thread.count("Batch") == 20


def test_delete_with_a_condition(server: SqsServer) -> None:
    thread = Thread("Del", "one", views=2)
    thread.save()
    with pytest.raises(DeleteError):
        thread.delete(condition=Thread.views == 3)
    thread.delete(condition=Thread.views == 2)
    assert Thread.count("Del") == 0


def test_transactions_write_all_or_nothing_and_get(connection: Connection) -> None:
    Thread("Tx", "a", views=1).save()
    with pytest.raises(TransactWriteError) as raised, TransactWrite(connection=connection) as tx:
        tx.save(Thread("Tx", "b", views=1))
        tx.condition_check(Thread, "Tx", "a", condition=Thread.views == 5)
    reasons = [r.code if r else None for r in raised.value.cancellation_reasons]
    assert reasons == ["ConditionalCheckFailed", None]  # PynamoDB sends condition checks first
    with pytest.raises(DoesNotExist):
        Thread.get("Tx", "b")
    with TransactWrite(connection=connection, client_request_token="tok-1") as tx:
        tx.save(Thread("Tx", "b", views=2))
        tx.update(Thread("Tx", "a"), actions=[Thread.views.add(10)])
        tx.delete(Thread("Tx", "gone"))
    with TransactGet(connection=connection) as get:
        a = get.get(Thread, "Tx", "a")
        b = get.get(Thread, "Tx", "b")
    assert (a.get().views, b.get().views) == (11, 2)


def test_versions_guard_concurrent_saves(server: SqsServer) -> None:
    first = Counter("c1")
    first.save()
    second = Counter.get("c1")
    first.total = 1
    first.save()
    second.total = 2
    with pytest.raises(PutError) as raised:
        second.save()
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"
    assert (Counter.get("c1").version, Counter.get("c1").total) == (2, 1)


def test_ttl_attribute_enables_time_to_live(server: SqsServer) -> None:
    # create_table enabled it already; enabling it again is refused, as DynamoDB refuses it.
    with pytest.raises(TableError, match="TimeToLive is already enabled"):
        Counter.update_ttl(ignore_update_ttl_errors=False)
    described = server.client("dynamodb").describe_time_to_live(TableName="PynamoCounter")
    assert described["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    Counter("later", expires=datetime.now(UTC) + timedelta(hours=1)).save()
    assert Counter.get("later").expires is not None
