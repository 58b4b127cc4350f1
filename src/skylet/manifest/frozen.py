"""Immutable containers for resolved manifest data, and Lambda-style stringification.

Everything a ``Manifest`` exposes is deeply immutable: mappings become ``FrozenDict`` and lists
become tuples, so code that receives a manifest can share it across threads and processes without
defensive copies. ``FrozenDict`` compares equal to a plain ``dict`` with the same items, which keeps
tests and callers simple.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from skylet.manifest.intrinsics import Intrinsic

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """A read-only, hashable mapping (hashable when its values are)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"


def deep_freeze(value: Any) -> Any:
    """Return ``value`` with every mapping turned into a FrozenDict and every list into a tuple."""
    if isinstance(value, Mapping):
        return FrozenDict({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    if isinstance(value, Intrinsic):
        return freeze_intrinsic(value)
    return value


def thaw(value: Any) -> Any:
    """Frozen data back as JSON-ready values: mappings as dicts (keys as strings), tuples and
    lists as lists; anything else as it is."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def freeze_intrinsic(value: Intrinsic) -> Intrinsic:
    """An Intrinsic whose arguments are deeply frozen (hashable when its data is)."""
    return Intrinsic(value.fn, tuple(deep_freeze(a) for a in value.args))


def freeze_mapping(value: Mapping[str, Any]) -> FrozenDict[str, Any]:
    """Deep-freeze a mapping, typed for pydantic ``AfterValidator`` use."""
    return FrozenDict({k: deep_freeze(v) for k, v in value.items()})


def scalar_text(value: str | int | float | bool) -> str:
    """Stringify a scalar as JavaScript (and so the Serverless Framework and Lambda) would.

    ``True`` -> ``"true"``, ``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"``: environment variables and
    values embedded in strings must read the same as on AWS, not as Python's ``str``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
