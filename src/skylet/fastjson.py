"""JSON on the hot path: orjson (5-15x the json module's speed), with the json module for the
JSON orjson refuses, so what is read and written is what the json module would read and write.
Used by the platform and by instances alike: orjson and the standard library only."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes) -> Any:
    """``json.loads(data)``: orjson reads it unless it holds what orjson refuses (NaN, a lone
    surrogate, an integer past 64 bits); a ValueError when it is not JSON at all."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact JSON as bytes, never with a raw newline; a string holding a lone surrogate (which
    orjson refuses) is escaped, as the json module does."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()
