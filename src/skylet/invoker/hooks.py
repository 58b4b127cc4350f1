"""Cross-cutting policy around invocations (console lines, metrics, tracing) as small hooks.

A hook subclasses :class:`InvocationHook` and overrides what it needs; every method is a no-op
by default, so a hook written today keeps working when a method is added. The composition root
registers hooks in one :class:`Hooks`, which the invoker and the HTTP routes call. A hook runs
on the event loop, on the request's path: it must not block, and what it raises is logged and
swallowed (a console line must never fail a request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from skylet.config import FunctionConfig
from skylet.invoker.report import Report
from skylet.observe.trace_context import TraceContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    function: str
    request_id: str
    started: float  # epoch seconds
    cold: bool
    error_type: str | None
    report: Report
    #: What the function printed (fd 1 and 2, at most the output cap), as it printed it.
    output: bytes = b""
    #: The error's message (``errorMessage``), when ``error_type`` is set.
    error_message: str | None = None
    #: The version that ran (``$LATEST`` or a number), and the qualifier the caller named.
    version: str = "$LATEST"
    qualifier: str | None = None
    #: The function's architecture (x86_64 or arm64), for metering.
    architecture: str = "x86_64"
    #: It ran on a provisioned instance.
    provisioned: bool = False
    #: The invocation's span and its caller's (docs/tracing.md), and ``faas.trigger``.
    trace: TraceContext | None = None
    parent: TraceContext | None = None
    trigger: str = "other"


class AsyncSettled(NamedTuple):
    """One asynchronous event the dispatcher settled (or put back for a retry)."""

    function: str
    #: Seconds from its enqueueing to its settling.
    age_s: float
    #: ``succeeded``, ``failed``, ``discarded`` (too old), or ``retried``.
    outcome: str
    #: Records sent for it: (``destination`` or ``dead_letter``, whether it was taken).
    deliveries: tuple[tuple[str, bool], ...] = ()


class RequestLine(NamedTuple):
    """One HTTP request a function route answered, or that no route took (``function`` is
    then ""): a named tuple, as one is made per request."""

    method: str
    path: str
    status: int
    duration_ms: float
    function: str
    cold: bool | None  # None: no instance ran (preflight, throttled, too large)


class InvocationHook:
    """Called around invocations; override what you need."""

    def completed(self, record: InvocationRecord) -> None:
        """An invocation ended (successfully or not) and was recorded."""

    def throttled(self, fn: FunctionConfig) -> None:
        """An invocation of ``fn`` (the version asked for) was refused for concurrency (429)."""

    def http_request(self, line: RequestLine) -> None:
        """A function route (or its CORS preflight) answered an HTTP request, or no route
        took it (API Gateway's 404)."""

    def async_settled(self, event: AsyncSettled) -> None:
        """The dispatcher settled an asynchronous event, or scheduled its retry."""


class Hooks:
    """The hooks registered in the composition root, called in the order added."""

    def __init__(self, hooks: Iterable[InvocationHook] = ()) -> None:
        self._hooks = list(hooks)

    def add(self, hook: InvocationHook) -> None:
        self._hooks.append(hook)

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def completed(self, record: InvocationRecord) -> None:
        self._each("completed", record)

    def throttled(self, fn: FunctionConfig) -> None:
        self._each("throttled", fn)

    def http_request(self, line: RequestLine) -> None:
        self._each("http_request", line)

    def async_settled(self, event: AsyncSettled) -> None:
        self._each("async_settled", event)

    def _each(self, method: str, value: object) -> None:
        for hook in self._hooks:
            try:
                getattr(hook, method)(value)
            except Exception:
                logger.exception("%s hook %r", method, hook)
