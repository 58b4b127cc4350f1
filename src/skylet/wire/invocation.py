"""The values of one invocation between the invoker, the pool and whoever waits on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from skylet.wire.http import HttpResponse

OutcomeKind = Literal[
    "ok", "error", "timeout", "oom", "exited", "init_error", "bad_payload", "too_large"
]

#: Lambda's synchronous response limit: 6 MiB plus 100 bytes of envelope, as its error says
#: (``Function.ResponseSizeTooLarge``). An instance's answer is refused past it while it is read.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


@dataclass(slots=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    #: From an HTTP route: the request and its trigger (skylet.wire.http.encode), which the
    #: instance turns into the function's event; ``payload`` is then the request's body.
    http: dict[str, Any] | None = None
    #: The invocation's trace context: W3C ``traceparent`` and X-Ray's header, as the instance
    #: sets them (``TRACEPARENT``, ``_X_AMZN_TRACE_ID``) while it runs (docs/tracing.md).
    trace: tuple[str, str] | None = None


@dataclass(slots=True)
class RawOutcome:
    """What happened to one invocation in one instance, before any API maps it."""

    kind: OutcomeKind
    body: bytes = b""
    duration_ms: float = 0.0
    max_rss_kb: int = 0
    output: bytes = b""
    dropped: int = 0
    init_ms: float | None = None
    #: Restored from a snapshot instead (Lambda SnapStart): how long, and the hooks' share.
    restore_ms: float | None = None
    restore_hooks_ms: float = 0.0
    message: str = ""
    error: dict[str, Any] | None = field(default=None)
    cold: bool = False  # the invocation started its instance
    #: It ran on a provisioned instance (billed at provisioned concurrency's duration rate).
    provisioned: bool = False
    #: For an ``http`` invocation that returned: the response the instance framed (its body is
    #: ``body``), or None and why API Gateway would refuse the result (``malformed``).
    response: HttpResponse | None = None
    malformed: str = ""
    #: The log stream of the instance that ran it (its ``AWS_LAMBDA_LOG_STREAM_NAME``).
    log_stream: str = ""


#: Takes an invocation's outcome: called once per invocation (skylet.pool.instance.Invocation).
Deliver = Callable[[RawOutcome], None]


def resolving(future: asyncio.Future[RawOutcome]) -> Deliver:
    """A ``deliver`` that resolves ``future``, unless whoever awaited it gave up (cancelled)."""

    def deliver(outcome: RawOutcome) -> None:
        if not future.done():
            future.set_result(outcome)

    return deliver
