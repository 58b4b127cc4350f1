"""JSON on the hot path: orjson (5-15x the json module's speed), with the json module for the
JSON orjson refuses, so what is read and written is what the json module would read and write.
Used by the platform and by instances alike: orjson and the standard library only. An
instance on an interpreter orjson was not built for (another Python's zygote,
skylet.pool.zygotes) reads and writes with the json module alone: the same values, slower.

:func:`parse_event` is the one reading of an event payload (the Invoke API's, synchronous and
Event, and the instance's): strict JSON as Lambda reads it, never an exception other than
:class:`NotJson`, whatever the bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

try:
    import orjson
except ImportError:  # pragma: no cover - only on an interpreter orjson was not built for
    orjson = None  # type: ignore[assignment]

#: How deep an event may nest: orjson's own limit, which the fallback keeps too.
MAX_DEPTH = 1024
#: A run of 19 digits may be an integer past 64 bits, which orjson reads as a float; the json
#: module keeps it exact (as Lambda's Python runtime does). Floats with long mantissas match too;
#: they merely take the slower path.
_LONG_NUMBER = re.compile(rb"\d{19}")
_PREFIX = "Could not parse request body into json: Could not parse payload into json: "


class NotJson(ValueError):
    """A payload Lambda refuses (400 InvalidRequestContentException); ``str()`` is the whole
    message, Lambda's prefix and the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(_PREFIX + reason)


def loads(data: bytes) -> Any:
    """``json.loads(data)``: orjson reads it unless it holds what orjson refuses (NaN, a lone
    surrogate); a ValueError when it is not JSON at all."""
    if orjson is None:
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def parse_event(data: bytes) -> Any:
    """An event payload as Lambda reads it, or :class:`NotJson`: no NaN or Infinity (the json
    module's extensions), nesting at most :data:`MAX_DEPTH` deep, integers of any size kept
    exact, lone surrogates kept as the json module keeps them. Never ``RecursionError``."""
    if orjson is None:
        return _strict_loads(data)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if str(error).startswith("depth limit exceeded"):
            raise NotJson(f"nesting deeper than {MAX_DEPTH} levels ({error})") from None
        return _strict_loads(data)
    if _LONG_NUMBER.search(data) is not None:
        return _strict_loads(data)
    return value


def _strict_loads(data: bytes) -> Any:
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        # The json module nests on the C stack; near the limit it gives up first.
        raise NotJson(f"nesting deeper than this parser allows (at most {MAX_DEPTH})") from None
    except NotJson:
        raise
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise NotJson(str(error)) from None


def _refuse_constant(name: str) -> NoReturn:
    raise NotJson(f"Non-standard token '{name}': NaN and Infinity are not JSON")


def dumps(value: Any) -> bytes:
    """Compact JSON as bytes, never with a raw newline; a string holding a lone surrogate (which
    orjson refuses) is escaped, as the json module does."""
    if orjson is None:
        return json.dumps(value, separators=(",", ":")).encode()
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()
