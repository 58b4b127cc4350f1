"""DynamoDB Streams with stock boto3 against a real platform: ListStreams, DescribeStream,
GetShardIterator of every type and GetRecords over the records table writes leave."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("dynamodb-streams")


@pytest.fixture(scope="module")
def ddb(server: SqsServer) -> Any:
    return server.client("dynamodb")


@pytest.fixture(scope="module")
def streams(server: SqsServer) -> Any:
    return server.client("dynamodbstreams")


@pytest.fixture(scope="module")
def arn(ddb: Any) -> str:
    table = ddb.create_table(
        TableName="Music",
        AttributeDefinitions=[
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "Song", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "Artist", "KeyType": "HASH"},
            {"AttributeName": "Song", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    key = {"Artist": {"S": "Acme"}, "Song": {"S": "Hi"}}
    ddb.put_item(TableName="Music", Item={**key, "Plays": {"N": "1"}, "Art": {"B": b"\x00\xff"}})
    ddb.update_item(
        TableName="Music",
        Key=key,
        UpdateExpression="SET Plays = Plays + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    ddb.delete_item(TableName="Music", Key=key)
    return str(table["LatestStreamArn"])


def shard(streams: Any, arn: str) -> str:
    (only,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return str(only["ShardId"])


def read(streams: Any, arn: str, kind: str, **extra: Any) -> list[dict[str, Any]]:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard(streams, arn), ShardIteratorType=kind, **extra
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_list_streams_names_the_table_and_its_label(streams: Any, arn: str) -> None:
    listed = streams.list_streams(TableName="Music")["Streams"]
    assert listed == [
        {"StreamArn": arn, "TableName": "Music", "StreamLabel": arn.rsplit("/", 1)[-1]}
    ]
    assert streams.list_streams(TableName="Other")["Streams"] == []


def test_describe_stream_gives_one_open_shard(streams: Any, arn: str) -> None:
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert described["StreamStatus"] == "ENABLED"
    assert described["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert described["TableName"] == "Music"
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["Artist", "Song"]
    (only,) = described["Shards"]
    assert only["ShardId"].startswith("shardId-")
    assert "EndingSequenceNumber" not in only["SequenceNumberRange"]


def test_trim_horizon_reads_insert_modify_remove_with_their_images(streams: Any, arn: str) -> None:
    records = read(streams, arn, "TRIM_HORIZON")
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["NewImage"]["Art"] == {"B": b"\x00\xff"}
    assert "OldImage" not in insert
    assert (modify["OldImage"]["Plays"], modify["NewImage"]["Plays"]) == ({"N": "1"}, {"N": "2"})
    assert remove["OldImage"]["Plays"] == {"N": "2"} and "NewImage" not in remove
    assert remove["Keys"] == {"Artist": {"S": "Acme"}, "Song": {"S": "Hi"}}
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(r["eventSource"] == "aws:dynamodb" and r["awsRegion"] for r in records)


def test_at_and_after_sequence_number_start_at_and_after_that_record(
    streams: Any, arn: str
) -> None:
    numbers = [r["dynamodb"]["SequenceNumber"] for r in read(streams, arn, "TRIM_HORIZON")]
    at = read(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=numbers[1])
    after = read(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == numbers[1:]
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == numbers[2:]


def test_latest_reads_only_what_is_written_after_it(ddb: Any, streams: Any, arn: str) -> None:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard(streams, arn), ShardIteratorType="LATEST"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert page["Records"] == []
    ddb.put_item(TableName="Music", Item={"Artist": {"S": "New"}, "Song": {"S": "One"}})
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["dynamodb"]["Keys"]["Artist"] for r in page["Records"]] == [{"S": "New"}]
    again = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert again["Records"] == [] and again["NextShardIterator"]


def test_unknown_streams_and_bad_iterators_are_refused_in_the_api_format(
    streams: Any, arn: str
) -> None:
    missing = arn.replace("table/Music", "table/Nope")
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=missing)
    with pytest.raises(ClientError) as raised:
        streams.get_records(ShardIterator="not-an-iterator")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="TRIM_HORIZON",
        )
