"""The trace context skylet carries across its hops: W3C ``traceparent`` and X-Ray's header.

Pure, and needs no OpenTelemetry: ids are made and carried whether tracing exports or not, as
Lambda sets ``_X_AMZN_TRACE_ID`` for every invocation. A :class:`TraceContext` names a trace
and one span in it (the caller's: the parent of what runs next). ``CURRENT`` holds the context
of the request or invocation being handled, so the entry points (an HTTP request, an AWS API
call) set it once and whatever that request makes (an invocation, an event, a message) picks
it up without every signature in between carrying it.
"""

from __future__ import annotations

import random
import re
import time
from contextvars import ContextVar
from typing import NamedTuple

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_XRAY_ROOT = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")
_HEX16 = re.compile(r"[0-9a-f]{16}")

_random = random.Random()


class TraceContext(NamedTuple):
    """A trace (128-bit id) and a span in it (64-bit id), and whether the trace is sampled."""

    trace_id: int
    span_id: int
    sampled: bool = True

    @classmethod
    def new(cls, sampled: bool = True) -> TraceContext:
        """A new trace's root. Its id starts with the epoch seconds, as X-Ray's must."""
        trace_id = (int(time.time()) & 0xFFFFFFFF) << 96 | _random.getrandbits(96)
        return cls(trace_id, _random.getrandbits(64) or 1, sampled)

    def child(self) -> TraceContext:
        """A new span in the same trace (its parent is this one)."""
        return TraceContext(self.trace_id, _random.getrandbits(64) or 1, self.sampled)

    @property
    def traceparent(self) -> str:
        flags = "01" if self.sampled else "00"
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{flags}"

    @property
    def xray(self) -> str:
        """X-Ray's ``X-Amzn-Trace-Id`` (and Lambda's ``_X_AMZN_TRACE_ID``): the trace id's
        first 32 bits are the root's epoch seconds, in the same 128 bits as W3C's."""
        trace = f"{self.trace_id:032x}"
        sampled = "1" if self.sampled else "0"
        return f"Root=1-{trace[:8]}-{trace[8:]};Parent={self.span_id:016x};Sampled={sampled}"


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The context of a W3C ``traceparent`` header, or None when it is absent or invalid (an
    invalid one is ignored, as the W3C recommendation says: a new trace starts)."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip().lower()[:55])
    if match is None:
        return None
    version, trace, span, flags = match.groups()
    if version == "ff" or (version == "00" and len(value.strip()) != 55):
        return None
    trace_id, span_id = int(trace, 16), int(span, 16)
    if not trace_id or not span_id:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))


def parse_xray(value: str | None) -> TraceContext | None:
    """The context of an X-Ray header (``Root=1-…;Parent=…;Sampled=1``), or None when it has no
    valid Root. Without a Parent (a header that only names the trace) the root's span is new."""
    if not value:
        return None
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, _, field = part.strip().partition("=")
        fields[key.strip()] = field.strip().lower()
    root = _XRAY_ROOT.fullmatch(fields.get("Root", "").lower())
    if root is None:
        return None
    trace_id = int(root.group(1) + root.group(2), 16)
    if not trace_id:
        return None
    parent = fields.get("Parent", "")
    span_id = int(parent, 16) if _HEX16.fullmatch(parent) else 0
    sampled = fields.get("Sampled", "1") != "0"
    return TraceContext(trace_id, span_id or _random.getrandbits(64) or 1, sampled)


def from_headers(traceparent: str | None, xray: str | None) -> TraceContext | None:
    """The caller's context: its ``traceparent`` first, else its ``X-Amzn-Trace-Id``."""
    return parse_traceparent(traceparent) or parse_xray(xray)


#: The context of the request or invocation being handled (see the module's docstring).
CURRENT: ContextVar[TraceContext | None] = ContextVar("skylet_trace", default=None)
#: "The caller's is ``CURRENT``": what an invocation's ``trace`` defaults to. A loop that runs
#: on its own (a poller, a dispatcher's consumer) names its parent, or None, instead: it may
#: have been started by a traced request, and its task inherited that request's ``CURRENT``.
INHERIT = TraceContext(0, 0, False)
