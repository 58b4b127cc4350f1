"""``AWS::DynamoDB::Table`` resources with stock boto3 against a real platform: made at start
as CloudFormation makes them (``${self:custom.tableName}``, keys, indexes, billing, stream),
kept with their items across restarts, and ``Ref``/``Fn::GetAtt`` resolved to what
DescribeTable says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.sqs import served
from tests.aws.sqs.served import SqsServer

pytestmark = pytest.mark.e2e

MANIFEST = """
service: shop
provider:
  name: aws
custom:
  tableName: orders-${sls:stage}
functions:
  echo:
    handler: handlers.echo
    environment:
      TABLE: !Ref Orders
      TABLE_ARN: !GetAtt Orders.Arn
      STREAM_ARN: !GetAtt Orders.StreamArn
      PLAIN: !Ref Plain
resources:
  Resources:
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: ${self:custom.tableName}
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - {AttributeName: pk, AttributeType: S}
          - {AttributeName: sk, AttributeType: S}
          - {AttributeName: status, AttributeType: S}
          - {AttributeName: total, AttributeType: N}
        KeySchema:
          - {AttributeName: pk, KeyType: HASH}
          - {AttributeName: sk, KeyType: RANGE}
        GlobalSecondaryIndexes:
          - IndexName: byStatus
            KeySchema: [{AttributeName: status, KeyType: HASH}]
            Projection: {ProjectionType: KEYS_ONLY}
        LocalSecondaryIndexes:
          - IndexName: byTotal
            KeySchema:
              - {AttributeName: pk, KeyType: HASH}
              - {AttributeName: total, KeyType: RANGE}
            Projection: {ProjectionType: ALL}
        StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
    Plain:
      Type: AWS::DynamoDB::Table
      Properties:
        BillingMode: PROVISIONED
        ProvisionedThroughput: {ReadCapacityUnits: "5", WriteCapacityUnits: 5}
        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
        KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return served.project(tmp_path_factory.mktemp("ddb-manifest"), MANIFEST, "serverless.yml")


@pytest.fixture(scope="module")
def server(directory: Path) -> Iterator[SqsServer]:
    running = served.start(directory)
    yield running
    served.stop(running)


def environment(server: SqsServer) -> dict[str, str]:
    answer = server.client("lambda").invoke(FunctionName="echo", Payload=b"{}")
    return dict(json.loads(answer["Payload"].read())["env"])


def test_declared_tables_exist_as_cloudformation_makes_them(server: SqsServer) -> None:
    ddb = server.client("dynamodb")
    names = ddb.list_tables()["TableNames"]
    assert {"orders-dev", "shop-dev-Plain"} <= set(names)
    table = ddb.describe_table(TableName="orders-dev")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "byStatus"
    assert table["LocalSecondaryIndexes"][0]["IndexName"] == "byTotal"
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    plain = ddb.describe_table(TableName="shop-dev-Plain")["Table"]
    assert plain["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert "StreamSpecification" not in plain


def test_ref_and_getatt_resolve_to_what_describe_table_says(server: SqsServer) -> None:
    table = server.client("dynamodb").describe_table(TableName="orders-dev")["Table"]
    env = environment(server)
    assert env["TABLE"] == "orders-dev"
    assert env["TABLE_ARN"] == table["TableArn"]
    assert env["STREAM_ARN"] == table["LatestStreamArn"]
    assert env["PLAIN"] == "shop-dev-Plain"


def test_a_declared_table_keeps_its_items_and_stream_across_restarts(
    server: SqsServer, directory: Path
) -> None:
    ddb = server.client("dynamodb")
    ddb.put_item(
        TableName="orders-dev",
        Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "status": {"S": "new"}, "total": {"N": "3"}},
    )
    arn = ddb.describe_table(TableName="orders-dev")["Table"]["LatestStreamArn"]
    again = served.restart(server)
    try:
        ddb = again.client("dynamodb")
        item = ddb.get_item(TableName="orders-dev", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
        assert item["Item"]["status"] == {"S": "new"}
        assert ddb.describe_table(TableName="orders-dev")["Table"]["LatestStreamArn"] == arn
        assert environment(again)["STREAM_ARN"] == arn
    finally:
        server.proc = again.proc


def test_a_table_resource_loads_without_a_not_run_warning(server: SqsServer) -> None:
    assert "AWS::DynamoDB::Table resources are recognised" not in server.output()
