"""DynamoDB with stock boto3 (client and resource) against a real platform on a real socket:
tables, items with conditions and ReturnValues, queries and scans on tables and indexes,
batches, transactions, and the stream record every write leaves in the same commit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("dynamodb-tables")


@pytest.fixture(scope="module")
def ddb(server: SqsServer) -> Any:
    return server.client("dynamodb")


@pytest.fixture(scope="module")
def resource(server: SqsServer) -> Any:
    return boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def forum(ddb: Any) -> str:
    ddb.create_table(
        TableName="Thread",
        AttributeDefinitions=[
            {"AttributeName": "ForumName", "AttributeType": "S"},
            {"AttributeName": "Subject", "AttributeType": "S"},
            {"AttributeName": "Author", "AttributeType": "S"},
            {"AttributeName": "Views", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "ForumName", "KeyType": "HASH"},
            {"AttributeName": "Subject", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByAuthor",
                "KeySchema": [
                    {"AttributeName": "Author", "KeyType": "HASH"},
                    {"AttributeName": "Views", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.get_waiter("table_exists").wait(TableName="Thread")
    return "Thread"


def code(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_describe_and_list_tables(ddb: Any, forum: str) -> None:
    table = ddb.describe_table(TableName=forum)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/Thread"
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "ByAuthor"
    assert forum in ddb.list_tables()["TableNames"]
    with pytest.raises(ddb.exceptions.ResourceInUseException):
        ddb.create_table(
            TableName=forum,
            AttributeDefinitions=[{"AttributeName": "ForumName", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "ForumName", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="Nope")


def test_items_with_conditions_and_return_values(resource: Any, forum: str) -> None:
    table = resource.Table(forum)
    table.put_item(Item={"ForumName": "S3", "Subject": "a", "Author": "ann", "Views": 3})
    with pytest.raises(ClientError) as raised:
        table.put_item(
            Item={"ForumName": "S3", "Subject": "a"},
            ConditionExpression=Attr("ForumName").not_exists(),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert code(raised) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert raised.value.response["Item"]["Author"] == {"S": "ann"}
    updated = table.update_item(
        Key={"ForumName": "S3", "Subject": "a"},
        UpdateExpression="SET #v = #v + :one, Tags = list_append(if_not_exists(Tags, :e), :t)",
        ExpressionAttributeNames={"#v": "Views"},
        ExpressionAttributeValues={":one": 1, ":e": [], ":t": ["x"]},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"Views": Decimal(4), "Tags": ["x"]}
    old = table.delete_item(Key={"ForumName": "S3", "Subject": "a"}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["Views"] == Decimal(4)
    assert "Item" not in table.get_item(Key={"ForumName": "S3", "Subject": "a"})


def test_validation_errors_in_dynamodbs_words(ddb: Any, forum: str) -> None:
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName=forum, Item={"ForumName": {"S": "x"}})
    assert code(raised) == (
        "ValidationException",
        "One or more parameter values were invalid: Missing the key Subject in the item",
    )
    with pytest.raises(ClientError) as raised:
        ddb.get_item(
            TableName=forum,
            Key={"ForumName": {"S": "x"}, "Subject": {"S": "y"}},
            ProjectionExpression="a, #b",
        )
    assert code(raised)[0] == "ValidationException"


def test_query_reads_one_partition_in_order_and_pages(resource: Any, forum: str) -> None:
    table = resource.Table(forum)
    with table.batch_writer() as batch:
        for i in range(30):
            batch.put_item(
                Item={"ForumName": "Q", "Subject": f"s{i:02}", "Author": "bob", "Views": i}
            )
        batch.put_item(Item={"ForumName": "Other", "Subject": "s05", "Author": "bob", "Views": 1})
    first = table.query(
        KeyConditionExpression=Key("ForumName").eq("Q") & Key("Subject").begins_with("s1"), Limit=4
    )
    assert [i["Subject"] for i in first["Items"]] == ["s10", "s11", "s12", "s13"]
    rest = table.query(
        KeyConditionExpression=Key("ForumName").eq("Q") & Key("Subject").begins_with("s1"),
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert [i["Subject"] for i in rest["Items"]] == [f"s{i}" for i in range(14, 20)]
    backwards = table.query(
        KeyConditionExpression=Key("ForumName").eq("Q") & Key("Subject").between("s03", "s05"),
        ScanIndexForward=False,
    )
    assert [i["Subject"] for i in backwards["Items"]] == ["s05", "s04", "s03"]
    counted = table.query(
        KeyConditionExpression=Key("ForumName").eq("Q"),
        FilterExpression=Attr("Views").gte(25),
        Select="COUNT",
    )
    assert (counted["Count"], counted["ScannedCount"]) == (5, 30)
    by_author = table.query(
        IndexName="ByAuthor", KeyConditionExpression=Key("Author").eq("bob") & Key("Views").lt(2)
    )
    assert sorted((i["ForumName"], i["Views"]) for i in by_author["Items"]) == [
        ("Other", 1),
        ("Q", 0),
        ("Q", 1),
    ]
    assert set(by_author["Items"][0]) == {"ForumName", "Subject", "Author", "Views"}


def test_scan_segments_cover_the_table(ddb: Any, forum: str) -> None:
    seen: list[tuple[str, str]] = []
    for segment in range(3):
        for page in ddb.get_paginator("scan").paginate(
            TableName=forum, Segment=segment, TotalSegments=3, Limit=7
        ):
            seen.extend((i["ForumName"]["S"], i["Subject"]["S"]) for i in page["Items"])
    assert len(seen) == len(set(seen)) == ddb.scan(TableName=forum, Select="COUNT")["Count"]


def test_transactions_are_all_or_nothing(ddb: Any, forum: str) -> None:
    item = {"ForumName": {"S": "T"}, "Subject": {"S": "one"}}
    ddb.put_item(TableName=forum, Item=item)
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": forum,
                        "Item": {"ForumName": {"S": "T"}, "Subject": {"S": "two"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": forum,
                        "Key": item,
                        "ConditionExpression": "attribute_not_exists(ForumName)",
                    }
                },
            ]
        )
    assert code(raised)[0] == "TransactionCanceledException"
    reasons = raised.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(
        TableName=forum, Key={"ForumName": {"S": "T"}, "Subject": {"S": "two"}}
    )
    for _ in range(2):  # the same token twice writes once
        ddb.transact_write_items(
            ClientRequestToken="tok-1",
            TransactItems=[
                {
                    "Update": {
                        "TableName": forum,
                        "Key": item,
                        "UpdateExpression": "ADD N :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ],
        )
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": forum, "Key": item}}])
    assert got["Responses"][0]["Item"]["N"] == {"N": "1"}


def test_binary_and_number_values_round_trip(ddb: Any) -> None:
    ddb.create_table(
        TableName="Bin",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "B"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "k", "KeyType": "HASH"},
            {"AttributeName": "n", "KeyType": "RANGE"},
        ],
    )
    for n in ["-10", "-1.5", "0", "2", "10.25", "1E+3"]:
        ddb.put_item(
            TableName="Bin",
            Item={"k": {"B": b"\x00\xff"}, "n": {"N": n}, "bs": {"BS": [b"\x01", b"\x02"]}},
        )
    items = ddb.query(
        TableName="Bin",
        KeyConditionExpression="k = :k AND n > :z",
        ExpressionAttributeValues={":k": {"B": b"\x00\xff"}, ":z": {"N": "-2"}},
    )
    assert [i["n"]["N"] for i in items["Items"]] == ["-1.5", "0", "2", "10.25", "1000"]
    assert items["Items"][0]["bs"] == {"BS": [b"\x01", b"\x02"]}


def test_the_legacy_parameters_work_through_boto3(ddb: Any, forum: str) -> None:
    key = {"ForumName": {"S": "Legacy"}, "Subject": {"S": "one"}}
    ddb.put_item(
        TableName=forum,
        Item={**key, "Views": {"N": "1"}, "Author": {"S": "ann"}},
        Expected={"ForumName": {"Exists": False}},
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=forum, Item=key, Expected={"ForumName": {"Exists": False}})
    updated = ddb.update_item(
        TableName=forum,
        Key=key,
        AttributeUpdates={
            "Views": {"Action": "ADD", "Value": {"N": "4"}},
            "Tags": {"Action": "PUT", "Value": {"SS": ["a"]}},
        },
        Expected={"Views": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "2"}]}},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"Views": {"N": "5"}, "Tags": {"SS": ["a"]}}
    for i in range(2, 6):
        ddb.put_item(
            TableName=forum,
            Item={"ForumName": {"S": "Legacy"}, "Subject": {"S": f"s{i}"}, "Views": {"N": str(i)}},
        )
    queried = ddb.query(
        TableName=forum,
        KeyConditions={
            "ForumName": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "Legacy"}]},
            "Subject": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "s"}]},
        },
        QueryFilter={"Views": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "4"}]}},
        AttributesToGet=["Subject"],
    )
    assert queried["Items"] == [{"Subject": {"S": "s4"}}, {"Subject": {"S": "s5"}}]
    assert queried["ScannedCount"] == 4
    scanned = ddb.scan(
        TableName=forum,
        ScanFilter={
            "ForumName": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "Legacy"}]},
            "Views": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "2"}, {"N": "5"}]},
        },
        ConditionalOperator="AND",
    )
    assert sorted(i["Subject"]["S"] for i in scanned["Items"]) == ["one", "s2", "s5"]
    got = ddb.get_item(TableName=forum, Key=key, AttributesToGet=["Author", "Views"])
    assert got["Item"] == {"Author": {"S": "ann"}, "Views": {"N": "5"}}
    with pytest.raises(ClientError) as raised:
        ddb.delete_item(
            TableName=forum,
            Key=key,
            Expected={"Views": {"Value": {"N": "5"}}},
            ConditionExpression="attribute_exists(Views)",
        )
    assert code(raised) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
    )
    ddb.delete_item(TableName=forum, Key=key, Expected={"Views": {"Value": {"N": "5"}}})
    assert "Item" not in ddb.get_item(TableName=forum, Key=key)


def test_partiql_statements_read_and_write_items(ddb: Any, forum: str) -> None:
    run = ddb.execute_statement
    run(
        Statement=f"INSERT INTO \"{forum}\" VALUE {{'ForumName': ?, 'Subject': ?, 'Views': 1}}",
        Parameters=[{"S": "PQ"}, {"S": "a"}],
    )
    for subject in ("b", "c", "d"):
        run(
            Statement=f"INSERT INTO {forum} VALUE {{'ForumName': 'PQ', 'Subject': ?, "
            "'Tags': <<'x', 'y'>>, 'Views': -2}",
            Parameters=[{"S": subject}],
        )
    with pytest.raises(ClientError) as raised:
        run(Statement=f"INSERT INTO {forum} VALUE {{'ForumName': 'PQ', 'Subject': 'a'}}")
    assert code(raised) == ("DuplicateItemException", "Duplicate primary key exists in table")
    found = run(
        Statement=f'SELECT Subject, "Views" FROM "{forum}" WHERE ForumName = ? AND Subject '
        "BETWEEN 'b' AND 'c'",
        Parameters=[{"S": "PQ"}],
    )
    assert found["Items"] == [
        {"Subject": {"S": "b"}, "Views": {"N": "-2"}},
        {"Subject": {"S": "c"}, "Views": {"N": "-2"}},
    ]
    filtered = run(
        Statement=f"SELECT * FROM {forum} WHERE ForumName = 'PQ' AND Views < ?",
        Parameters=[{"N": "0"}],
    )
    assert [i["Subject"]["S"] for i in filtered["Items"]] == ["b", "c", "d"]
    assert filtered["Items"][0]["Tags"] == {"SS": ["x", "y"]}
    first = run(Statement=f"SELECT * FROM {forum} WHERE ForumName = 'PQ'", Limit=2)
    rest = run(
        Statement=f"SELECT * FROM {forum} WHERE ForumName = 'PQ'", NextToken=first["NextToken"]
    )
    assert [i["Subject"]["S"] for i in first["Items"] + rest["Items"]] == ["a", "b", "c", "d"]
    scanned = run(Statement=f"SELECT Subject FROM {forum} WHERE Views = 1 AND ForumName = 'PQ'")
    assert scanned["Items"] == [{"Subject": {"S": "a"}}]
    anywhere = run(Statement=f"SELECT Subject FROM {forum} WHERE Views = -2 OR Subject = 'zz'")
    assert len(anywhere["Items"]) >= 3
    run(
        Statement=f"UPDATE {forum} SET Views = Views + ?, Author = 'ann' REMOVE Tags "
        "WHERE ForumName = 'PQ' AND Subject = 'b'",
        Parameters=[{"N": "10"}],
    )
    item = ddb.get_item(TableName=forum, Key={"ForumName": {"S": "PQ"}, "Subject": {"S": "b"}})
    assert item["Item"] == {
        "ForumName": {"S": "PQ"},
        "Subject": {"S": "b"},
        "Views": {"N": "8"},
        "Author": {"S": "ann"},
    }
    with pytest.raises(ClientError) as raised:
        run(Statement=f"UPDATE {forum} SET Views = 0 WHERE ForumName = 'PQ' AND Subject = 'zz'")
    assert code(raised)[0] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as raised:
        run(Statement=f"DELETE FROM {forum} WHERE ForumName = 'PQ' AND Subject = 'c' AND Views > 5")
    assert code(raised)[0] == "ConditionalCheckFailedException"
    run(Statement=f"DELETE FROM {forum} WHERE ForumName = 'PQ' AND Subject = 'c'")
    left = run(Statement=f"SELECT Subject FROM {forum} WHERE ForumName = 'PQ'")
    assert [i["Subject"]["S"] for i in left["Items"]] == ["a", "b", "d"]
    for statement in (
        f"SELEC * FROM {forum}",
        f"SELECT * FROM {forum} WHERE",
        f"SELECT * FROM {forum} WHERE ForumName = ?",  # a parameter missing
        f"DELETE FROM {forum} WHERE ForumName = 'PQ'",  # not the whole key
    ):
        with pytest.raises(ClientError) as raised:
            run(Statement=statement)
        assert code(raised)[0] == "ValidationException", statement
