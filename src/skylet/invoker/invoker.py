"""Synchronous invocation: admission, the pool, enforcement outcomes mapped to Lambda's.

``Invoker.invoke`` is the one path every trigger uses (Invoke API, HTTP routes, event sources).
It returns a result; it raises only ``ApiError`` for requests Lambda refuses before running
anything (unknown function, throttled).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.errors import InvalidRequestContent, ResourceNotFound, TooManyRequests
from skylet.ids import new_request_id
from skylet.invoker import report as rep
from skylet.invoker.admission import Load, throttle_reason
from skylet.invoker.hooks import InvocationHook, InvocationRecord
from skylet.observe.logs import LogBook
from skylet.pool.pool import FunctionPool
from skylet.pool.zygote import ZygoteClient
from skylet.wire.invocation import Deliver, InvokeRequest, RawOutcome, resolving

#: Lambda's synchronous response limit: 6 MB plus 100 bytes of envelope, as its error says.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
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


class Pending(NamedTuple):
    """An invocation :meth:`Invoker.start` admitted."""

    fn: FunctionConfig
    request_id: str
    started: float  # epoch seconds


class Invoker:
    def __init__(
        self,
        settings: RuntimeSettings,
        zygote: ZygoteClient,
        logs: LogBook,
        hooks: Iterable[InvocationHook] = (),
    ) -> None:
        self.settings = settings
        self.logs = logs
        self._zygote = zygote
        self._hooks = list(hooks)
        self._pools: dict[str, FunctionPool] = {}
        self._aliases: dict[str, str] = {}
        self._in_flight: dict[str, int] = {}
        self._unreserved_in_flight = 0
        self._reserved_total = 0
        self._retiring: dict[asyncio.Task[None], FunctionPool] = {}
        self._arns: dict[tuple[str, str | None], str] = {}

    # -- deployment -------------------------------------------------------------------------

    async def deploy(self, functions: Iterable[FunctionConfig]) -> None:
        """Make exactly these functions current. A changed function gets a fresh pool; its old
        instances finish what they are running and retire."""
        wanted = {fn.name: fn for fn in functions}
        retiring = []
        for name, pool in list(self._pools.items()):
            if wanted.get(name) != pool.fn:
                retiring.append(self._pools.pop(name))
        for name, fn in wanted.items():
            if name not in self._pools:
                pool = FunctionPool(fn, self.settings, self._zygote)
                self._pools[name] = pool
                await pool.start()
        self._aliases = {alias: fn.name for fn in wanted.values() for alias in fn.aliases}
        self._reserved_total = sum(p.fn.reserved_concurrency or 0 for p in self._pools.values())
        for pool in retiring:
            # In the background: a redeploy takes effect at once, old invocations run to the end.
            task = asyncio.create_task(pool.aclose(grace_s=max(pool.fn.timeout_s, 1.0)))
            self._retiring[task] = pool
            task.add_done_callback(self._retiring.pop)

    def code_dirs(self) -> set[Path]:
        """The code directories of every version that may still run, retiring ones included."""
        pools = [*self._pools.values(), *self._retiring.values()]
        return {pool.fn.code_dir for pool in pools}

    def functions(self) -> list[FunctionConfig]:
        return [p.fn for p in self._pools.values()]

    def pool(self, name: str) -> FunctionPool:
        pool = self._pools.get(name) or self._pools.get(self._aliases.get(name, ""))
        if pool is None:
            raise ResourceNotFound(f"Function not found: {self.settings.function_arn(name)}")
        return pool

    def reap(self) -> int:
        return sum(p.reap() for p in self._pools.values())

    async def aclose(self, grace_s: float = 10.0) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose(grace_s=grace_s)
        if self._retiring:
            await asyncio.gather(*self._retiring)

    # -- invocation -------------------------------------------------------------------------

    async def invoke(
        self,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> InvocationResult:
        outcome: asyncio.Future[RawOutcome] = asyncio.get_running_loop().create_future()
        pending = self.start(
            name,
            payload,
            resolving(outcome),
            qualifier=qualifier,
            client_context=client_context,
            request_id=request_id,
        )
        return self.finish(pending, await outcome)

    def start(
        self,
        name: str,
        payload: bytes,
        then: Deliver,
        *,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        request_id: str | None = None,
        http: dict[str, Any] | None = None,
    ) -> Pending:
        """Admit one invocation and hand it to its pool: :meth:`invoke` in two halves, for the
        HTTP path, which takes the outcome in ``then`` (no future, no coroutine per request;
        when ``then`` is called: skylet.pool.instance.Invocation), then calls :meth:`finish`.
        ``http``: the request from an HTTP route (skylet.wire.http.encode), ``payload`` its
        body; the outcome then carries the response. Raises, and never calls ``then``, when
        the invocation is refused."""
        pool = self._pools.get(name) or self.pool(name)
        fn = pool.fn
        name = fn.name
        if qualifier is not None and qualifier not in ("$LATEST", fn.version):
            raise ResourceNotFound(
                f"Function not found: {self.settings.function_arn(name, qualifier)}"
            )
        reserved = fn.reserved_concurrency
        in_flight = self._in_flight.get(name, 0)
        reason = throttle_reason(
            Load(in_flight, self._unreserved_in_flight),
            reserved=reserved,
            platform_limit=self.settings.max_concurrency,
            reserved_total=self._reserved_total,
        )
        if reason is not None:
            for hook in self._hooks:
                hook.throttled(fn)
            raise TooManyRequests("Rate Exceeded.", reason=reason)
        request_id = request_id or new_request_id()
        request = InvokeRequest(
            request_id, payload, self._arn(name, qualifier), client_context, http=http
        )
        self._in_flight[name] = in_flight + 1
        if reserved is None:
            self._unreserved_in_flight += 1
        started = time.time()
        # The slot is held until the instance is done, even if the caller stops waiting.
        pool.submit(request, fn.timeout_s, then, lambda: self._done(name, reserved))
        return Pending(fn, request_id, started)

    def finish(self, pending: Pending, outcome: RawOutcome) -> InvocationResult:
        """The result of an invocation :meth:`start` began, once its outcome is known."""
        if outcome.kind == "bad_payload":
            raise InvalidRequestContent(outcome.message)
        fn, request_id = pending.fn, pending.request_id
        result, error_type = self._settle(fn, request_id, outcome, outcome.cold)
        self.logs.add(result.invocation_log)
        if self._hooks:
            record = InvocationRecord(
                function=fn.name,
                request_id=request_id,
                started=pending.started,
                cold=outcome.cold,
                error_type=error_type,
                report=result.invocation_log.report,
            )
            for hook in self._hooks:
                hook.completed(record)
        return result

    def _arn(self, name: str, qualifier: str | None) -> str:
        key = (name, qualifier)
        arn = self._arns.get(key)
        if arn is None:
            arn = self._arns[key] = self.settings.function_arn(name, qualifier)
        return arn

    def _done(self, name: str, reserved: int | None) -> None:
        self._in_flight[name] -= 1
        if reserved is None:
            self._unreserved_in_flight -= 1

    def _settle(
        self, fn: FunctionConfig, request_id: str, outcome: RawOutcome, cold: bool
    ) -> tuple[InvocationResult, str | None]:
        """Lambda's response payload, error marker and log text for one outcome, and its error
        type."""
        payload = outcome.body
        if outcome.kind == "ok" and len(payload) <= MAX_RESPONSE_BYTES:  # most invocations
            report = rep.Report(
                request_id,
                outcome.duration_ms,
                fn.memory_mb,
                outcome.max_rss_kb // 1024,
                outcome.init_ms if cold else None,
            )
            log = rep.InvocationLog(
                report,
                fn.version,
                outcome.output,
                outcome.dropped,
                function=fn.name,
                timestamp=time.time(),
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
            extra = rep.timeout_line(request_id, fn.timeout_s, time.time())
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
        elif len(payload) > MAX_RESPONSE_BYTES:
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
            timestamp=time.time(),
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
