"""Shape-directed reading and writing of decoded documents (what JSON or CBOR decodes to):
the body of the json, rest-json and smithy-rpc-v2-cbor protocols. Pure.

The two encodings differ only in blobs and timestamps (:class:`JsonScalars`: base64 text and
epoch seconds; the CBOR codec's subclass: raw bytes and tag 1). Reading checks every value
against its shape, refuses what does not fit with the member's path, checks required members
and bounds the nesting (``MAX_DEPTH``); unknown members are ignored, as AWS's servers do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from skylet.aws.protocols import values
from skylet.aws.protocols.types import MAX_DEPTH, Params, Refused


class JsonScalars:
    """Blobs as base64 text, timestamps as epoch seconds (or a member's own format)."""

    def blob_in(self, value: object, where: str) -> bytes:
        return values.decode_base64(value, where)

    def blob_out(self, value: object) -> Any:
        return values.encode_base64(value)

    def timestamp_in(self, shape: Shape, value: object, where: str) -> Any:
        fmt = values.timestamp_format(shape, values.UNIX)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise values.invalid(where, value, "Member must be a timestamp")
        return values.parse_timestamp(value, fmt, where)

    def timestamp_out(self, shape: Shape, value: object) -> Any:
        fmt = values.timestamp_format(shape, values.UNIX)
        return values.epoch(value) if fmt == values.UNIX else values.format_timestamp(value, fmt)

    def float_out(self, shape: Shape, number: float) -> Any:
        """JSON has no NaN or infinities: AWS writes them as the strings ``NaN``, ``Infinity``."""
        if math.isnan(number) or math.isinf(number):
            return values.text_of(shape, number, values.UNIX)
        return number


JSON = JsonScalars()


def too_deep() -> Refused:
    return Refused("malformed", f"The request nests values deeper than {MAX_DEPTH} levels")


def read_members(
    shape: StructureShape,
    document: object,
    scalars: JsonScalars,
    *,
    where: str = "",
    body_only: bool = False,
    depth: int = 0,
) -> Params:
    """A structure's members from a decoded document; ``body_only`` skips the members bound
    to the URI, headers or query string (rest-json reads those itself)."""
    if depth > MAX_DEPTH:
        raise too_deep()
    if not isinstance(document, dict):
        raise values.invalid(where or shape.name, document, "Member must be a structure")
    result: Params = {}
    for name, member in shape.members.items():
        if body_only and "location" in member.serialization:
            continue
        wire = member.serialization.get("name", name)
        raw = document.get(wire)
        if raw is not None:
            path = f"{where}.{wire}" if where else wire
            result[name] = read(member, raw, scalars, path, depth + 1)
    for name in shape.required_members:
        member = shape.members[name]
        if name not in result and not (body_only and "location" in member.serialization):
            wire = member.serialization.get("name", name)
            raise values.missing(f"{where}.{wire}" if where else wire)
    return result


def read(shape: Shape, raw: object, scalars: JsonScalars, where: str, depth: int) -> Any:
    """One value of ``shape`` from a decoded document."""
    if depth > MAX_DEPTH:
        raise too_deep()
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            _check_depth(raw, depth)
            return raw
        assert isinstance(shape, StructureShape)
        return read_members(shape, raw, scalars, where=where, depth=depth)
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(raw, list):
            raise values.invalid(where, raw, "Member must be a list")
        return [
            None if item is None else read(shape.member, item, scalars, f"{where}.{i}", depth + 1)
            for i, item in enumerate(raw, 1)
        ]
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(raw, dict):
            raise values.invalid(where, raw, "Member must be a map")
        result = {}
        for key, item in raw.items():
            if not isinstance(key, str):
                raise values.invalid(where, key, "Map keys must be strings")
            if item is not None:
                result[key] = read(shape.value, item, scalars, f"{where}.{key}", depth + 1)
        return result
    if kind in ("string", "character"):
        if not isinstance(raw, str):
            raise values.invalid(where, raw, "Member must be a string")
        return raw
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise values.invalid(where, raw, "Member must be a boolean")
        return raw
    if kind in ("integer", "long", "short", "byte", "float", "double"):
        return values.check_number(shape, raw, where)
    if kind == "blob":
        return scalars.blob_in(raw, where)
    if kind == "timestamp":
        return scalars.timestamp_in(shape, raw, where)
    raise values.invalid(where, raw, f"Member must be a {kind}")


def _check_depth(raw: object, depth: int) -> None:
    """A document member (any JSON value) is bounded like everything else; iterative."""
    stack = [(raw, depth)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise too_deep()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)


def write_members(
    shape: StructureShape,
    result: Mapping[str, Any],
    scalars: JsonScalars,
    *,
    body_only: bool = False,
) -> dict[str, Any]:
    """A structure's members as a document; ``body_only`` leaves out those bound to headers
    or the status code (rest-json writes those itself)."""
    out: dict[str, Any] = {}
    for name, value in result.items():
        if value is None:
            continue
        member = shape.members.get(name)
        if member is None:
            raise TypeError(f"{shape.name} has no member {name!r}")
        if body_only and "location" in member.serialization:
            continue
        out[member.serialization.get("name", name)] = write(member, value, scalars)
    return out


def write(shape: Shape, value: Any, scalars: JsonScalars) -> Any:
    """One value of ``shape`` as a document value."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return value
        assert isinstance(shape, StructureShape)
        return write_members(shape, value, scalars)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [None if item is None else write(shape.member, item, scalars) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {k: write(shape.value, v, scalars) for k, v in value.items() if v is not None}
    if kind == "blob":
        return scalars.blob_out(value)
    if kind == "timestamp":
        return scalars.timestamp_out(shape, value)
    if kind in ("float", "double"):
        return scalars.float_out(shape, float(value))
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value
