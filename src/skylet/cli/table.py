"""``skylet table ls|get|put|scan|query``: DynamoDB tables from the command line, through
boto3's DynamoDB client (so it talks to any DynamoDB, skylet's by default).

Items are written and shown as plain JSON (``{"id": "a", "n": 5}``), as boto3's resource API
has them; ``--typed`` takes and prints DynamoDB's typed JSON (``{"id": {"S": "a"}}``) instead.
Exit status: 4 for a table that does not exist, 5 when the server cannot be reached, 1 for
any other refusal (cli/exits.py).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import click

from skylet.cli.common import endpoint as endpoint_of
from skylet.cli.common import endpoint_option, unreachable
from skylet.cli.exits import Exit, Status
from skylet.cli.output import Output

_endpoint = endpoint_option("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "SKYLET_ENDPOINT")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_typed = click.option(
    "--typed", is_flag=True, help='Items in DynamoDB\'s typed JSON ({"S": …}), in and out.'
)


def _client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2}, read_timeout=30),
    )


@contextlib.contextmanager
def _failures(url: str) -> Iterator[None]:
    """DynamoDB's refusals as the command's exit status."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        yield
    except EndpointConnectionError as error:
        raise unreachable(url, error) from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = Status.NOT_FOUND if code == "ResourceNotFoundException" else Status.FAILED
        message = error.response.get("Error", {}).get("Message", str(error))
        raise Exit(f"{code}: {message}", status) from error
    except BotoCoreError as error:
        raise Exit(str(error), Status.FAILED) from error


def _parse(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint=what) from None


def _to_wire(value: dict[str, Any], typed: bool, what: str) -> dict[str, Any]:
    """An item or key as the client sends it: typed JSON as given, plain JSON serialized."""
    from boto3.dynamodb.types import TypeSerializer

    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=what)
    if typed:
        wire: dict[str, Any] = _typed_numbers(value)
        return wire
    serializer = TypeSerializer()
    try:
        return {k: serializer.serialize(v) for k, v in value.items()}
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint=what) from None


def _typed_numbers(value: Any) -> Any:
    # Typed JSON read with Decimal numbers: "N" values stay text, as the wire has them.
    if isinstance(value, dict):
        return {k: _typed_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_numbers(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_wire(item: dict[str, Any], typed: bool) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    if typed:
        return item
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=_plain, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):  # DescribeTable's times
        return value.isoformat()
    if hasattr(value, "value"):  # boto3's Binary
        return _plain(value.value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_plain, ensure_ascii=False)


def _values(pairs: tuple[str, ...], typed: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name.startswith(":"):
            raise click.BadParameter(f"{pair!r} is not :NAME=VALUE", param_hint="--value")
        try:
            given = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        except ValueError:
            given = text  # a bare word is a string
        if typed:
            values[name] = _typed_numbers(given)
        else:
            values.update(_to_wire({name: given}, False, "--value"))
    return values


def _names(pairs: tuple[str, ...]) -> dict[str, str]:
    names = {}
    for pair in pairs:
        placeholder, equals, name = pair.partition("=")
        if not equals or not placeholder.startswith("#") or not name:
            raise click.BadParameter(f"{pair!r} is not #NAME=ATTRIBUTE", param_hint="--name")
        names[placeholder] = name
    return names


_names_option = click.option(
    "-N",
    "--name",
    "names",
    multiple=True,
    metavar="#NAME=ATTRIBUTE",
    help="An ExpressionAttributeNames entry, for reserved words (repeat for more).",
)
_values_option = click.option(
    "-v",
    "--value",
    "values",
    multiple=True,
    metavar=":NAME=VALUE",
    help="An ExpressionAttributeValues entry: JSON, or a bare string (repeat for more).",
)


def _show_items(
    out: Output, title: str, items: list[dict[str, Any]], keys: list[str], as_json: bool
) -> None:
    if as_json:
        out.line(_dumps(items))
        return
    names = list(keys)
    for item in items:
        names.extend(n for n in sorted(item) if n not in names)
    out.table(title, names, [[_cell(i[n]) if n in i else "" for n in names] for i in items])


def _key_names(ddb: Any, name: str) -> list[str]:
    schema = ddb.describe_table(TableName=name)["Table"]["KeySchema"]
    return [k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"])]


@click.group()
def table() -> None:
    """DynamoDB tables: list them, get, put, scan, query."""


@table.command("ls")
@_json
@_endpoint
def ls(as_json: bool, endpoint: str | None) -> None:
    """List the tables with their keys, item counts and streams."""
    out, url = Output(), endpoint_of(endpoint)
    ddb = _client(url)
    with _failures(url):
        described = []
        for page in ddb.get_paginator("list_tables").paginate():
            for name in page.get("TableNames", []):
                described.append(ddb.describe_table(TableName=name)["Table"])
    if as_json:
        out.line(_dumps(described))
        return
    rows = []
    for t in described:
        keys = " / ".join(
            k["AttributeName"] for k in sorted(t["KeySchema"], key=lambda k: k["KeyType"])
        )
        stream = t.get("StreamSpecification") or {}
        view = stream.get("StreamViewType", "-") if stream.get("StreamEnabled") else "-"
        indexes = ", ".join(
            i["IndexName"]
            for i in [*t.get("GlobalSecondaryIndexes", []), *t.get("LocalSecondaryIndexes", [])]
        )
        rows.append([t["TableName"], keys, str(t.get("ItemCount", 0)), indexes or "-", view])
    out.table("tables", ["table", "keys", "items", "indexes", "stream"], rows)


@table.command("get")
@click.argument("name")
@click.argument("key")
@_typed
@_json
@_endpoint
def get(name: str, key: str, typed: bool, as_json: bool, endpoint: str | None) -> None:
    """Print the item of table NAME whose key is KEY (a JSON object)."""
    out, url = Output(), endpoint_of(endpoint)
    ddb = _client(url)
    wire_key = _to_wire(_parse(key, "KEY"), typed, "KEY")
    with _failures(url):
        found = ddb.get_item(TableName=name, Key=wire_key, ConsistentRead=True).get("Item")
    if found is None:
        raise Exit(f"no item with key {key} in {name}", Status.NOT_FOUND)
    item = _from_wire(found, typed)
    if as_json:
        out.line(_dumps(item))
        return
    out.table(name, ["attribute", "value"], [[k, _cell(v)] for k, v in sorted(item.items())])


@table.command("put")
@click.argument("name")
@click.argument("item", required=False)
@click.option("--if-absent", is_flag=True, help="Only when no item with its key exists.")
@_typed
@_endpoint
def put(name: str, item: str | None, if_absent: bool, typed: bool, endpoint: str | None) -> None:
    """Write ITEM (a JSON object; standard input without it or with -) to table NAME."""
    out, url = Output(), endpoint_of(endpoint)
    text = sys.stdin.read() if item in (None, "-") else item
    wire = _to_wire(_parse(text, "ITEM"), typed, "ITEM")
    ddb = _client(url)
    request: dict[str, Any] = {"TableName": name, "Item": wire}
    with _failures(url):
        if if_absent:
            first = _key_names(ddb, name)[0]
            request["ConditionExpression"] = "attribute_not_exists(#k)"
            request["ExpressionAttributeNames"] = {"#k": first}
        ddb.put_item(**request)
    out.line(f"put into {name}")


def _read_pages(ddb: Any, operation: str, request: dict[str, Any], limit: int | None) -> list[Any]:
    items: list[Any] = []
    paginator = ddb.get_paginator(operation)
    for page in paginator.paginate(**request):
        items.extend(page.get("Items", []))
        if limit is not None and len(items) >= limit:
            return items[:limit]
    return items


@table.command("scan")
@click.argument("name")
@click.option("--filter", "filter_expression", help="A FilterExpression.")
@_values_option
@_names_option
@click.option("--index", help="Scan this index instead of the table.")
@click.option("-n", "--limit", type=click.IntRange(1), help="At most this many items.")
@_typed
@_json
@_endpoint
def scan(
    name: str,
    filter_expression: str | None,
    values: tuple[str, ...],
    names: tuple[str, ...],
    index: str | None,
    limit: int | None,
    typed: bool,
    as_json: bool,
    endpoint: str | None,
) -> None:
    """Print the items of table NAME (those --filter keeps)."""
    out, url = Output(), endpoint_of(endpoint)
    ddb = _client(url)
    request: dict[str, Any] = {"TableName": name}
    if filter_expression:
        request["FilterExpression"] = filter_expression
    if values:
        request["ExpressionAttributeValues"] = _values(values, typed)
    if names:
        request["ExpressionAttributeNames"] = _names(names)
    if index:
        request["IndexName"] = index
    with _failures(url):
        keys = _key_names(ddb, name)
        items = _read_pages(ddb, "scan", request, limit)
    _show_items(out, name, [_from_wire(i, typed) for i in items], keys, as_json)


@table.command("query")
@click.argument("name")
@click.argument("condition")
@_values_option
@_names_option
@click.option("--filter", "filter_expression", help="A FilterExpression.")
@click.option("--index", help="Query this index instead of the table.")
@click.option("--reverse", is_flag=True, help="Highest sort key first.")
@click.option("-n", "--limit", type=click.IntRange(1), help="At most this many items.")
@_typed
@_json
@_endpoint
def query(
    name: str,
    condition: str,
    values: tuple[str, ...],
    names: tuple[str, ...],
    filter_expression: str | None,
    index: str | None,
    reverse: bool,
    limit: int | None,
    typed: bool,
    as_json: bool,
    endpoint: str | None,
) -> None:
    """Print the items of table NAME whose key matches CONDITION (a KeyConditionExpression,
    its values given with -v :NAME=VALUE, JSON or a bare string)."""
    out, url = Output(), endpoint_of(endpoint)
    ddb = _client(url)
    request: dict[str, Any] = {
        "TableName": name,
        "KeyConditionExpression": condition,
        "ScanIndexForward": not reverse,
    }
    if values:
        request["ExpressionAttributeValues"] = _values(values, typed)
    if names:
        request["ExpressionAttributeNames"] = _names(names)
    if filter_expression:
        request["FilterExpression"] = filter_expression
    if index:
        request["IndexName"] = index
    with _failures(url):
        keys = _key_names(ddb, name)
        items = _read_pages(ddb, "query", request, limit)
    _show_items(out, name, [_from_wire(i, typed) for i in items], keys, as_json)
