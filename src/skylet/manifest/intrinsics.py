"""CloudFormation intrinsic functions as plain, frozen values.

A manifest may write an intrinsic in its long form (``{"Fn::GetAtt": [MyTable, StreamArn]}``,
``{"Ref": X}``) or as a YAML short tag (``!GetAtt MyTable.StreamArn``). Both become one
``Intrinsic(fn, args)`` with the long-form function name and normalised arguments, e.g.
``Intrinsic("Fn::GetAtt", ("MyTable", "StreamArn"))``. skylet never evaluates them here: later
code resolves ``Ref``/``Fn::GetAtt`` against resources declared in the manifest (see
``Manifest.resolve_ref``) and keeps the rest for export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

# YAML short tag -> CloudFormation long-form function name.
SHORT_TAGS: Mapping[str, str] = {
    "!Ref": "Ref",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!ImportValue": "Fn::ImportValue",
    "!GetAZs": "Fn::GetAZs",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!Condition": "Condition",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
}
_TAG_FOR_FN = {fn: tag for tag, fn in SHORT_TAGS.items()}

# Allowed argument counts (inclusive); functions not listed take any arguments.
_ARITY: Mapping[str, tuple[int, int]] = {
    "Ref": (1, 1),
    "Fn::GetAtt": (2, 2),
    "Fn::Sub": (1, 2),
    "Fn::Join": (2, 2),
    "Fn::Select": (2, 2),
    "Fn::Split": (2, 2),
    "Fn::ImportValue": (1, 1),
    "Fn::GetAZs": (1, 1),
    "Fn::If": (3, 3),
    "Fn::Equals": (2, 2),
    "Fn::Not": (1, 1),
    "Fn::And": (2, 10),
    "Fn::Or": (2, 10),
    "Fn::FindInMap": (3, 4),
    "Fn::Base64": (1, 1),
    "Fn::Cidr": (3, 3),
    "Condition": (1, 1),
}


@dataclass(frozen=True, slots=True)
class Intrinsic:
    """One CloudFormation intrinsic: ``fn`` is the long-form name, ``args`` its arguments."""

    fn: str
    args: tuple[Any, ...]

    @property
    def logical_id(self) -> str | None:
        """The resource a ``Ref`` or ``Fn::GetAtt`` names; None for every other function."""
        if self.fn in ("Ref", "Fn::GetAtt") and isinstance(self.args[0], str):
            return self.args[0]
        return None

    @property
    def attribute(self) -> str | None:
        """The attribute of a ``Fn::GetAtt`` (``StreamArn``, ``Arn``); None otherwise."""
        if self.fn == "Fn::GetAtt" and isinstance(self.args[1], str):
            return self.args[1]
        return None

    def __str__(self) -> str:
        tag = _TAG_FOR_FN.get(self.fn, self.fn)
        if self.fn == "Fn::GetAtt":
            return f"{tag} {_compact(self.args[0])}.{_compact(self.args[1])}"
        if len(self.args) == 1:
            return f"{tag} {_compact(self.args[0])}"
        return f"{tag} {_compact(list(self.args))}"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # Validation never builds an Intrinsic from a dict: the YAML loader already did.
        return core_schema.is_instance_schema(cls)


class IntrinsicError(ValueError):
    """A malformed intrinsic; ``path`` is where it sits in the document."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def pack(fn: str, value: Any) -> Intrinsic:
    """Build a raw Intrinsic from the YAML value of a tag or long-form key (list = args)."""
    args = tuple(value) if isinstance(value, list) else (value,)
    return Intrinsic(fn, args)


def normalize_tree(data: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Turn long-form intrinsics into ``Intrinsic`` and check every intrinsic's arguments.

    Returns a new tree; raises IntrinsicError naming the path of a malformed intrinsic.
    """
    return _walk(data, path, inside=False)


def _walk(node: Any, path: tuple[str | int, ...], *, inside: bool) -> Any:
    if isinstance(node, Intrinsic):
        args = tuple(_walk(a, path, inside=True) for a in node.args)
        return _checked(Intrinsic(node.fn, args), path)
    if isinstance(node, list):
        return [_walk(v, (*path, i), inside=inside) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    converted = {k: _walk(v, (*path, k), inside=inside) for k, v in node.items()}
    if len(converted) == 1:
        ((key, value),) = converted.items()
        # `{Condition: X}` is only a function inside another intrinsic (Fn::And etc.); at the top
        # level of a resource it would be an ordinary key.
        if key == "Ref" or key.startswith("Fn::") or (inside and key == "Condition"):
            raw = pack(key, value)
            args = tuple(_walk(a, path, inside=True) for a in raw.args)
            return _checked(Intrinsic(key, args), path)
    return converted


def _checked(intrinsic: Intrinsic, path: tuple[str | int, ...]) -> Intrinsic:
    fn, args = intrinsic.fn, intrinsic.args
    tag = _TAG_FOR_FN.get(fn, fn)
    if fn == "Fn::GetAtt" and len(args) == 1 and isinstance(args[0], str):
        # The short form `!GetAtt Table.StreamArn`; attributes may themselves contain dots
        # (`Db.Endpoint.Address`), so only the first dot separates the logical id.
        logical_id, dot, attribute = args[0].partition(".")
        if not dot or not logical_id or not attribute:
            raise IntrinsicError(
                path, f"{tag} {args[0]!r} has no attribute (allowed: LogicalId.Attribute)"
            )
        return Intrinsic(fn, (logical_id, attribute))
    low, high = _ARITY.get(fn, (0, 1_000))
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low}\u2013{high}"
        raise IntrinsicError(path, f"{tag} takes {wanted} argument(s), got {len(args)}")
    if fn in ("Ref", "Condition") and not isinstance(args[0], str):
        raise IntrinsicError(path, f"{tag} needs a logical id string, got {_compact(args[0])}")
    if fn == "Fn::GetAtt" and not isinstance(args[0], str):
        raise IntrinsicError(path, f"{tag} needs a logical id string, got {_compact(args[0])}")
    if fn == "Fn::Sub" and not isinstance(args[0], str | Intrinsic):
        raise IntrinsicError(path, f"{tag} needs a template string, got {_compact(args[0])}")
    return intrinsic


def _compact(value: Any) -> str:
    """A short, YAML-flow-like rendering used in messages."""
    if isinstance(value, str):
        return value if value and value.replace("-", "").replace("_", "").isalnum() else repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    if isinstance(value, Intrinsic):
        return f"({value})"
    return repr(value)
