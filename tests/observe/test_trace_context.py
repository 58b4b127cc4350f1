"""The trace context's two wire forms (W3C traceparent, X-Ray's header) and the exporter
configuration the standard OTEL_EXPORTER_OTLP_* variables give. Pure."""

from __future__ import annotations

import time

import pytest

from skylet.observe.trace_context import (
    TraceContext,
    from_headers,
    parse_traceparent,
    parse_xray,
)
from skylet.observe.tracing import config_from_environment

TRACE = 0x0AF7651916CD43DD8448EB211C80319C
SPAN = 0xB7AD6B7169203331


def test_traceparent_round_trips_and_keeps_the_sampled_flag() -> None:
    context = TraceContext(TRACE, SPAN, sampled=True)
    assert context.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert parse_traceparent(context.traceparent) == context
    unsampled = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
    assert unsampled == TraceContext(TRACE, SPAN, sampled=False)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 is exact
        "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",  # short
        "not a traceparent",
    ],
)
def test_an_invalid_traceparent_is_ignored(value: str) -> None:
    assert parse_traceparent(value) is None


def test_a_later_version_may_carry_more_fields() -> None:
    value = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-whatever"
    assert parse_traceparent(value) == TraceContext(TRACE, SPAN)


def test_the_xray_header_holds_the_same_ids() -> None:
    context = TraceContext(TRACE, SPAN)
    header = context.xray
    assert header == "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1"
    assert parse_xray(header) == context
    assert parse_xray("Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=0")
    assert parse_xray("Sampled=1;Parent=b7ad6b7169203331;Root=1-0af76519-16cd43dd8448eb211c80319c")
    assert parse_xray("Parent=b7ad6b7169203331") is None
    assert parse_xray("Root=2-0af76519-16cd43dd8448eb211c80319c") is None


def test_an_xray_header_without_a_parent_names_the_trace_only() -> None:
    found = parse_xray("Root=1-0af76519-16cd43dd8448eb211c80319c")
    assert found is not None
    assert found.trace_id == TRACE
    assert found.span_id != 0


def test_traceparent_wins_over_the_xray_header() -> None:
    other = "Root=1-11111111-222222222222222222222222;Parent=3333333333333333;Sampled=1"
    chosen = from_headers(TraceContext(TRACE, SPAN).traceparent, other)
    assert chosen == TraceContext(TRACE, SPAN)
    assert from_headers("garbage", other) == parse_xray(other)
    assert from_headers(None, None) is None


def test_new_traces_start_with_the_epoch_seconds_as_xray_requires() -> None:
    root = TraceContext.new()
    assert abs((root.trace_id >> 96) - time.time()) < 5
    child = root.child()
    assert child.trace_id == root.trace_id
    assert child.span_id != root.span_id


def test_exporter_configuration_from_the_standard_variables() -> None:
    assert config_from_environment({}) is None
    base = config_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    assert base is not None
    assert base.endpoint == "http://collector:4318/v1/traces"
    exact = config_from_environment(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/custom",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret%20one,x-tenant=a",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-tenant=b",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_SERVICE_NAME": "shop",
        }
    )
    assert exact is not None
    assert exact.endpoint == "http://collector:4318/custom"
    assert dict(exact.headers) == {"api-key": "secret one", "x-tenant": "b"}
    assert (exact.timeout_s, exact.service_name) == (2.5, "shop")
    flag = config_from_environment({}, "http://127.0.0.1:4318")
    assert flag is not None
    assert flag.endpoint == "http://127.0.0.1:4318/v1/traces"


def test_tracing_stays_off_when_disabled_and_refuses_grpc() -> None:
    on = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert config_from_environment({**on, "OTEL_SDK_DISABLED": "true"}) is None
    assert config_from_environment({**on, "OTEL_TRACES_EXPORTER": "none"}) is None
    with pytest.raises(ValueError, match="http/protobuf"):
        config_from_environment({**on, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    with pytest.raises(ValueError, match="not an http"):
        config_from_environment({}, "collector:4318")


def test_without_the_sdk_tracing_is_off_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from skylet.observe import tracing

    assert tracing.missing() is None  # the test extra installs it
    real = importlib.util.find_spec

    def absent(name: str, *args: object) -> object:
        return None if name.startswith("opentelemetry") else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", absent)
    why = tracing.missing()
    assert why is not None
    assert why.startswith("tracing is off:")
    assert "pip install 'skylet[tracing]'" in why


def test_inherit_is_no_valid_context() -> None:
    from skylet.observe.trace_context import INHERIT

    # It can never be mistaken for a caller's: a trace id and span id of 0 are invalid.
    assert parse_traceparent(INHERIT.traceparent) is None
