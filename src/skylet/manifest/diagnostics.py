"""Where a manifest value came from, and the one way a manifest error is worded.

Every ConfigError the manifest package raises reads
``<file>:<line>: <key path>: <what is wrong> (allowed: <what would be right>)``, e.g.
``serverless.yml:14: functions.api.memorySize: 'big' is not an integer (allowed: 128-10240)``
(ranges are printed with an en dash).
``Source`` carries the file name and the line of every key, so any stage of loading (YAML,
variables, validation, cross-checks) can produce that message from a key path alone.

What loads but deserves a word (a key the Serverless Framework would only warn about, a feature
skylet recognises but does not run yet) is a ``ManifestWarning`` with the same location:
``Source.warn`` records it, once per feature, and the Manifest keeps the list.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skylet.errors import ConfigError
from skylet.manifest.intrinsics import Intrinsic

KeyPath = tuple[str | int, ...]
"""A location in a YAML document: mapping keys (str) and sequence indexes (int)."""

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-/:$@]+$")


def format_path(path: KeyPath) -> str:
    """``("functions", "api", "events", 0, "http")`` -> ``functions.api.events[0].http``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(top level)"


def show(value: Any, limit: int = 60) -> str:
    """Render a bad value for a message: strings quoted, containers named, long text cut."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, Intrinsic):
        text = str(value)
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        text = "a list"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ManifestWarning:
    """Something that loads but does not do what the file says (yet), at ``file:line: path``;
    ``elsewhere`` holds the further (line, path) places of the same feature."""

    file: str
    line: int
    path: KeyPath
    message: str
    elsewhere: tuple[tuple[int, KeyPath], ...] = ()

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {format_path(self.path)}: {self.message}"
        if self.elsewhere:
            places = ", ".join(f"line {line} {format_path(path)}" for line, path in self.elsewhere)
            text += f" (also {places})"
        return text


class _Warnings:
    """The warnings of one load, one per feature."""

    def __init__(self) -> None:
        self._first: dict[str, ManifestWarning] = {}
        self._more: dict[str, list[tuple[int, KeyPath]]] = {}

    def add(self, feature: str, warning: ManifestWarning) -> None:
        if feature in self._first:
            self._more[feature].append((warning.line, warning.path))
        else:
            self._first[feature] = warning
            self._more[feature] = []

    def all(self) -> tuple[ManifestWarning, ...]:
        """One per feature, in the order of the file."""
        found = [
            dataclasses.replace(w, elsewhere=tuple(self._more[f])) for f, w in self._first.items()
        ]
        return tuple(sorted(found, key=lambda w: w.line))


@dataclass(frozen=True)
class Source:
    """A manifest file, the 1-based line of every key and sequence item in it, and the
    warnings recorded while it loads."""

    file: Path
    lines: Mapping[KeyPath, int] = field(default_factory=dict)
    _warnings: _Warnings = field(default_factory=_Warnings, compare=False, repr=False)

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest ancestor that has one (values produced by a
        variable have no line of their own)."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1

    def where(self, path: KeyPath) -> str:
        return f"{self.file.name}:{self.line(path)}: {format_path(path)}"

    def error(self, path: KeyPath, message: str) -> ConfigError:
        """Build (not raise) the ConfigError for ``message`` at ``path``."""
        return ConfigError(f"{self.where(path)}: {message}")

    def has(self, path: KeyPath) -> bool:
        return path in self.lines

    def warn(self, path: KeyPath, message: str, *, feature: str | None = None) -> None:
        """Record a warning at ``path``; of several with the same ``feature`` the first is
        reported, naming the others' places (a feature used by ten functions is one line)."""
        warning = ManifestWarning(self.file.name, self.line(path), path, message)
        self._warnings.add(feature or format_path(path), warning)

    def warnings(self) -> tuple[ManifestWarning, ...]:
        return self._warnings.all()


def allowed(text: str) -> str:
    return f" (allowed: {text})"


def span(low: object, high: object) -> str:
    """An inclusive range as messages print it: 128, an en dash, 10240."""
    return f"{low}\u2013{high}"
