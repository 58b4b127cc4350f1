"""The platform's handle on one instance: cold start, one invocation at a time, enforcement.

The instance enforces nothing; this handle does. A timeout or a memory overrun kills the
instance's whole process group (so children it started die with it) and the pool replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from skylet.functions import FunctionConfig, RuntimeSettings
from skylet.pool.channel import Channel, OutputReader
from skylet.pool.environment import lambda_environment
from skylet.pool.zygote import Spare, ZygoteClient, describe_exit
from skylet.worker import protocol

OutcomeKind = Literal["ok", "error", "timeout", "oom", "exited", "init_error", "bad_payload"]
State = Literal["starting", "idle", "busy", "dead"]

#: Lambda gives the init phase 10 s of its own before the invocation's timeout starts.
INIT_TIMEOUT_S = 10.0
#: How often a running invocation's resident memory is checked against its limit.
MEMORY_POLL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(slots=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None


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
    message: str = ""
    error: dict[str, Any] | None = field(default=None)


class InstanceHandle:
    """One instance process, seen from the platform's loop."""

    def __init__(
        self,
        fn: FunctionConfig,
        settings: RuntimeSettings,
        zygote: ZygoteClient,
        *,
        provisioned: bool = False,
        on_dead: Callable[[InstanceHandle], None] = lambda _: None,
        on_idle: Callable[[InstanceHandle], None] = lambda _: None,
    ) -> None:
        self.fn = fn
        self.provisioned = provisioned
        self.state: State = "starting"
        self.pid: int | None = None
        self.init_ms: float | None = None
        self.last_used = time.monotonic()
        self._settings = settings
        self._zygote = zygote
        self._on_dead = on_dead
        self._on_idle = on_idle
        self._loop = asyncio.get_running_loop()
        self._ready = False
        self._settled = asyncio.Event()  # set once init has finished or the instance died
        self._init_reported = False
        self._pending: asyncio.Future[RawOutcome] | None = None
        self._started = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._last_rss_kb = 0
        self._on_done: Callable[[], None] | None = None
        self._channel: Channel | None = None
        self._output: OutputReader | None = None
        self._limit_bytes = fn.memory_mb * 1024 * 1024
        self._spec: dict[str, Any] = {}
        self._queued: list[tuple[int, dict[str, Any], bytes]] = []
        self._timeout_s = fn.timeout_s

    def start(self) -> None:
        """Take a spare and send it the function's spec. Frames sent before the spare is
        attached are queued and follow the spec in order."""
        today = time.strftime("%Y/%m/%d", time.gmtime())
        log_stream = f"{today}/[{self.fn.version}]{secrets.token_hex(16)}"
        init_type = "provisioned-concurrency" if self.provisioned else "on-demand"
        self._spec = {
            "function_name": self.fn.name,
            "function_version": self.fn.version,
            "handler": self.fn.handler,
            "style": self.fn.style,
            "code_dir": str(self.fn.code_dir),
            "extra_path": list(self.fn.extra_path),
            "memory_mb": self.fn.memory_mb,
            # A backstop against a runaway allocation between two memory polls; the real limit
            # is the polled resident size. Twice the limit plus 1 GiB leaves room for the
            # address space that thread stacks and allocator arenas reserve but never touch.
            "rlimit_data_bytes": 2 * self._limit_bytes + (1 << 30),
            "env": lambda_environment(
                self.fn, self._settings, log_stream=log_stream, init_type=init_type
            ),
            "zygote_cwd": "/",
        }
        spare = self._zygote.take_spare()
        if spare.done():
            self._attach(spare)
        else:
            spare.add_done_callback(self._attach)

    def _attach(self, future: asyncio.Future[Spare]) -> None:
        if future.cancelled() or future.exception() is not None:
            self._queued = []
            if self._pending is not None:
                self._finish(RawOutcome("exited", message="Runtime failed to start"))
            self._die()
            return
        spare = future.result()
        self.pid = spare.pid
        if self.state == "dead":
            spare.close()
            self._kill_group()
            return
        self._channel = Channel(
            self._loop, spare.read_fd, spare.write_fd, self._on_frame, self._on_eof
        )
        self._output = OutputReader(self._loop, spare.output_fd, self._settings.output_cap_bytes)
        self._channel.send(protocol.SPEC, self._spec)
        for kind, meta, body in self._queued:
            self._channel.send(kind, meta, body)
        self._queued = []

    async def wait_ready(self) -> None:
        """For provisioned instances: return once init finished (or the instance died)."""
        await self._settled.wait()

    def invoke(
        self,
        request: InvokeRequest,
        timeout_s: float,
        on_done: Callable[[], None] | None = None,
    ) -> asyncio.Future[RawOutcome]:
        """Send one invocation; the future always resolves (never raises) with its outcome.

        ``on_done`` runs when the instance has finished with the invocation, even if whoever
        awaited the future stopped waiting (the caller's slot accounting relies on it).
        """
        assert self._pending is None
        self.state = "busy"
        self._timeout_s = timeout_s
        self._on_done = on_done
        self._pending = self._loop.create_future()
        self._started = time.perf_counter()
        meta = {
            "request_id": request.request_id,
            "deadline_ms": int(time.time() * 1000 + timeout_s * 1000),
            "arn": request.invoked_arn,
        }
        if request.client_context is not None:
            meta["client_context"] = request.client_context
        if request.identity is not None:
            meta["identity"] = request.identity
        if self._channel is None:
            self._queued.append((protocol.INVOKE, meta, request.payload))
        else:
            self._channel.send(protocol.INVOKE, meta, request.payload)
        # Until READY, the init phase has its own 10 s on top of the invocation's timeout.
        self._deadline = self._loop.time() + timeout_s + (0.0 if self._ready else INIT_TIMEOUT_S)
        self._watch = self._loop.call_later(min(MEMORY_POLL_S, timeout_s), self._check)
        return self._pending

    def _on_frame(self, kind: int, meta: dict[str, Any], body: bytes) -> None:
        if kind == protocol.READY:
            self._ready = True
            self._settled.set()
            self.init_ms = meta.get("init_ms", 0.0)
            if "error" in meta:
                self._finish(RawOutcome("init_error", error=meta["error"], max_rss_kb=meta["rss"]))
                self._die()
            elif self._pending is not None:
                self._started = time.perf_counter()
                self._deadline = self._loop.time() + self._timeout_s
            else:
                self.state = "idle"  # a provisioned instance, already in its pool's idle list
            return
        if kind == protocol.RESULT:
            if meta.get("oom") or meta["rss"] * 1024 > self._limit_bytes:
                self._finish(RawOutcome("oom", max_rss_kb=meta["rss"]))
                self._die()
                return
            kind_name: OutcomeKind = "error" if meta.get("error") else "ok"
            self._finish(
                RawOutcome(kind_name, body, duration_ms=meta["duration_ms"], max_rss_kb=meta["rss"])
            )
            return
        if kind == protocol.BAD_PAYLOAD:
            self._finish(RawOutcome("bad_payload", message=meta["message"]))

    def _finish(self, outcome: RawOutcome) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        pending, self._pending = self._pending, None
        if not self._init_reported:
            self._init_reported = True
            outcome.init_ms = self.init_ms
        if not outcome.duration_ms:
            outcome.duration_ms = (time.perf_counter() - self._started) * 1e3
        if self._output is not None:
            outcome.output, outcome.dropped = self._output.take()
        if not outcome.max_rss_kb:
            outcome.max_rss_kb = self._last_rss_kb
        self.last_used = time.monotonic()
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done()
        if pending is not None and not pending.done():
            pending.set_result(outcome)
        if self.state == "busy":
            self.state = "idle"
            self._on_idle(self)

    def _check(self) -> None:
        """The invocation's watchdog: its deadline, and its resident memory against the limit."""
        self._watch = None
        if self._pending is None:
            return
        remaining = self._deadline - self._loop.time()
        if remaining <= 0:
            elapsed_ms = (time.perf_counter() - self._started) * 1e3
            self._finish(RawOutcome("timeout", duration_ms=elapsed_ms))
            self._die()
            return
        if self.pid is not None:
            try:
                with open(f"/proc/{self.pid}/statm", "rb") as f:
                    resident = int(f.read().split()[1]) * _PAGE
            except (OSError, ValueError, IndexError):
                resident = 0
            self._last_rss_kb = max(self._last_rss_kb, resident // 1024)
            if resident > self._limit_bytes:
                self._finish(RawOutcome("oom", max_rss_kb=resident // 1024))
                self._die()
                return
        self._watch = self._loop.call_later(min(MEMORY_POLL_S, remaining), self._check)

    def _on_eof(self) -> None:
        """The instance's control socket closed: it exited, or we closed it ourselves."""
        if self.state == "dead":
            return
        if self._pending is not None:
            self._loop.create_task(self._finish_exited())
        else:
            self._die()

    async def _finish_exited(self) -> None:
        status: int | None = None
        if self.pid is not None:
            try:
                status = await asyncio.wait_for(self._zygote.exit_status(self.pid), 1.0)
            except TimeoutError:
                status = None
        if status is None or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            message = "Runtime exited without providing a reason"
        else:
            message = f"Runtime exited with error: {describe_exit(status)}"
        self._finish(RawOutcome("exited", message=message))
        self._die()

    def retire(self) -> None:
        """Stop an idle instance (reaped, replaced by a new version, or shutting down)."""
        if self._pending is not None:
            self._finish(RawOutcome("exited", message="Runtime exited without providing a reason"))
        self._die()

    def _die(self) -> None:
        if self.state == "dead":
            return
        self.state = "dead"
        self._settled.set()
        self._kill_group()
        if self._watch is not None:
            self._watch.cancel()
        if self._channel is not None:
            self._channel.close()
        if self._output is not None:
            self._output.close()
        self._on_dead(self)

    def _kill_group(self) -> None:
        if self.pid is None:
            return  # _on_forked kills it as soon as the pid is known
        if self._zygote.exit_status(self.pid).done():
            return  # already reaped: the pid may belong to someone else by now
        # The group is gone once every member died; the process itself may not have called
        # setsid() yet, so it is killed by pid as well.
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)
