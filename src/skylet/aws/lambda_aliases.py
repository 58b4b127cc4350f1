"""The control plane's versions and aliases: ListVersionsByFunction, PublishVersion,
ListAliases, GetAlias, CreateAlias, UpdateAlias, DeleteAlias, with Lambda's checks and
messages. The changes themselves go through ``VersionKeeper`` (durable, then in effect).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from skylet.aws import lambda_documents as documents
from skylet.aws.lambda_names import (
    FunctionRef,
    check_alias_name,
    check_version,
    constraint_error,
)
from skylet.aws.lambda_requests import Answer, Request, max_items_of
from skylet.config import FunctionConfig
from skylet.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from skylet.invoker.versions import LATEST, Alias

if TYPE_CHECKING:
    from skylet.aws.lambda_control import LambdaControl

MAX_DESCRIPTION = 256
#: Lambda lets an alias send invocations to one version besides its own.
MAX_ADDITIONAL_VERSIONS = 1


class VersionOperations:
    def __init__(self, control: LambdaControl) -> None:
        self.control = control
        self.table = control.invoker.versions
        self.settings = control.settings

    def _function(self, request: Request, action: str) -> tuple[FunctionRef, FunctionConfig]:
        ref = self.control.ref(request, action)
        return ref, self.control.latest(ref.name)

    # -- versions -------------------------------------------------------------------------

    async def list_versions(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:ListVersionsByFunction")
        entries = [None, *self.table.versions(fn.name)]
        shown, marker = documents.page(entries, request.query.get("Marker"), max_items_of(request))
        listed = [await self.control.configuration(fn, v, qualified=True) for v in shown]
        document: dict[str, Any] = {"Versions": listed}
        if marker is not None:
            document["NextMarker"] = marker
        return 200, document

    async def publish_version(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:PublishVersion")
        body = request.body
        description = _description(body)
        revision = body.get("RevisionId")
        if revision is not None:
            current = (await self.control.configuration(fn, None))["RevisionId"]
            if revision != current:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id"
                )
        sha = body.get("CodeSha256")
        published = await self.control.keeper.publish(
            fn, description, None if sha is None else str(sha)
        )
        return 201, await self.control.configuration(fn, published)

    # -- aliases --------------------------------------------------------------------------

    def _alias(self, fn: FunctionConfig, name: str) -> Alias:
        check_alias_name(name)
        alias = self.table.alias(fn.name, name)
        if alias is None:
            arn = self.settings.function_arn(fn.name, name, region=fn.region)
            raise ResourceNotFound(f"Cannot find alias arn: {arn}")
        return alias

    async def list_aliases(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:ListAliases")
        version = request.query.get("FunctionVersion")
        if version is not None:
            check_version(version)
        aliases = [
            a
            for a in self.table.aliases(fn.name)
            if version is None or a.function_version == version or version in a.weights
        ]
        shown, marker = documents.page(aliases, request.query.get("Marker"), max_items_of(request))
        document: dict[str, Any] = {
            "Aliases": [documents.alias_document(fn, a, self.settings) for a in shown]
        }
        if marker is not None:
            document["NextMarker"] = marker
        return 200, document

    async def get_alias(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:GetAlias")
        alias = self._alias(fn, request.labels["Name"])
        return 200, documents.alias_document(fn, alias, self.settings)

    async def create_alias(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:CreateAlias")
        body = request.body
        name = check_alias_name(_string(body, "Name", required=True))
        if self.table.alias(fn.name, name) is not None:
            arn = self.settings.function_arn(fn.name, name, region=fn.region)
            raise ResourceConflict(f"Alias already exists: {arn}")
        version = self._target(fn, _string(body, "FunctionVersion", required=True))
        alias = Alias(
            name,
            version,
            _description(body),
            self._weights(fn, version, body.get("RoutingConfig")),
            str(uuid.uuid4()),
        )
        await self.control.keeper.put_alias(fn.name, alias)
        return 201, documents.alias_document(fn, alias, self.settings)

    async def update_alias(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:UpdateAlias")
        alias = self._alias(fn, request.labels["Name"])
        body = request.body
        revision = body.get("RevisionId")
        if revision is not None and revision != alias.revision_id:
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        version = alias.function_version
        if body.get("FunctionVersion") is not None:
            version = self._target(fn, _string(body, "FunctionVersion", required=True))
        weights = alias.weights
        if "RoutingConfig" in body:
            weights = self._weights(fn, version, body["RoutingConfig"])
        elif version in weights:
            weights = self._weights(fn, version, {"AdditionalVersionWeights": dict(weights)})
        description = _description(body) if "Description" in body else alias.description
        updated = Alias(alias.name, version, description, weights, str(uuid.uuid4()))
        await self.control.keeper.put_alias(fn.name, updated)
        return 200, documents.alias_document(fn, updated, self.settings)

    async def delete_alias(self, request: Request) -> Answer:
        _, fn = self._function(request, "lambda:DeleteAlias")
        alias = self._alias(fn, request.labels["Name"])
        await self.control.keeper.delete_alias(fn.name, alias.name)
        return 204, None

    def _target(self, fn: FunctionConfig, version: str) -> str:
        """A version an alias may name: ``$LATEST`` or a published one."""
        check_version(version)
        if version != LATEST and self.table.version(fn.name, version) is None:
            arn = self.settings.function_arn(fn.name, version, region=fn.region)
            raise ResourceNotFound(f"Function not found: {arn}")
        return version

    def _weights(self, fn: FunctionConfig, primary: str, routing: Any) -> Mapping[str, float]:
        """RoutingConfig.AdditionalVersionWeights, checked: at most one published version
        other than the alias's own, which must be published too, each weight 0.0-1.0."""
        if routing is None:
            return MappingProxyType({})
        weights = routing.get("AdditionalVersionWeights") if isinstance(routing, dict) else None
        if weights is None:
            return MappingProxyType({})
        if not isinstance(weights, dict):
            raise InvalidParameterValue("AdditionalVersionWeights must be a map of versions")
        if len(weights) > MAX_ADDITIONAL_VERSIONS:
            raise constraint_error(
                "routingConfig.additionalVersionWeights",
                str(weights),
                f"Member must have length less than or equal to {MAX_ADDITIONAL_VERSIONS}",
            )
        checked: dict[str, float] = {}
        for version, weight in weights.items():
            check_version(str(version), "routingConfig.additionalVersionWeights.key")
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or not 0.0 <= weight <= 1.0
            ):
                raise constraint_error(
                    "routingConfig.additionalVersionWeights.value",
                    str(weight),
                    "Member must have value between 0.0 and 1.0",
                )
            if version == LATEST or primary == LATEST:
                raise InvalidParameterValue(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            if version == primary:
                raise InvalidParameterValue(
                    f"Invalid function version {version}. Function version {version} is "
                    "already included in routing configuration."
                )
            self._target(fn, version)
            checked[version] = float(weight)
        return MappingProxyType(checked)


def _string(body: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and required:
        raise constraint_error(key[0].lower() + key[1:], "null", "Member must not be null")
    if value is not None and not isinstance(value, str):
        raise InvalidParameterValue(f"{key} must be a string")
    return value or ""


def _description(body: Mapping[str, Any]) -> str:
    description = _string(body, "Description")
    if len(description) > MAX_DESCRIPTION:
        raise constraint_error(
            "description",
            description,
            f"Member must have length less than or equal to {MAX_DESCRIPTION}",
        )
    return description
