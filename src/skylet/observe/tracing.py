"""OpenTelemetry traces of invocations, exported over OTLP/HTTP (docs/tracing.md).

A hook (skylet.invoker.hooks) registered in the composition root when tracing is on: each
invocation that completed becomes a span with OpenTelemetry's FaaS conventions (``faas.*``,
``cloud.*``), a cold start's init a child span of it. The ids are skylet's own, made when the
invocation was admitted (skylet.observe.trace_context), so the ``traceparent`` the function saw
names the span exported here. Spans are batched, encoded and exported by the SDK's
``BatchSpanProcessor`` and OTLP exporter in their own thread, never on the event loop.

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
    #: ``skylet``: skylet.observe.otlp's encoder (fast); ``sdk``: opentelemetry-python's own
    #: OTLP/HTTP exporter (``--otlp-exporter sdk``).
    exporter: str = "skylet"


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
    environ: Mapping[str, str], endpoint: str | None = None, exporter: str = "skylet"
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
        exporter,
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
    region (the invoker's), ``arn_of`` its ARN at the qualifier it was invoked with.

    A span is built finished (the SDK's ``ReadableSpan``: the invocation is over when the hook
    hears of it) and handed to the SDK's ``BatchSpanProcessor``, whose thread encodes and
    exports it. What describes the function (``faas.name``, ``faas.version``,
    ``faas.max_memory``, ``cloud.*``) is its span's resource, as OpenTelemetry's FaaS
    conventions put it: one per version, encoded once per export rather than once per span;
    what describes the invocation (``faas.invocation_id``, ``faas.trigger``,
    ``faas.coldstart``) is the span's."""

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
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        from skylet import __version__

        if exporter is None and config.exporter == "sdk":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=config.endpoint, headers=dict(config.headers), timeout=config.timeout_s
            )
        elif exporter is None:
            from skylet.observe.otlp import exporter as otlp_exporter

            exporter = otlp_exporter(config.endpoint, config.headers, config.timeout_s)
        self._processor = BatchSpanProcessor(exporter)

        class Described(Resource):
            """A resource whose hash is computed once: the exporter groups every span by its
            resource, and the SDK's hashes a JSON dump of the attributes each time."""

            def __init__(self, base: Resource) -> None:
                super().__init__(base.attributes, base.schema_url)
                self._hash = super().__hash__()

            def __hash__(self) -> int:
                return self._hash

            def __eq__(self, other: object) -> bool:
                return super().__eq__(other)

        self._described = Described
        self._base = Resource.create(
            {
                "service.name": config.service_name,
                "cloud.provider": "aws",
                "cloud.platform": "aws_lambda",
                "cloud.account.id": account_id,
            }
        )
        self._resources: dict[tuple[str, str, str | None, int], Any] = {}
        self._scope = InstrumentationScope("skylet", __version__)
        self._span = ReadableSpan
        self._context = SpanContext
        self._sampled = TraceFlags(TraceFlags.SAMPLED)
        self._server, self._internal = SpanKind.SERVER, SpanKind.INTERNAL
        self._status, self._error = Status, StatusCode.ERROR
        self._unset = Status(StatusCode.UNSET)
        self._region_of = region_of
        self._arn_of = arn_of

    def _resource(self, record: InvocationRecord) -> Any:
        """The resource of the version that ran, made once (bounded: one per deployed version
        and qualifier invoked)."""
        memory_mb = record.report.memory_mb
        key = (record.function, record.version, record.qualifier, memory_mb)
        resource = self._resources.get(key)
        if resource is None:
            from opentelemetry.sdk.resources import Resource

            if len(self._resources) >= 4096:  # functions redeployed over and over
                self._resources.clear()
            own = Resource(
                {
                    "faas.name": record.function,
                    "faas.version": record.version,
                    "faas.max_memory": memory_mb * 1024 * 1024,
                    "cloud.region": self._region_of(record.function),
                    "cloud.resource_id": self._arn_of(record.function, record.qualifier),
                }
            )
            resource = self._resources[key] = self._described(self._base.merge(own))
        return resource

    def completed(self, record: InvocationRecord) -> None:
        own = record.trace
        if own is None or not own.sampled:
            return
        span_context, sampled = self._context, self._sampled
        context = span_context(own.trace_id, own.span_id, False, sampled)
        parent = record.parent
        remote = (
            None if parent is None else span_context(parent.trace_id, parent.span_id, True, sampled)
        )
        report = record.report
        started_ns = int(record.started * 1e9)
        resource = self._resource(record)
        attributes: dict[str, Any] = {
            "faas.invocation_id": record.request_id,
            "faas.trigger": record.trigger,
            "faas.coldstart": record.cold,
        }
        status = None
        if record.error_type is not None:
            description = record.error_type
            if record.error_message:
                description = f"{record.error_type}: {record.error_message}"
            attributes["error.type"] = record.error_type
            status = self._status(self._error, description)
        span = self._span(
            record.function,
            context,
            remote,
            resource,
            attributes,
            kind=self._server,
            start_time=started_ns,
            end_time=time.time_ns(),
            instrumentation_scope=self._scope,
            status=status or self._unset,
        )
        self._processor.on_end(span)
        if record.cold and report.init_ms is not None:
            init_context = span_context(own.trace_id, random.getrandbits(64) or 1, False, sampled)
            init = self._span(
                "init",
                init_context,
                context,
                resource,
                {"faas.coldstart": True},
                kind=self._internal,
                start_time=started_ns,
                end_time=started_ns + int(report.init_ms * 1e6),
                instrumentation_scope=self._scope,
            )
            self._processor.on_end(init)

    def shutdown(self) -> None:
        """Export what is batched, then stop (blocks: call it off the event loop)."""
        self._processor.shutdown()  # type: ignore[no-untyped-call]
