"""The manifest's DynamoDB side: ``AWS::DynamoDB::Table`` resources as the CreateTable requests
CloudFormation would make, and ``Ref``/``Fn::GetAtt`` on them. Pure.

CloudFormation's properties are CreateTable's, less ``StreamSpecification.StreamEnabled``
(a declared StreamViewType turns the stream on). ``Ref`` gives the table's name,
``Fn::GetAtt`` its ``Arn`` or ``StreamArn`` — the ARNs DescribeTable gives, which the
platform reads after making the tables (a stream's label is the time it was first enabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.errors import ConfigError
from skylet.manifest import Manifest
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import DYNAMODB_TABLE, Resource

#: CreateTable's parameters that CloudFormation's properties carry as they are.
_PASSED = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "TableClass",
    "Tags",
    "DeletionProtectionEnabled",
)
#: Properties accepted and not emulated (backups, encryption, insights, Kinesis copies).
_IGNORED = frozenset(
    {
        "PointInTimeRecoverySpecification",
        "SSESpecification",
        "ContributorInsightsSpecification",
        "KinesisStreamSpecification",
        "ImportSourceSpecification",
        "ResourcePolicy",
        "OnDemandThroughput",
        "WarmThroughput",
        "TableName",
        "StreamSpecification",
        "TimeToLiveSpecification",
    }
)
_NUMBERS = frozenset({"ReadCapacityUnits", "WriteCapacityUnits"})


@dataclass(frozen=True, slots=True)
class DeclaredTable:
    """One declared table: the CreateTable request that makes it, and its TTL setting."""

    logical_id: str
    name: str
    request: Params
    time_to_live: Params | None = None


def table_resources(manifest: Manifest) -> dict[str, Resource]:
    return {k: r for k, r in manifest.resources.items() if r.type == DYNAMODB_TABLE}


def declared_tables(manifest: Manifest) -> list[DeclaredTable]:
    """Every declared table; ConfigError naming the key for a property CreateTable lacks."""
    found = []
    for logical_id, resource in table_resources(manifest).items():
        where = f"{manifest.source}: resources.{logical_id}.Properties"
        properties = resource.properties
        for key in properties:
            if key not in _PASSED and key not in _IGNORED:
                raise ConfigError(f"{where}.{key}: not a property of {DYNAMODB_TABLE}")
        name = resource.name_in(manifest.service, manifest.stage)
        request: Params = {"TableName": name}
        for key in _PASSED:
            if key in properties:
                request[key] = _plain(properties[key], f"{where}.{key}")
        for key in ("AttributeDefinitions", "KeySchema"):
            if key not in request:
                raise ConfigError(f"{where}.{key}: required for {DYNAMODB_TABLE}")
        view = resource.stream_view_type
        if view is not None:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        ttl = properties.get("TimeToLiveSpecification")
        found.append(
            DeclaredTable(
                logical_id,
                name,
                request,
                _plain(ttl, f"{where}.TimeToLiveSpecification") if ttl is not None else None,
            )
        )
    return found


def resolve(
    manifest: Manifest, descriptions: Mapping[str, Params], value: Any, *, arn: Any
) -> str | None:
    """What ``Ref``/``Fn::GetAtt`` of a declared table gives: its name, ``Arn`` or
    ``StreamArn`` from ``descriptions`` (by table name, DescribeTable's ``Table``); without a
    description (no store), the ARN ``arn(name)`` computes. None for anything else."""
    if not isinstance(value, Intrinsic) or value.logical_id is None:
        return None
    resource = table_resources(manifest).get(value.logical_id)
    if resource is None:
        return None
    name = resource.name_in(manifest.service, manifest.stage)
    if value.fn == "Ref":
        return name
    described = descriptions.get(name) or {}
    if value.attribute == "Arn":
        found = described.get("TableArn")
        return str(found) if found else str(arn(name))
    if value.attribute == "StreamArn":
        stream = described.get("LatestStreamArn")
        return str(stream) if stream else None
    return None


def _plain(value: Any, where: str) -> Any:
    """Frozen manifest data as CreateTable's plain values (numbers as ints)."""
    if isinstance(value, Intrinsic):
        raise ConfigError(f"{where}: {value} cannot be resolved here (allowed: plain values)")
    if isinstance(value, Mapping):
        return {str(k): _number(str(k), _plain(v, where)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    return value


def _number(key: str, value: Any) -> Any:
    """CloudFormation takes ``ReadCapacityUnits: "5"``; CreateTable wants 5."""
    if key in _NUMBERS and isinstance(value, str) and value.isdigit():
        return int(value)
    return value
