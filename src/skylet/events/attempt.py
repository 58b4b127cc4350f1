"""One try of one event: run it through the invoker, then decide what comes next.

``attempt`` is the only place the dispatcher calls ``Invoker.invoke``. It turns what happened
(a result, a function error, a throttle, a platform failure) into a ``Settlement``: the event's
new envelope, the decision of ``retry`` and the response its records will show. It never
raises for anything the function or the platform did; the consumer settles every try.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from skylet.config import AsyncConfig
from skylet.errors import ApiError, ResourceNotFound, SkyletError
from skylet.events.context import Context
from skylet.events.destinations import Response
from skylet.events.envelope import Envelope, TryError
from skylet.events.retry import SUCCESS, after_invoke, before_invoke, classify
from skylet.events.settle import Settlement
from skylet.observe.trace_context import parse_traceparent


async def attempt(
    ctx: Context,
    function: str,
    config: AsyncConfig,
    envelope: Envelope,
    payload: bytes,
    started: Callable[[], None],
) -> Settlement:
    """Try ``envelope``'s event once (unless it is too old); ``started()`` is called just
    before the function is invoked."""
    early = before_invoke(envelope.enqueued_at, ctx.now(), config)
    if early is not None:
        return Settlement(envelope, payload, early)
    started()
    result, error = None, None
    try:
        result = await ctx.runner.invoke(
            function,
            payload,
            qualifier=envelope.qualifier,
            request_id=envelope.request_id,
            trace=parse_traceparent(envelope.trace),
        )
    except SkyletError as raised:
        error = raised
    if result is not None and result.function_error is None:
        # The path of nearly every event, kept short.
        response = Response(200, None, result.payload, result.executed_version)
        return Settlement(envelope.after_run(None), payload, SUCCESS, response)
    reserved = None
    with contextlib.suppress(ResourceNotFound):
        reserved = ctx.runner.function(function).reserved_concurrency
    decision = after_invoke(
        classify(result.function_error if result else None, error),
        enqueued_at=envelope.enqueued_at,
        now=ctx.now(),
        runs=envelope.runs + (result is not None),
        deferrals=envelope.deferrals,
        config=config,
        policy=ctx.settings.retry,
        reserved_concurrency=reserved,
        jitter=1.0 - ctx.jitter(),  # random() is [0, 1); the policy wants (0, 1]
    )
    if result is not None:
        response = Response(200, result.function_error, result.payload, result.executed_version)
        return Settlement(
            envelope.after_run(function_error(result.payload)), payload, decision, response
        )
    assert error is not None  # one of the two is always set
    failed = platform_error(error)
    return Settlement(envelope.after_deferral(failed), payload, decision, Response.of_error(failed))


def function_error(payload: bytes) -> TryError:
    """The error of a run that failed, from Lambda's error document (``errorType``,
    ``errorMessage``); a payload that is not one is kept as the message."""
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return TryError.of("Unhandled", payload.decode("utf-8", "replace"))
    error_type = str(document.get("errorType", "Unhandled"))
    return TryError.of(error_type, str(document.get("errorMessage", "")))


def platform_error(error: SkyletError) -> TryError:
    """The error of a try that did not run the function: its AWS code and HTTP status."""
    if isinstance(error, ApiError):
        message = error.message if error.reason is None else f"{error.message} ({error.reason})"
        return TryError.of(error.code, message, error.status)
    return TryError.of(type(error).__name__, str(error), 500)
