"""Frames exchanged between the platform and an instance over two pipes.

A frame is a 9-byte header ``kind:u8 meta_len:u32 body_len:u32`` followed by ``meta`` (UTF-8
JSON, small) and ``body`` (opaque bytes: an event payload or a response). Payloads travel as the
bytes the client sent, so the platform never parses or re-encodes them on the hot path.

Platform → instance: SPEC (once, the function to become), INVOKE, SHUTDOWN.
Instance → platform: READY (init finished, or failed), RESULT, BAD_PAYLOAD (the payload was not
JSON; the handler did not run), BOUNCED (an INVOKE written ahead was read after its
``not_after``; the handler did not run and the platform runs it elsewhere).

Limits: an instance's frame is refused, before any of it is buffered, when its header announces
a body over Lambda's response limit (``skylet.wire.invocation.MAX_RESPONSE_BYTES``) or a frame
over that plus ``META_ALLOWANCE``: the frame's own fields, and an HTTP response's header block,
which Lambda counts in the response as well.

Every INVOKE carries a ``seq`` number, echoed by the frame that answers it. Answers come in the
order the INVOKEs were written, one at a time: an instance reads its next INVOKE only after it
answered the previous one, which is what lets the platform write several ahead (docs/runtime.md).
"""

from __future__ import annotations

import struct
from typing import Any, Final

from skylet import fastjson

HEADER: Final = struct.Struct("!BII")
#: What meta may add to a response's body in one frame from an instance (see the docstring).
META_ALLOWANCE: Final = 64 * 1024

INVOKE: Final = 1
SPEC: Final = 3
SHUTDOWN: Final = 2
READY: Final = 10
RESULT: Final = 11
BAD_PAYLOAD: Final = 12
BOUNCED: Final = 13


def encode(kind: int, meta: dict[str, Any] | None = None, body: bytes = b"") -> bytes:
    """One frame as bytes; ``meta`` must be JSON-serialisable."""
    meta_bytes = fastjson.dumps(meta) if meta else b""
    return HEADER.pack(kind, len(meta_bytes), len(body)) + meta_bytes + body


def decode_meta(raw: bytes) -> dict[str, Any]:
    """A frame's meta; ValueError when it is not a JSON object."""
    if not raw:
        return {}
    meta = fastjson.loads(raw)
    if not isinstance(meta, dict):
        raise ValueError(f"a frame's meta is a JSON object, not {type(meta).__name__}")
    return meta
