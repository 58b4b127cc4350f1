"""An invocation's outcome mapped to Lambda's: the response payload, the error marker
(``X-Amz-Function-Error``), the error type and the log lines. Pure, with the clock passed in."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from skylet.config import FunctionConfig
from skylet.invoker import report as rep
from skylet.wire.invocation import MAX_RESPONSE_BYTES, RawOutcome

TAIL_BYTES = 4096


@dataclass(slots=True)
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as X-Amz-Function-Error
    executed_version: str
    cold: bool
    invocation_log: rep.InvocationLog  # rendered only when read (``log``)

    @property
    def log(self) -> str:
        """The invocation's log text: START, output, END, REPORT."""
        return self.invocation_log.text

    def log_tail_b64(self) -> str:
        """The last 4 KB of the invocation's log, base64, for X-Amz-Log-Result."""
        return base64.b64encode(self.log.encode()[-TAIL_BYTES:]).decode()


def settle(
    fn: FunctionConfig, request_id: str, outcome: RawOutcome, now: float
) -> tuple[InvocationResult, str | None]:
    """Lambda's response payload, error marker and log text for one outcome, and its error
    type (None when the function succeeded). ``now``: epoch seconds, the log's time. Pure."""
    cold = outcome.cold
    payload = outcome.body
    if outcome.kind == "ok":  # most invocations
        report = rep.Report(
            request_id,
            outcome.duration_ms,
            fn.memory_mb,
            outcome.max_rss_kb // 1024,
            outcome.init_ms if cold else None,
            restore_ms=outcome.restore_ms if cold else None,
            restore_hooks_ms=outcome.restore_hooks_ms,
        )
        log = rep.InvocationLog(
            report,
            fn.version,
            outcome.output,
            outcome.dropped,
            function=fn.name,
            timestamp=now,
            logging=fn.logging,
            stream=outcome.log_stream,
        )
        return InvocationResult(request_id, payload, None, fn.version, cold, log), None
    error_type: str | None = None
    status: str | None = None
    extra = ""
    duration_ms = outcome.duration_ms
    if outcome.kind == "error":
        error_type = json.loads(payload).get("errorType")
    elif outcome.kind == "init_error":
        assert outcome.error is not None
        error_type = outcome.error["errorType"]
        payload = json.dumps(outcome.error).encode()
        status = "error"
    elif outcome.kind == "timeout":
        error_type, status = "Sandbox.Timedout", "timeout"
        duration_ms = fn.timeout_s * 1000
        payload = _lambda_error(
            error_type,
            f"RequestId: {request_id} Error: Task timed out after {fn.timeout_s:.2f} seconds",
        )
        extra = rep.timeout_line(request_id, fn.timeout_s, now)
    elif outcome.kind == "oom":
        error_type, status = "Runtime.OutOfMemory", "error"
        message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
        payload = _lambda_error(error_type, message)
        extra = f"{message}\n{error_type}\n"
    elif outcome.kind == "exited":
        error_type, status = "Runtime.ExitError", "error"
        message = f"RequestId: {request_id} Error: {outcome.message}"
        payload = _lambda_error(error_type, message)
        extra = f"{message}\n{error_type}\n"
    elif outcome.kind == "too_large":  # refused while it was read (skylet.pool.channel)
        error_type = "Function.ResponseSizeTooLarge"
        payload = _lambda_error(
            error_type,
            "Response payload size exceeded maximum allowed payload size "
            f"({MAX_RESPONSE_BYTES} bytes).",
        )
    max_used = outcome.max_rss_kb // 1024 if outcome.kind != "oom" else fn.memory_mb
    report = rep.Report(
        request_id,
        duration_ms,
        fn.memory_mb,
        max_used,
        init_ms=outcome.init_ms if cold else None,
        restore_ms=outcome.restore_ms if cold else None,
        restore_hooks_ms=outcome.restore_hooks_ms,
        status=status,
        error_type=error_type if status == "error" else None,
    )
    # Rendered when someone reads it (a Tail, `skylet logs`): most logs never are.
    log = rep.InvocationLog(
        report,
        fn.version,
        outcome.output,
        outcome.dropped,
        extra,
        function=fn.name,
        timestamp=now,
        logging=fn.logging,
        stream=outcome.log_stream,
    )
    result = InvocationResult(
        request_id,
        payload,
        "Unhandled" if error_type else None,
        fn.version,
        cold,
        log,
    )
    return result, error_type


def _lambda_error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()
