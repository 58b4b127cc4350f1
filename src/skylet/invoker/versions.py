"""Published versions and aliases of functions: what a qualifier names. Pure, no I/O.

A published version is immutable: the configuration of ``$LATEST`` when it was published, its
code a copy taken then (``config.code_dir``), its number never reused. An alias names one
version, and may send a share of its invocations to one other (``weights``, Lambda's
``RoutingConfig.AdditionalVersionWeights``). Which version an invocation of an alias runs is
:func:`pick`, a pure function of the alias and a uniform draw in [0, 1).

The table is kept by the Lambda API (which persists it in the store); the invoker reads it to
place invocations of ``name:3`` and ``name:live``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from skylet.config import FunctionConfig

LATEST = "$LATEST"


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """One published version. ``published_at``: epoch seconds; ``code_sha256``: base64 of the
    SHA-256 of its code, as Lambda's CodeSha256."""

    config: FunctionConfig
    description: str
    code_sha256: str
    code_size: int
    published_at: float

    @property
    def number(self) -> str:
        return self.config.version


@dataclass(frozen=True, slots=True)
class Alias:
    """An alias of a function: its version (``$LATEST`` or a number), and at most one other
    version with the share of invocations it takes (0.0-1.0)."""

    name: str
    function_version: str
    description: str = ""
    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    revision_id: str = ""


def pick(alias: Alias, draw: float) -> str:
    """The version an invocation of ``alias`` runs, for ``draw`` uniform in [0, 1): each
    additional version takes draws below its weight, in turn; the rest go to the alias's own
    version. With ``{"2": 0.25}``, a quarter of the draws run version 2."""
    threshold = 0.0
    for version, weight in alias.weights.items():
        threshold += weight
        if draw < threshold:
            return version
    return alias.function_version


class VersionTable:
    """Every function's published versions and aliases, by function name."""

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, PublishedVersion]] = {}
        self._aliases: dict[str, dict[str, Alias]] = {}
        #: The highest number each function ever had: numbers are never reused.
        self._last: dict[str, int] = {}

    def versions(self, function: str) -> list[PublishedVersion]:
        """Published versions, oldest first."""
        found = self._versions.get(function, {})
        return [found[k] for k in sorted(found, key=int)]

    def version(self, function: str, number: str) -> PublishedVersion | None:
        return self._versions.get(function, {}).get(number)

    def next_number(self, function: str) -> str:
        return str(self._last.get(function, 0) + 1)

    def add(self, published: PublishedVersion) -> None:
        function = published.config.name
        self._versions.setdefault(function, {})[published.number] = published
        self._last[function] = max(self._last.get(function, 0), int(published.number))

    def aliases(self, function: str) -> list[Alias]:
        """Aliases by name."""
        found = self._aliases.get(function, {})
        return [found[k] for k in sorted(found)]

    def alias(self, function: str, name: str) -> Alias | None:
        return self._aliases.get(function, {}).get(name)

    def put_alias(self, function: str, alias: Alias) -> None:
        self._aliases.setdefault(function, {})[alias.name] = alias

    def delete_alias(self, function: str, name: str) -> bool:
        return self._aliases.get(function, {}).pop(name, None) is not None

    def exists(self, function: str, qualifier: str) -> bool:
        """Whether a qualifier names a version or an alias of ``function``."""
        if qualifier == LATEST:
            return True
        if qualifier.isdigit():
            return self.version(function, qualifier) is not None
        return self.alias(function, qualifier) is not None

    def resolve(self, function: str, qualifier: str, draw: float) -> str | None:
        """The version an invocation of ``function:qualifier`` runs (``$LATEST`` or a
        number), or ``None`` when the qualifier names nothing."""
        if qualifier == LATEST:
            return LATEST
        if qualifier.isdigit():
            return qualifier if self.version(function, qualifier) is not None else None
        alias = self.alias(function, qualifier)
        return None if alias is None else pick(alias, draw)
