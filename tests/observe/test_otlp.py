"""skylet's OTLP encoder writes the ExportTraceServiceRequest opentelemetry-python's own
encoder writes, as opentelemetry-proto decodes both; and its exporter posts it to a real
receiver, retrying what OTLP/HTTP says to retry."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from skylet.invoker.hooks import InvocationRecord
from skylet.invoker.report import Report
from skylet.observe.otlp import Encoder, exporter
from skylet.observe.trace_context import TraceContext
from skylet.observe.tracing import Tracing, TracingConfig
from tests.otlp_receiver import OtlpReceiver


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[Any] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _spans() -> list[Any]:
    """What the tracing hook hands the SDK for a mix of invocations: cold and warm, failed,
    with a caller and without, two functions."""
    kept = Kept()
    hook = Tracing(
        TracingConfig("http://unused/v1/traces"),
        account_id="000000000000",
        region_of=lambda name: "eu-west-1",
        arn_of=lambda name, qualifier: f"arn:aws:lambda:eu-west-1:000000000000:function:{name}",
        exporter=kept,
    )
    caller = TraceContext.new()
    for i in range(40):
        hook.completed(
            InvocationRecord(
                function="shop" if i % 3 else "cart",
                request_id=f"request-{i}",
                started=time.time(),
                cold=i % 4 == 0,
                error_type="ValueError" if i % 5 == 0 else None,
                report=Report(f"request-{i}", 2.5, 256, 40, init_ms=12.0 if i % 4 == 0 else None),
                error_message="bad input é" if i % 5 == 0 else None,
                trace=caller.child(),
                parent=caller if i % 2 else None,
            )
        )
    hook.shutdown()
    return kept.spans


def _normalised(request: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
    # The SDK leaves the W3C flags out of Span.flags' low byte (OTLP puts them there) and
    # writes an empty Status for an unset one; neither changes what a span says.
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                span.flags &= 0x300
                if span.status.code == 0:
                    span.ClearField("status")
    return request


def test_the_request_is_the_one_the_sdk_encodes() -> None:
    spans = _spans()
    assert len(spans) == 50  # 40 invocations, 10 cold: an init span each

    ours = ExportTraceServiceRequest.FromString(Encoder().encode(spans))
    theirs = ExportTraceServiceRequest.FromString(encode_spans(spans).SerializeToString())

    first = ours.resource_spans[0].scope_spans[0].spans[0]
    assert first.flags & 0xFF == 1  # sampled
    assert len(ours.resource_spans) == 2  # one resource per function
    assert _normalised(ours) == _normalised(theirs)


def test_every_attribute_type_and_a_status_encode_as_the_sdk_does() -> None:
    resource = Resource({"service.name": "x", "n": 3, "ratio": 0.5, "on": True})
    context = SpanContext(0x1234, 0x99, False, TraceFlags(1))
    parent = SpanContext(0x1234, 0x77, True, TraceFlags(1))
    span = ReadableSpan(
        "everything",
        context,
        parent,
        resource,
        {
            "s": "text",
            "i": -5,
            "big": 2**62,
            "f": 1.25,
            "b": False,
            "list": ["a", "b"],
            "ints": [1, 2],
        },
        kind=SpanKind.CONSUMER,
        status=Status(StatusCode.ERROR, "broke"),
        start_time=1,
        end_time=2,
        instrumentation_scope=InstrumentationScope("scope", "1.0"),
    )
    encoder = Encoder()
    for _ in range(2):  # the second time from its caches
        ours = ExportTraceServiceRequest.FromString(encoder.encode([span]))
        theirs = ExportTraceServiceRequest.FromString(encode_spans([span]).SerializeToString())
        assert ours.resource_spans[0].scope_spans[0].spans[0].flags == 0x301  # remote; sampled
        assert _normalised(ours) == _normalised(theirs)


def test_the_exporter_posts_to_a_receiver_and_retries_a_503() -> None:
    spans = _spans()
    with OtlpReceiver() as receiver:
        sent = exporter(receiver.url + "/v1/traces", {"x-tenant": "a"}, 5.0)
        assert sent.export(spans) == SpanExportResult.SUCCESS
        got = receiver.wait_for(lambda s: len(s) == len(spans))
        assert {s.span_id for s in got} == {format(s.context.span_id, "016x") for s in spans}
        sent.shutdown()
    refused = exporter("http://127.0.0.1:9/v1/traces", {}, 0.1)  # nothing listens on 9
    assert refused.export(spans) == SpanExportResult.FAILURE


def test_a_refusal_is_not_retried() -> None:
    with OtlpReceiver() as receiver:
        sent = exporter(receiver.url + "/not/traces", {}, 5.0)
        started = time.monotonic()
        assert sent.export(_spans()) == SpanExportResult.FAILURE
        assert time.monotonic() - started < 1.0
        assert receiver.spans == []
