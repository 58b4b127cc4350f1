"""Where a manifest value came from, and the one way a manifest error is worded.

Every ConfigError the manifest package raises reads
``<file>:<line>: <key path>: <what is wrong> (allowed: <what would be right>)``, e.g.
``serverless.yml:14: functions.api.memorySize: 'big' is not an integer (allowed: 128-10240)``
(ranges are printed with an en dash).
``Source`` carries the file name and the line of every key, so any stage of loading (YAML,
variables, validation, cross-checks) can produce that message from a key path alone.
"""

from __future__ import annotations

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
class Source:
    """A manifest file and the 1-based line of every key and sequence item in it."""

    file: Path
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

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


def allowed(text: str) -> str:
    return f" (allowed: {text})"


def span(low: object, high: object) -> str:
    """An inclusive range as messages print it: 128, an en dash, 10240."""
    return f"{low}\u2013{high}"
