"""botocore's service models, the data boto3 itself uses, loaded once per service.

``ServiceModels`` is made by the composition root (no module-level cache): ``load(name)``
reads the model from botocore's data (about 5-40 ms, once), applies a service's overlay (the
query traits a model dropped when its service moved to another protocol, say) and indexes its
operations: by wire name, and, for the rest protocols, by ``requestUri`` template.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader, create_loader
from botocore.model import OperationModel, ServiceModel

from skylet.aws.protocols.routes import Match, Route, compile_route, match

#: An overlay: ``{"metadata": {…}, "shapes": {Shape: {trait: …, "members": {M: {…}}}}}``,
#: merged into the model's description (dicts merge, anything else replaces).
Overlay = Mapping[str, Any]

#: The protocols skylet has a codec for.
PROTOCOLS = ("json", "query", "rest-json", "rest-xml", "smithy-rpc-v2-cbor")


@dataclass(frozen=True)
class Loaded:
    """One service's model and its operation indexes."""

    model: ServiceModel
    #: The protocols the service speaks, the model's preferred first.
    protocols: tuple[str, ...]
    #: Wire name (``Action``, the target's operation, the cbor path's) → operation name.
    by_wire_name: Mapping[str, str]
    routes: tuple[Route, ...] = field(default=())

    def route(
        self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> Match | None:
        return match(self.routes, method, raw_path, query, headers)


def spoken(model: ServiceModel, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The protocols of the model's metadata (``protocols``, else ``protocol``) that skylet
    has a codec for, then ``extra`` ones (a protocol the service still answers in)."""
    listed = model.metadata.get("protocols") or [model.metadata.get("protocol", "")]
    found = [p for p in listed if p in PROTOCOLS]
    found += [p for p in extra if p in PROTOCOLS and p not in found]
    return tuple(found)


class ServiceModels:
    """Loads and caches service models; ``loader`` defaults to botocore's own data."""

    def __init__(self, loader: Loader | None = None) -> None:
        self._loader = loader
        self._cache: dict[tuple[str, str], Loaded] = {}
        # The same overlay object again (a service's class attribute): found without
        # serializing it, which costs tens of microseconds for a large one.
        self._by_identity: dict[tuple[str, int, tuple[str, ...]], tuple[Overlay, Loaded]] = {}
        self._names: frozenset[str] | None = None

    def known(self, name: str) -> bool:
        """Whether botocore has a model of that name. A name may come from a client (the SigV4
        scope), so only names botocore lists are ever looked up: nothing else reaches the
        loader's paths, and unknown names are not cached."""
        if self._names is None:
            self._names = frozenset(self._loaded().list_available_services("service-2"))
        return name in self._names

    def _loaded(self) -> Loader:
        if self._loader is None:
            self._loader = create_loader()
        return self._loader

    def load(
        self, name: str, *, overlay: Overlay | None = None, extra_protocols: tuple[str, ...] = ()
    ) -> Loaded | None:
        """The service's model (``sqs``, ``dynamodb``, ``s3``), or None when botocore has no
        model of that name."""
        if overlay is not None:
            seen = self._by_identity.get((name, id(overlay), extra_protocols))
            if seen is not None and seen[0] is overlay:
                return seen[1]
        key = (name, json.dumps([overlay, extra_protocols], sort_keys=True, default=str))
        found = self._cache.get(key)
        if found is None and self.known(name):
            found = self._read(name, overlay, extra_protocols)
            if found is not None:
                self._cache[key] = found
        if found is not None and overlay is not None:
            self._by_identity[(name, id(overlay), extra_protocols)] = (overlay, found)
        return found

    def _read(self, name: str, overlay: Overlay | None, extra: tuple[str, ...]) -> Loaded | None:
        try:
            description = self._loaded().load_service_model(name, "service-2")
        except (UnknownServiceError, DataNotFoundError):
            return None
        if overlay:
            description = copy.deepcopy(description)
            _merge(description, overlay)
        model = ServiceModel(description, service_name=name)
        protocols = spoken(model, extra)
        by_wire: dict[str, str] = {}
        routes: list[Route] = []
        for op_name in model.operation_names:
            operation = model.operation_model(op_name)
            by_wire[operation.wire_name] = op_name
            if "requestUri" in operation.http:
                routes.append(route_of(operation))
        rest = any(p.startswith("rest-") for p in protocols)
        return Loaded(model, protocols, by_wire, tuple(routes) if rest else ())


def route_of(operation: OperationModel) -> Route:
    """The operation's route: its ``requestUri``, and its required members bound to the
    query string and headers."""
    http = operation.http
    query: list[str] = []
    headers: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "querystring" and member.type_name != "map":
                query.append(wire)
            elif location == "header":
                headers.append(wire)
    return compile_route(
        operation.name,
        http.get("method", "POST"),
        http["requestUri"],
        query=query,
        headers=headers,
    )


def combined(first: Overlay | None, second: Overlay) -> Overlay:
    """``second`` merged over ``first``, as ``load`` merges an overlay into a model."""
    merged: dict[str, Any] = copy.deepcopy(dict(first or {}))
    _merge(merged, second)
    return merged


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
