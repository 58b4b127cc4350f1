"""Synchronous invocation: admission, the pool, enforcement outcomes mapped to Lambda's.

``Invoker.invoke`` is the one path every trigger uses (Invoke API, HTTP routes, event sources).
It returns a result; it raises only ``ApiError`` for requests Lambda refuses before running
anything (unknown function, throttled).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.errors import InvalidRequestContent, ResourceNotFound, TooManyRequests
from skylet.ids import new_request_id
from skylet.invoker.admission import Load, throttle_reason
from skylet.invoker.hooks import Hooks, InvocationRecord
from skylet.invoker.report import InitLog
from skylet.invoker.results import InvocationResult, settle
from skylet.invoker.versions import LATEST, PublishedVersion, VersionTable
from skylet.observe.logs import LogBook
from skylet.observe.trace_context import CURRENT, INHERIT, TraceContext
from skylet.pool.invocation import InitFailure
from skylet.pool.pool import FunctionPool, PoolStats
from skylet.pool.provisioning import ACTIVE, FunctionState
from skylet.pool.sandbox import SandboxReport
from skylet.pool.zygote import Status, ZygoteClient
from skylet.pool.zygotes import Zygotes
from skylet.wire.invocation import Deliver, InvokeRequest, RawOutcome, resolving

logger = logging.getLogger(__name__)


class Pending(NamedTuple):
    """An invocation :meth:`Invoker.start` admitted."""

    fn: FunctionConfig
    request_id: str
    started: float  # epoch seconds
    qualifier: str | None = None
    #: The invocation's span (docs/tracing.md), its caller's, and what triggered it.
    trace: TraceContext | None = None
    parent: TraceContext | None = None
    trigger: str = "other"


class UpdateStatus(NamedTuple):
    """Lambda's LastUpdateStatus of a function, with its reason and reason code."""

    status: Literal["Successful", "InProgress", "Failed"]
    reason: str | None = None
    reason_code: str | None = None


_SUCCESSFUL = UpdateStatus("Successful")


class FunctionStatus(NamedTuple):
    state: FunctionState
    last_update: UpdateStatus


#: A published version's: it is immutable, so never updated, and ready to start instances.
PUBLISHED_STATUS = FunctionStatus(ACTIVE, _SUCCESSFUL)


class _Observer:
    """The invoker's side of its pools' events (skylet.pool.pool.PoolEvents)."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    def init_failed(self, pool: FunctionPool, failure: InitFailure) -> None:
        self._invoker._init_failed(pool, failure)

    def state_changed(self, pool: FunctionPool) -> None:
        self._invoker._settled(pool)


class RuntimeHealth(NamedTuple):
    status: Status
    restarts: int


class Invoker:
    def __init__(
        self,
        settings: RuntimeSettings,
        zygote: ZygoteClient | Zygotes,
        logs: LogBook,
        hooks: Hooks | None = None,
    ) -> None:
        self.settings = settings
        self.logs = logs
        #: One zygote per interpreter (a single client: the platform's own interpreter only);
        #: ``_zygote`` is the platform's own interpreter's, whose health ``/health`` reports.
        self._zygotes = zygote if isinstance(zygote, Zygotes) else Zygotes(default=zygote)
        self._zygote = self._zygotes.default
        self.hooks = hooks if hooks is not None else Hooks()
        self._pools: dict[str, FunctionPool] = {}
        self._aliases: dict[str, str] = {}
        self._in_flight: dict[str, int] = {}
        self._unreserved_in_flight = 0
        self._reserved_total = 0
        self._retiring: dict[asyncio.Task[None], FunctionPool] = {}
        #: Updates whose provisioned instances are warming, by name; the old version serves.
        self._pending: dict[str, FunctionPool] = {}
        self._updates: dict[str, UpdateStatus] = {}
        #: The configuration of each function's last update whose init failed: deploying it
        #: again (a reload that changed nothing about it) does not retry it.
        self._failed: dict[str, FunctionConfig] = {}
        #: When each function's configuration or code last changed (epoch seconds).
        self._modified: dict[str, float] = {}
        self._observer = _Observer(self)
        self._arns: dict[tuple[str, str | None, str], str] = {}
        #: Published versions and aliases (the Lambda API keeps them); their pools, by
        #: (name, version), started on a version's first invocation.
        self.versions = VersionTable()
        self._published: dict[tuple[str, str], FunctionPool] = {}

    # -- deployment -------------------------------------------------------------------------

    async def deploy(self, functions: Iterable[FunctionConfig]) -> None:
        """Make exactly these functions current, without waiting on any of them. A changed
        function gets a fresh pool; its old instances finish what they are running and retire.

        A changed function with provisioned instances keeps its old version serving until the
        new one's are ready (``lastUpdateStatus`` InProgress, then Successful); if their init
        fails, the update is abandoned and the old version serves on (Failed, with the init's
        error as the reason), as a Lambda update does. Deploying the running version again
        (a revert) abandons an update still in progress."""
        wanted = {fn.name: fn for fn in functions}
        for name in [n for n in self._pools if n not in wanted]:
            self._retire(self._pools.pop(name))
            self._abandon(name)
            self._updates.pop(name, None)
            self._failed.pop(name, None)
        for name, fn in wanted.items():
            current = self._pools.get(name)
            if current is not None and current.fn == fn:
                if self._abandon(name) or self._failed.pop(name, None) is not None:  # revert
                    self._updates[name] = _SUCCESSFUL
                continue
            pending = self._pending.get(name)
            if pending is not None and pending.fn == fn:
                continue  # already warming
            if self._failed.get(name) == fn:
                continue  # failed as it is; it is tried again when it changes
            self._abandon(name)
            self._failed.pop(name, None)
            self._modified[name] = time.time()
            zygote = self._zygotes.for_runtime(fn.runtime)
            pool = FunctionPool(fn, self.settings, zygote, self._observer)
            if current is None or not fn.provisioned_concurrency:
                self._pools[name] = pool
                if current is not None:
                    self._retire(current)
                    self._updates[name] = _SUCCESSFUL
            else:
                self._pending[name] = pool
                self._updates[name] = UpdateStatus("InProgress")
            pool.start()
        self._aliases = {alias: fn.name for fn in wanted.values() for alias in fn.aliases}
        self._count_reserved()

    def deploy_variant(self, fn: FunctionConfig) -> None:
        """Deploy ``fn`` beside the current functions, which stay as they are (the sizes
        ``skylet tune`` runs); :meth:`retire_variant` removes it. A redeploy, which makes
        exactly the manifest's functions current, retires it too."""
        if fn.name in self._pools or fn.name in self._aliases:
            raise InvalidRequestContent(f"Function already exists: {fn.name}")
        self._modified[fn.name] = time.time()
        pool = self._pools[fn.name] = FunctionPool(fn, self.settings, self._zygote, self._observer)
        pool.start()

    def retire_variant(self, name: str) -> None:
        """Retire a variant :meth:`deploy_variant` deployed; its running invocations finish."""
        pool = self._pools.pop(name, None)
        if pool is not None:
            self._retire(pool)
            self._modified.pop(name, None)

    def _count_reserved(self) -> None:
        self._reserved_total = sum(p.fn.reserved_concurrency or 0 for p in self._pools.values())

    def _abandon(self, name: str) -> bool:
        """Drop the update of ``name`` still warming, if any; whether there was one."""
        pending = self._pending.pop(name, None)
        if pending is not None:
            self._retire(pending)
        return pending is not None

    def _retire(self, pool: FunctionPool) -> None:
        # In the background: a redeploy takes effect at once, old invocations run to the end.
        task = asyncio.create_task(pool.aclose(grace_s=max(pool.fn.timeout_s, 1.0)))
        self._retiring[task] = pool
        task.add_done_callback(self._retiring.pop)

    def _settled(self, pool: FunctionPool) -> None:
        """A pool's state changed: an update whose instances are ready replaces the version
        that ran; one whose init failed is abandoned, and the old version serves on."""
        name = pool.fn.name
        state = pool.state
        if self._pending.get(name) is not pool or state.state == "Pending":
            return
        del self._pending[name]
        if state.state == "Active":
            self._retire(self._pools[name])
            self._pools[name] = pool
            self._updates[name] = _SUCCESSFUL
            self._count_reserved()
        else:
            self._updates[name] = UpdateStatus("Failed", state.reason, state.reason_code)
            self._failed[name] = pool.fn
            self._retire(pool)
            logger.error(
                "%s: the new version did not start (%s); the previous one keeps serving",
                name,
                state.reason,
            )

    def _init_failed(self, pool: FunctionPool, failure: InitFailure) -> None:
        fn = pool.fn
        entry = InitLog(
            fn.name,
            failure.output,
            failure.init_ms,
            failure.status,
            failure.error_type if failure.status == "error" else None,
            timestamp=time.time(),
            logging=fn.logging,
        )
        self.logs.add(entry)
        logger.error("%s: init failed: %s: %s", fn.name, failure.error_type, failure.message)

    def status(self, name: str) -> FunctionStatus:
        """A function's state (its pool's, Lambda's State), and how its last update went."""
        pool = self._pool(name)
        return FunctionStatus(pool.state, self._updates.get(pool.fn.name, _SUCCESSFUL))

    def last_modified(self, name: str) -> float:
        """When the function's ``$LATEST`` last changed, configuration or code (epoch seconds)."""
        return self._modified[self._pool(name).fn.name]

    def code_dirs(self) -> set[Path]:
        """The code directories of every version that may still run: retiring ones and those
        still warming included."""
        pools = [
            *self._pools.values(),
            *self._pending.values(),
            *self._retiring.values(),
            *self._published.values(),
        ]
        return {pool.fn.code_dir for pool in pools}

    def functions(self) -> list[FunctionConfig]:
        return [p.fn for p in self._pools.values()]

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        """The deployed function a name (or another name of it) names, at a qualifier: its
        ``$LATEST``, a published version, or an alias's own version; ResourceNotFound
        otherwise."""
        fn = self._pool(name).fn
        if qualifier is None or qualifier == fn.version:
            return fn
        published = self.published_version(fn, qualifier)
        return fn if published is None else published.config

    def stats(self, name: str) -> PoolStats:
        """How many instances a function has now, and how its invocations were placed."""
        return self._pool(name).stats()

    def scale_to_zero(self, name: str) -> int:
        """Retire every idle instance of a function now, provisioned ones excepted, as if its
        keep-alive had passed; returns how many retired."""
        return self._pool(name).reap(now=math.inf)

    def runtime(self) -> RuntimeHealth:
        """Whether instances can be started now (``/health``): the zygote's status ("up",
        "restarting", "down", …) and how many times it was replaced."""
        return RuntimeHealth(self._zygote.status, self._zygote.restarts)

    def function_of_uid(self, uid: int) -> str | None:
        """The function whose instances run as ``uid`` (skylet is root), or None."""
        return self._zygote.policy.function_of_uid(uid)

    def sandbox(self) -> SandboxReport:
        """Which protections each function's sandbox has (``/health``, the banner)."""
        return self._zygote.policy.report()

    def reap(self) -> int:
        """Retire the idle instances whose keep-alive has passed, of every function."""
        pools = [*self._pools.values(), *self._published.values()]
        return sum(p.reap() for p in pools)

    def _pool(self, name: str) -> FunctionPool:
        pool = self._pools.get(name) or self._pools.get(self._aliases.get(name, ""))
        if pool is None:
            raise ResourceNotFound(f"Function not found: {self.function_arn(name)}")
        return pool

    async def aclose(self, grace_s: float = 10.0) -> None:
        for name in list(self._pending):
            self._abandon(name)
        pools = [*self._pools.values(), *self._published.values()]
        self._pools, self._published = {}, {}
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
        trace: TraceContext | None = INHERIT,
        trigger: str = "other",
    ) -> InvocationResult:
        outcome: asyncio.Future[RawOutcome] = asyncio.get_running_loop().create_future()
        pending = self.start(
            name,
            payload,
            resolving(outcome),
            qualifier=qualifier,
            client_context=client_context,
            request_id=request_id,
            trace=trace,
            trigger=trigger,
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
        trace: TraceContext | None = INHERIT,
        trigger: str = "other",
    ) -> Pending:
        """Admit one invocation and hand it to its pool: :meth:`invoke` in two halves, for the
        HTTP path, which takes the outcome in ``then`` (no future, no coroutine per request;
        when ``then`` is called: skylet.pool.instance.Invocation), then calls :meth:`finish`.
        ``http``: the request from an HTTP route (skylet.wire.http.encode), ``payload`` its
        body; the outcome then carries the response. Raises, and never calls ``then``, when
        the invocation is refused. ``trace``: the caller's trace context (None: there is none),
        by default the one being handled (``CURRENT``); the invocation is a new span in it, or
        a new trace's root.
        ``trigger``: OpenTelemetry's ``faas.trigger`` (http, pubsub, datasource, timer, other)."""
        pool = self._pools.get(name) or self._pool(name)
        fn = pool.fn
        name = fn.name
        # Reserved concurrency is the function's, shared by all its versions, as Lambda's.
        reserved = fn.reserved_concurrency
        if qualifier is not None and qualifier != fn.version:
            pool = self._qualified(pool, qualifier)
            fn = pool.fn
        in_flight = self._in_flight.get(name, 0)
        reason = throttle_reason(
            Load(in_flight, self._unreserved_in_flight),
            reserved=reserved,
            platform_limit=self.settings.max_concurrency,
            reserved_total=self._reserved_total,
        )
        if reason is not None:
            self.hooks.throttled(fn)
            raise TooManyRequests("Rate Exceeded.", reason=reason)
        request_id = request_id or new_request_id()
        parent = CURRENT.get() if trace is INHERIT else trace
        own = parent.child() if parent is not None else TraceContext.new()
        request = InvokeRequest(
            request_id,
            payload,
            self._arn(fn, qualifier),
            client_context,
            http=http,
            trace=(own.traceparent, own.xray),
        )
        self._in_flight[name] = in_flight + 1
        if reserved is None:
            self._unreserved_in_flight += 1
        started = time.time()
        # The slot is held until the instance is done, even if the caller stops waiting.
        pool.submit(request, fn.timeout_s, then, lambda: self._done(name, reserved))
        return Pending(fn, request_id, started, qualifier, own, parent, trigger)

    def _qualified(self, latest: FunctionPool, qualifier: str) -> FunctionPool:
        """The pool that runs an invocation of ``name:qualifier``: a published version's
        (started on its first invocation), or ``$LATEST``'s; an alias picks its version."""
        published = self.published_version(latest.fn, qualifier, random.random())
        if published is None:
            return latest
        key = (latest.fn.name, published.number)
        pool = self._published.get(key)
        if pool is None:
            zygote = self._zygotes.for_runtime(published.config.runtime)
            pool = FunctionPool(published.config, self.settings, zygote, self._observer)
            self._published[key] = pool
            pool.start()
        return pool

    def published_version(
        self, fn: FunctionConfig, qualifier: str, draw: float = 1.0
    ) -> PublishedVersion | None:
        """The published version ``fn.name:qualifier`` runs for ``draw`` (an alias's weighted
        choice; 1.0: the alias's own version), ``None`` for ``$LATEST``; ResourceNotFound when
        the qualifier names nothing."""
        version = self.versions.resolve(fn.name, qualifier, draw)
        if version == LATEST:
            return None
        published = None if version is None else self.versions.version(fn.name, version)
        if published is None:
            raise ResourceNotFound(f"Function not found: {self._arn(fn, qualifier)}")
        return published

    def finish(self, pending: Pending, outcome: RawOutcome) -> InvocationResult:
        """The result of an invocation :meth:`start` began, once its outcome is known."""
        if outcome.kind == "bad_payload":
            raise InvalidRequestContent(outcome.message)
        fn, request_id = pending.fn, pending.request_id
        result, error_type = settle(fn, request_id, outcome, time.time())
        self.logs.add(result.invocation_log)
        if self.hooks:
            record = InvocationRecord(
                function=fn.name,
                request_id=request_id,
                started=pending.started,
                cold=outcome.cold,
                error_type=error_type,
                report=result.invocation_log.report,
                output=outcome.output,
                error_message=_error_message(result.payload) if error_type else None,
                version=fn.version,
                qualifier=pending.qualifier,
                architecture=fn.architecture,
                provisioned=outcome.provisioned,
                trace=pending.trace,
                parent=pending.parent,
                trigger=pending.trigger,
            )
            self.hooks.completed(record)
        return result

    @property
    def region(self) -> str:
        """The region the deployed functions run in (one manifest names one), else the
        platform's."""
        for pool in self._pools.values():
            return pool.fn.region
        return self.settings.region

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        """The ARN of function ``name`` in its region (the platform's for one not deployed)."""
        pool = self._pools.get(name) or self._pools.get(self._aliases.get(name, ""))
        if pool is None:
            return self.settings.function_arn(name, qualifier)
        return self._arn(pool.fn, qualifier)

    def _arn(self, fn: FunctionConfig, qualifier: str | None) -> str:
        key = (fn.name, qualifier, fn.region)
        arn = self._arns.get(key)
        if arn is None:
            arn = self._arns[key] = self.settings.function_arn(fn.name, qualifier, region=fn.region)
        return arn

    def in_flight(self) -> Mapping[str, int]:
        """Invocations running now, by function (every version's together), read-only."""
        return MappingProxyType(self._in_flight)

    def _done(self, name: str, reserved: int | None) -> None:
        self._in_flight[name] -= 1
        if reserved is None:
            self._unreserved_in_flight -= 1


def _error_message(payload: bytes) -> str | None:
    """The ``errorMessage`` of a failed invocation's payload (for hooks), if it has one."""
    try:
        message = json.loads(payload).get("errorMessage")
    except (ValueError, AttributeError):
        return None
    return message if isinstance(message, str) else None
