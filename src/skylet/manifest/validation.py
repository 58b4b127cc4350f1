"""Validate manifest sections with pydantic and word every failure as a manifest error.

Pydantic reports a failure as ``loc`` (a path inside the validated data), a type and the bad
input. ``validate_model`` maps ``loc`` back to the YAML key path (``at`` + loc, or a per-field
source path when a value was inherited, e.g. ``provider.memorySize``), finds the field to say
what is allowed (range from ``ge``/``le``, Literal choices, or an ``Allowed`` marker) and raises
one ConfigError listing every problem, first one first.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import annotated_types
from pydantic import AliasPath, BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from skylet.errors import ConfigError
from skylet.manifest.diagnostics import KeyPath, Source, allowed, format_path, show, span

M = TypeVar("M", bound=BaseModel)
Mode = Literal["error", "warn", "off"]
"""What an unknown key is: an error, a warning, or nothing (serverless.yml's
``configValidationMode``; skylet.yaml is always ``error``)."""

_PHRASES = {
    "int_type": "is not an integer",
    "int_parsing": "is not an integer",
    "int_from_float": "is not an integer",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "bool_type": "is not a boolean",
    "bool_parsing": "is not a boolean",
    "string_type": "is not a string",
    "string_too_short": "is too short",
    "string_too_long": "is too long",
    "string_pattern_mismatch": "does not have the expected form",
    "greater_than": "is out of range",
    "greater_than_equal": "is out of range",
    "less_than": "is out of range",
    "less_than_equal": "is out of range",
    "literal_error": "is not one of the allowed values",
    "dict_type": "is not a mapping",
    "mapping_type": "is not a mapping",
    "model_type": "is not a mapping",
    "model_attributes_type": "is not a mapping",
    "list_type": "is not a list",
    "tuple_type": "is not a list",
    "iterable_type": "is not a list",
    "too_short": "has too few items",
    "too_long": "has too many items",
}
_MAX_REPORTED = 10


@dataclass(frozen=True, slots=True)
class Allowed:
    """Annotated metadata: the text that follows ``allowed:`` in an error for this field."""

    text: str


def validate_model(
    model: type[M],
    data: Mapping[str, Any],
    *,
    source: Source,
    at: KeyPath,
    by_alias: bool,
    field_paths: Mapping[str, KeyPath] | None = None,
    flat: bool = False,
) -> M:
    """Validate ``data`` as ``model``, by alias (serverless.yml spelling) or by field name
    (skylet.yaml spelling). ``field_paths`` overrides where a top-level field came from;
    ``flat`` reports every error at ``at`` itself (for data expanded from a short form, whose
    keys do not appear in the file)."""
    try:
        return model.model_validate(data, by_alias=by_alias, by_name=not by_alias)
    except ValidationError as exc:
        messages: list[str] = []
        for error in exc.errors()[:_MAX_REPORTED]:
            loc = tuple(error["loc"])
            first = loc[0] if loc else None
            if flat:
                path: KeyPath = at
            elif field_paths and isinstance(first, str) and first in field_paths:
                path = (*field_paths[first], *loc[1:])
            else:
                path = (*at, *loc)
            described = _describe(error, model, loc, by_alias)
            if flat and error["type"] == "missing":
                described = f"{format_path(loc)} {described}"  # the key is not in the file
            text = f"{source.where(path)}: {described}"
            if text not in messages:
                messages.append(text)
        raise ConfigError("\n".join(messages)) from exc


def check_keys(
    data: Mapping[str, Any],
    known: Iterable[str],
    *,
    source: Source,
    at: KeyPath,
    ignored: Iterable[str] = (),
    mode: Mode = "error",
) -> dict[str, Any]:
    """Return ``data`` without keys that are accepted but unused (``ignored``) and without
    unknown keys. An unknown key (named with the closest known key) is an error in mode
    ``error``, a warning in ``warn`` and dropped silently in ``off``: serverless.yml's
    ``configValidationMode``."""
    known_set, ignored_set = set(known), set(ignored)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in known_set:
            kept[key] = value
        elif key not in ignored_set:
            unknown(source, (*at, key), sorted(known_set), mode)
    return kept


def unknown(source: Source, path: KeyPath, choices: list[str], mode: Mode) -> None:
    """Report the unknown key that ends ``path`` as ``mode`` says (see ``check_keys``)."""
    message = unknown_key_message(str(path[-1]), choices)
    if mode == "error":
        raise source.error(path, message)
    if mode == "warn":
        source.warn(path, f"{message}; ignored (configValidationMode: warn)")


def unknown_key_message(key: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r} ({hint}allowed: {', '.join(choices)})"


def model_keys(model: type[BaseModel], *, by_alias: bool) -> dict[str, frozenset[str] | None]:
    """The keys ``model`` accepts, each with its allowed sub-keys when the key is the first
    step of an ``AliasPath`` (e.g. serverless ``destinations: {onFailure}``), else None."""
    keys: dict[str, frozenset[str] | None] = {}
    for name, info in model.model_fields.items():
        if name == "kind":
            continue
        alias = info.validation_alias if by_alias else None
        if isinstance(alias, AliasPath):
            first, second = str(alias.path[0]), str(alias.path[1])
            keys[first] = (keys.get(first) or frozenset()) | {second}
        else:
            keys[alias if isinstance(alias, str) else name] = None
    return keys


def _describe(error: ErrorDetails, model: type[BaseModel], loc: KeyPath, by_alias: bool) -> str:
    kind = error["type"]
    info = _field_info(model, loc)
    allowed_text = _allowed_text(info)
    if kind == "literal_error" and not allowed_text:
        allowed_text = str(error.get("ctx", {}).get("expected", ""))
    suffix = allowed(allowed_text) if allowed_text else ""
    if kind == "missing":
        return f"is required{suffix}"
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return message if "(allowed" in message or not suffix else message + suffix
    if kind == "extra_forbidden":
        parent = _field_info(model, loc[:-1]) if len(loc) > 1 else None
        target = _model_of(parent.annotation) if parent else model
        choices = sorted(model_keys(target, by_alias=by_alias)) if target else []
        return unknown_key_message(str(loc[-1]), choices)
    phrase = _PHRASES.get(kind)
    if phrase is None:
        return f"{show(error.get('input'))}: {error['msg']}{suffix}"
    return f"{show(error.get('input'))} {phrase}{suffix}"


def _field_info(model: type[BaseModel], loc: KeyPath) -> FieldInfo | None:
    """The FieldInfo the error location ``loc`` ends in (best effort; None if unknown)."""
    current: Any = model
    info: FieldInfo | None = None
    skip = 0
    for part in loc:
        if skip:
            skip -= 1
            continue
        cls = _model_of(current)
        if cls is not None and isinstance(part, str):
            info, skip = _find_field(cls, part)
            if info is None:
                return None
            current = info.annotation
        else:
            current = _item_type(current)
    return info


def _find_field(model: type[BaseModel], key: str) -> tuple[FieldInfo | None, int]:
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasPath) and alias.path and alias.path[0] == key:
            return info, len(alias.path) - 1
        if key in (name, alias):
            return info, 0
    return None, 0


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _item_type(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next((_item_type(a) for a in args if typing.get_args(a)), annotation)
    return args[-1] if args else annotation


def _allowed_text(info: FieldInfo | None) -> str:
    if info is None:
        return ""
    low: Any = None
    high: Any = None
    for meta in _metadata(info):
        if isinstance(meta, Allowed):
            return meta.text
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            low = meta.ge if isinstance(meta, annotated_types.Ge) else f"> {meta.gt}"
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            high = meta.le if isinstance(meta, annotated_types.Le) else f"< {meta.lt}"
    if low is not None and high is not None:
        return span(low, high)
    if low is not None:
        return f"≥ {low}" if not str(low).startswith(">") else str(low)
    if high is not None:
        return f"≤ {high}" if not str(high).startswith("<") else str(high)
    choices = _literal_choices(info.annotation)
    if choices:
        return ", ".join(choices)
    if info.annotation is bool:
        return "true, false"
    return ""


def _metadata(info: FieldInfo) -> list[Any]:
    """Constraint metadata of a field, including that of an ``Annotated[...] | None`` arm."""
    found: list[Any] = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        found.extend(getattr(arg, "__metadata__", ()))
    flat: list[Any] = []
    for meta in found:
        flat.extend(meta.metadata if isinstance(meta, FieldInfo) else [meta])
    return flat


def _literal_choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            return [str(a) for a in typing.get_args(arg)]
    return []
