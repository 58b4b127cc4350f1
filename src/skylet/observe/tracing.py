"""OpenTelemetry traces of invocations, exported over OTLP/HTTP (docs/tracing.md).

A hook (skylet.invoker.hooks) registered in the composition root when tracing is on: each
invocation that completed becomes a span with OpenTelemetry's FaaS conventions (``faas.*``,
``cloud.*``), a cold start's init a child span of it. The ids are skylet's own, made when the
invocation was admitted (skylet.observe.trace_context), so the ``traceparent`` the function saw
names the span exported here; the SDK is handed them through its ``IdGenerator``. Spans are
batched and exported from the SDK's own thread, never on the event loop.

The SDK is an optional extra (``skylet[tracing]``): :func:`missing` says what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from skylet.invoker.hooks import InvocationHook, InvocationRecord

logger = logging.getLogger(__name__)

#: What ``pip install`` needs for tracing, as the CLI says when it is missing.
INSTALL = "pip install 'skylet[tracing]'"
TRACES_PATH = "/v1/traces"


@dataclass(frozen=True, slots=True)
class TracingConfig:
    """Where spans go: the OTLP/HTTP traces URL (``…/v1/traces``), with its headers."""

    endpoint: str
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timeout_s: float = 10.0
    service_name: str = "skylet"


def missing() -> str | None:
    """Why tracing cannot be on here (the SDK or the exporter is not installed), or None."""
    for module in ("opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return f"tracing is off: {module} is not installed ({INSTALL})"
    return None


def config_from_environment(
    environ: Mapping[str, str], endpoint: str | None = None
) -> TracingConfig | None:
    """The exporter the standard variables (or ``--otlp-endpoint``, a base URL as
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is) configure, or None when tracing stays off: no endpoint,
    ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``. Pure; the CLI passes
    ``os.environ``. ValueError for what OTLP/HTTP cannot do (the gRPC protocol)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none" and not endpoint:
        return None
    protocol = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    ).strip()
    if protocol and protocol != "http/protobuf":
        raise ValueError(f"OTLP protocol {protocol!r}: skylet exports http/protobuf only")
    url = ""
    if endpoint:
        url = _traces_url(endpoint)
    elif environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        url = environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].strip()
    elif environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        url = _traces_url(environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"OTLP endpoint {url!r} is not an http(s) URL")
    headers = _headers(environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers.update(_headers(environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "")))
    timeout = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", environ.get("OTEL_EXPORTER_OTLP_TIMEOUT", "")
    )
    try:
        timeout_s = float(timeout) / 1000 if timeout.strip() else 10.0
    except ValueError:
        raise ValueError(f"OTEL_EXPORTER_OTLP_TIMEOUT {timeout!r} is not milliseconds") from None
    return TracingConfig(
        url,
        MappingProxyType(headers),
        timeout_s,
        environ.get("OTEL_SERVICE_NAME", "").strip() or "skylet",
    )


def _traces_url(base: str) -> str:
    base = base.strip().rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def _headers(raw: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``key=value`` pairs, comma-separated, URL-encoded."""
    from urllib.parse import unquote

    headers: dict[str, str] = {}
    for pair in raw.split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


class Tracing(InvocationHook):
    """The hook that turns completed invocations into spans. ``region_of`` names a function's
    region (the invoker's), ``arn_of`` its ARN at the version that ran."""

    def __init__(
        self,
        config: TracingConfig,
        *,
        account_id: str,
        region_of: Callable[[str], str],
        arn_of: Callable[[str, str | None], str],
        exporter: Any = None,
    ) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.id_generator import IdGenerator

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=config.endpoint, headers=dict(config.headers), timeout=config.timeout_s
            )

        class Preset(IdGenerator):
            """The ids skylet made for the span being started, else random ones."""

            trace_id = 0
            span_id = 0

            def generate_span_id(self) -> int:
                span_id, self.span_id = self.span_id, 0
                return span_id or random.getrandbits(64) or 1

            def generate_trace_id(self) -> int:
                trace_id, self.trace_id = self.trace_id, 0
                return trace_id or random.getrandbits(128) or 1

        self._ids = Preset()
        self._provider = TracerProvider(
            resource=Resource.create({"service.name": config.service_name}),
            id_generator=self._ids,
        )
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("skylet")
        self._account_id = account_id
        self._region_of = region_of
        self._arn_of = arn_of

    def completed(self, record: InvocationRecord) -> None:
        own = record.trace
        if own is None or not own.sampled:
            return
        from opentelemetry import trace
        from opentelemetry.context import Context
        from opentelemetry.trace import SpanKind, Status, StatusCode

        parent = record.parent
        context = Context()
        if parent is not None:
            remote = trace.SpanContext(
                parent.trace_id,
                parent.span_id,
                is_remote=True,
                trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
            )
            context = trace.set_span_in_context(trace.NonRecordingSpan(remote), context)
        report = record.report
        started_ns = int(record.started * 1e9)
        ended_ns = time.time_ns()
        region = self._region_of(record.function)
        attributes: dict[str, Any] = {
            "faas.invocation_id": record.request_id,
            "faas.trigger": record.trigger,
            "faas.coldstart": record.cold,
            "faas.name": record.function,
            "faas.version": record.version,
            "faas.max_memory": report.memory_mb * 1024 * 1024,
            "cloud.provider": "aws",
            "cloud.platform": "aws_lambda",
            "cloud.region": region,
            "cloud.account.id": self._account_id,
            "cloud.resource_id": self._arn_of(record.function, record.qualifier),
        }
        self._ids.trace_id, self._ids.span_id = own.trace_id, own.span_id
        span = self._tracer.start_span(
            record.function,
            context=context,
            kind=SpanKind.SERVER,
            attributes=attributes,
            start_time=started_ns,
        )
        if record.cold and report.init_ms is not None:
            init = self._tracer.start_span(
                "init",
                context=trace.set_span_in_context(span, Context()),
                kind=SpanKind.INTERNAL,
                attributes={"faas.coldstart": True, "faas.name": record.function},
                start_time=started_ns,
            )
            init.end(started_ns + int(report.init_ms * 1e6))
        if record.error_type is not None:
            description = record.error_type
            if record.error_message:
                description = f"{record.error_type}: {record.error_message}"
            span.set_attribute("error.type", record.error_type)
            span.set_status(Status(StatusCode.ERROR, description))
        span.end(ended_ns)

    def shutdown(self) -> None:
        """Export what is batched, then stop (blocks: call it off the event loop)."""
        self._provider.shutdown()
