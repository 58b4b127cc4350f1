"""An OTLP/HTTP span exporter for the SDK's ``BatchSpanProcessor`` that encodes fast.

The OTLP exporter of opentelemetry-python builds a protobuf message object per span and per
attribute: about 20-25 µs a span on the machines skylet is measured on, in the processor's
thread but under the GIL, so it is taken from the event loop. At a few thousand invocations a
second that alone cost tracing a third of skylet's throughput (docs/tracing.md). This exporter
writes the same ``ExportTraceServiceRequest`` (opentelemetry-proto's
collector/trace/v1/trace_service.proto) as protobuf bytes directly: what repeats (a function's
name, an attribute's key and a repeated value, a resource, a scope) is encoded once and
reused. ``encode`` is pure; the tests decode its output with opentelemetry-proto's classes.

:func:`exporter` makes the SDK ``SpanExporter`` that posts a batch with its headers and
retries what OTLP/HTTP says to retry (429, 502, 503, 504, a connection that failed), with
backoff, within its timeout.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any

logger = logging.getLogger(__name__)

_RETRYABLE = frozenset({429, 502, 503, 504})
_FIXED64 = struct.Struct("<Q")
_DOUBLE = struct.Struct("<d")
#: Values cached as encoded KeyValues: bounded, as attribute values are the callers'.
_MAX_CACHED = 4096
#: Spans encoded between two releases of the GIL by the exporter's thread (~0.2 ms of work).
_SLICE = 48


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (strings, bytes, messages)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def any_value(value: Any) -> bytes:
    """opentelemetry.proto.common.v1.AnyValue of an attribute's value."""
    if isinstance(value, str):
        return _field(1, value.encode())
    if isinstance(value, bool):
        return b"\x10" + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if isinstance(value, float):
        return b"\x21" + _DOUBLE.pack(value)
    if isinstance(value, bytes):
        return _field(7, value)
    if isinstance(value, Sequence):  # ArrayValue
        return _field(5, b"".join(_field(1, any_value(v)) for v in value))
    return _field(1, str(value).encode())


def key_value(key: str, value: Any) -> bytes:
    """opentelemetry.proto.common.v1.KeyValue."""
    return _field(1, key.encode()) + _field(2, any_value(value))


class Encoder:
    """Encodes the SDK's ``ReadableSpan``s as one ``ExportTraceServiceRequest``. Caches what
    repeats across batches; not thread-safe (one per exporter, used by its thread)."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, Any], bytes] = {}
        self._names: dict[str, bytes] = {}
        self._resources: dict[Any, bytes] = {}
        self._scopes: dict[Any, bytes] = {}

    def _pair(self, key: str, value: Any) -> bytes:
        if isinstance(value, (str, bool, int)) and not isinstance(value, bytes):
            cached = self._pairs.get((key, value))
            if cached is not None:
                return cached
            encoded = _field(9, key_value(key, value))
            if len(self._pairs) < _MAX_CACHED and (not isinstance(value, str) or len(value) < 64):
                self._pairs[(key, value)] = encoded
            return encoded
        return _field(9, key_value(key, value))

    def _resource(self, resource: Any) -> bytes:
        encoded = self._resources.get(resource)
        if encoded is None:
            attributes = b"".join(
                _field(1, key_value(k, v)) for k, v in resource.attributes.items()
            )
            encoded = _field(1, attributes)  # ResourceSpans.resource
            if resource.schema_url:
                encoded += _field(3, resource.schema_url.encode())
            if len(self._resources) >= _MAX_CACHED:
                self._resources.clear()
            self._resources[resource] = encoded
        return encoded

    def _scope(self, scope: Any) -> bytes:
        encoded = self._scopes.get(scope)
        if encoded is None:
            body = b""
            if scope is not None:
                body = _field(1, scope.name.encode())
                if scope.version:
                    body += _field(2, scope.version.encode())
            encoded = self._scopes[scope] = _field(1, body)  # ScopeSpans.scope
        return encoded

    def span(self, span: Any) -> bytes:
        """opentelemetry.proto.trace.v1.Span (its fields in order)."""
        context = span.context
        name = self._names.get(span.name)
        if name is None:
            name = _field(5, span.name.encode())
            if len(self._names) < _MAX_CACHED:
                self._names[span.name] = name
        parts = [
            b"\x0a\x10",
            context.trace_id.to_bytes(16, "big"),
            b"\x12\x08",
            context.span_id.to_bytes(8, "big"),
        ]
        parent = span.parent
        if parent is not None:
            parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
        parts += (
            name,
            b"\x30",
            _varint(span.kind.value + 1),  # the proto's SPAN_KIND_* are the SDK's plus one
            b"\x39",
            _FIXED64.pack(span.start_time or 0),
            b"\x41",
            _FIXED64.pack(span.end_time or 0),
        )
        attributes = span.attributes
        if attributes:
            parts += (self._pair(k, v) for k, v in attributes.items())
        status = span.status
        code = status.status_code.value
        if code:
            body = b""
            if status.description:
                body = _field(2, status.description.encode())
            parts.append(_field(15, body + b"\x18" + _varint(code)))
        flags = 0x100 | (0x200 if parent is not None and parent.is_remote else 0)
        parts += (b"\x85\x01", struct.pack("<I", flags | int(context.trace_flags)))
        return b"".join(parts)

    def encode(self, spans: Sequence[Any]) -> bytes:
        """The request carrying ``spans``, grouped by resource and scope as OTLP wants."""
        groups: dict[Any, dict[Any, list[bytes]]] = {}
        for span in spans:
            by_scope = groups.setdefault(span.resource, {})
            by_scope.setdefault(span.instrumentation_scope, []).append(_field(2, self.span(span)))
        out = []
        for resource, by_scope in groups.items():
            scopes = b"".join(
                _field(2, self._scope(scope) + b"".join(encoded))
                for scope, encoded in by_scope.items()
            )
            out.append(_field(1, self._resource(resource) + scopes))
        return b"".join(out)


def exporter(endpoint: str, headers: Mapping[str, str], timeout_s: float) -> Any:
    """The SDK ``SpanExporter`` that encodes with :class:`Encoder` and posts to ``endpoint``
    over one kept-alive connection (the standard library's: cheaper per post than a client
    library, and the processor's one thread is its only user)."""
    import http.client
    from urllib.parse import urlsplit

    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    url = urlsplit(endpoint)
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    sent_headers = {**headers, "content-type": "application/x-protobuf", "user-agent": "skylet"}
    connection_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )

    class Exporter(SpanExporter):
        def __init__(self) -> None:
            self._encoder = Encoder()
            self._connection: http.client.HTTPConnection | None = None
            self._closed = False

        def _encode(self, spans: Sequence[Any]) -> bytes:
            """The batch's request, encoded a slice at a time with the GIL let go between
            slices: a thread that held it for a whole batch (a few ms) would keep the event
            loop waiting on it after each of its system calls. Concatenated requests are one
            request (protobuf appends repeated fields)."""
            parts = []
            for start in range(0, len(spans), _SLICE):
                parts.append(self._encoder.encode(spans[start : start + _SLICE]))
                time.sleep(0)
            return b"".join(parts)

        def _post(self, body: bytes) -> int:
            if self._connection is None:
                self._connection = connection_class(url.netloc, timeout=timeout_s)
            try:
                self._connection.request("POST", path, body, sent_headers)
                response = self._connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                raise
            if response.will_close:
                self._connection.close()
                self._connection = None
            return response.status

        def export(self, spans: Sequence[Any]) -> Any:
            if self._closed:
                return SpanExportResult.FAILURE
            body = self._encode(spans)
            deadline = time.monotonic() + timeout_s
            delay = 0.5
            while True:
                try:
                    status = self._post(body)
                except (OSError, http.client.HTTPException) as error:
                    status, why = 0, repr(error)
                else:
                    why = f"status {status}"
                    if 200 <= status < 300:
                        return SpanExportResult.SUCCESS
                if (status and status not in _RETRYABLE) or time.monotonic() + delay > deadline:
                    logger.warning("could not export %d spans to %s: %s", len(spans), endpoint, why)
                    return SpanExportResult.FAILURE
                time.sleep(delay)
                delay *= 2

        def shutdown(self) -> None:
            self._closed = True
            if self._connection is not None:
                self._connection.close()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    return Exporter()
