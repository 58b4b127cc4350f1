"""``skylet table ls|get|put|scan|query`` against a real ``skylet up`` (tables as plain text
when piped, and --json), and the banner of ``skylet up`` listing the tables and their streams."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import Server, cli, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: shop
provider:
  name: aws
functions:
  audit:
    handler: stream_handlers.record
    environment: {OUT: audit.jsonl}
    events:
      - stream: {arn: !GetAtt Orders.StreamArn}
resources:
  Resources:
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: Orders
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - {AttributeName: customer, AttributeType: S}
          - {AttributeName: placed, AttributeType: N}
        KeySchema:
          - {AttributeName: customer, KeyType: HASH}
          - {AttributeName: placed, KeyType: RANGE}
        StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
"""

server = module_server("table-cli", MANIFEST, serverless=True)


def table(*args: str, server: Server, input: str | None = None) -> tuple[int, str, str]:
    done = cli("table", *args, "--endpoint-url", server.url, input=input)
    return done.returncode, done.stdout, done.stderr


def test_skylet_up_lists_the_tables_and_their_streams(server: Server) -> None:
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in server.output().splitlines()}
    assert ("table", "keys", "stream", "feeds", "stream arn") in rows
    (orders,) = [r for r in rows if r[0] == "Orders"]
    arn = server.client("dynamodb").describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    assert orders == (
        "Orders",
        "customer (S) / placed (N)",
        "NEW_AND_OLD_IMAGES",
        "shop-dev-audit",
        arn,
    )


def test_put_get_scan_and_query(server: Server) -> None:
    for placed in (1, 2, 3):
        item = json.dumps({"customer": "ann", "placed": placed, "total": placed * 10.5})
        status, out, err = table("put", "Orders", item, server=server)
        assert (status, out.strip()) == (0, "put into Orders"), err
    status, _, err = table(
        "put",
        "Orders",
        "--typed",
        "-",
        server=server,
        input='{"customer": {"S": "bob"}, "placed": {"N": "7"}, "tags": {"SS": ["x"]}}',
    )
    assert status == 0, err
    status, _, err = table(
        "put", "Orders", '{"customer": "bob", "placed": 7}', "--if-absent", server=server
    )
    assert status == 1 and "ConditionalCheckFailedException" in err

    status, out, _ = table(
        "get", "Orders", '{"customer": "ann", "placed": 2}', "--json", server=server
    )
    assert (status, json.loads(out)) == (0, {"customer": "ann", "placed": 2, "total": 21})
    status, out, _ = table(
        "get",
        "Orders",
        '{"customer": {"S": "bob"}, "placed": {"N": "7"}}',
        "--typed",
        "--json",
        server=server,
    )
    assert json.loads(out)["tags"] == {"SS": ["x"]}
    status, out, _ = table("get", "Orders", '{"customer": "ann", "placed": 2}', server=server)
    lines = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]
    assert lines[:2] == [["Orders"], ["attribute", "value"]]
    assert ["total", "21"] in lines
    status, _, err = table("get", "Orders", '{"customer": "zed", "placed": 1}', server=server)
    assert status == 4, err

    status, out, _ = table("scan", "Orders", "--json", server=server)
    assert sorted((i["customer"], i["placed"]) for i in json.loads(out)) == [
        ("ann", 1),
        ("ann", 2),
        ("ann", 3),
        ("bob", 7),
    ]
    status, out, _ = table(
        "scan",
        "Orders",
        "--filter",
        "#t > :t",
        "-N",
        "#t=total",
        "-v",
        ":t=15",
        "--json",
        server=server,
    )
    assert sorted(i["placed"] for i in json.loads(out)) == [2, 3]

    status, out, _ = table(
        "query",
        "Orders",
        "customer = :c AND placed >= :p",
        "-v",
        ":c=ann",
        "-v",
        ":p=2",
        "--reverse",
        server=server,
    )
    assert status == 0
    lines = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]
    assert lines[1] == ["customer", "placed", "total"]
    assert [row[1] for row in lines[2:]] == ["3", "2"]
    assert "\x1b[" not in out  # piped: plain text


def test_ls_and_a_missing_table(server: Server) -> None:
    status, out, _ = table("ls", server=server)
    lines = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]
    assert lines[1] == ["table", "keys", "items", "indexes", "stream"]
    assert lines[2][:2] == ["Orders", "customer / placed"]
    assert lines[2][4] == "NEW_AND_OLD_IMAGES"
    status, out, _ = table("ls", "--json", server=server)
    assert [t["TableName"] for t in json.loads(out)] == ["Orders"]
    status, _, err = table("scan", "Nope", server=server)
    assert status == 4 and "ResourceNotFoundException" in err
    status, _, err = table("put", "Orders", "not json", server=server)
    assert status == 2 and "not JSON" in err
