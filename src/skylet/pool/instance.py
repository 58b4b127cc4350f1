"""The platform's handle on one instance: cold start, invocations in order, enforcement.

The instance runs one invocation at a time; the pool may write more behind the running one
(skylet.pool.autoscaler). The instance enforces nothing; this handle does. A timeout or a memory
overrun kills the instance's whole process group (so children it started die with it); the
invocations written behind the one that died never started, and go back to the pool.

Init has a limit of its own (``init_timeout_s``: Lambda's 10 s on demand, more for provisioned
instances), timed from the SPEC; an instance whose init raises or passes it is reported to the
pool (``on_init_failed``) and dies. Invocations waiting on an init that timed out go back to
the pool, to be initialised again within their own timeouts, as Lambda does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import secrets
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from skylet import custom_runtimes
from skylet.config import FunctionConfig, RuntimeSettings
from skylet.pool.autoscaler import QUEUE_WAIT_S
from skylet.pool.channel import Channel, OutputReader, Refusal
from skylet.pool.environment import instance_spec
from skylet.pool.invocation import InitFailure, Invocation, refuse
from skylet.pool.template import TemplateClient
from skylet.pool.zygote import Spare, describe_exit
from skylet.wire import frames
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import MAX_RESPONSE_BYTES, RawOutcome

logger = logging.getLogger(__name__)

State = Literal["starting", "idle", "busy", "dead"]

#: Lambda gives an on-demand init phase 10 s of its own before the invocation's timeout starts.
INIT_TIMEOUT_S = 10.0
#: How often a running invocation's resident memory is checked against its limit.
MEMORY_POLL_S = 0.05
#: Lambda's shutdown phase with external extensions: 2 s for them to finish.
SHUTDOWN_GRACE_S = 2.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


class InstanceHandle:
    """One instance process, seen from the platform's loop. ``queue[0]`` is the invocation
    running (or about to: the instance reads its next one as soon as it answered one); the rest
    were written ahead and wait in the pipe, in order."""

    def __init__(
        self,
        fn: FunctionConfig,
        settings: RuntimeSettings,
        template: TemplateClient,
        *,
        provisioned: bool = False,
        init_timeout_s: float = INIT_TIMEOUT_S,
        on_dead: Callable[[InstanceHandle], None] = lambda _: None,
        on_idle: Callable[[InstanceHandle], None] = lambda _: None,
        on_ready: Callable[[InstanceHandle], None] = lambda _: None,
        on_init_failed: Callable[[InstanceHandle, InitFailure], None] = lambda *_: None,
        on_outcome: Callable[[RawOutcome], None] = lambda _: None,
        give_back: Callable[[Invocation], None] | None = None,
    ) -> None:
        self.fn = fn
        self.provisioned = provisioned
        self.state: State = "starting"
        self.pid: int | None = None  # the platform's view of it
        self._key = 0  # what its template reports its exit by
        self._pidfd = -1
        self.init_ms: float | None = None
        #: Restored from its template's snapshot: how long that took, and its hooks' share.
        self.restore_ms: float | None = None
        self.restore_hooks_ms = 0.0
        self.last_used = time.monotonic()
        self.queue: deque[Invocation] = deque()
        self.ready = False  # init succeeded
        self.ready_at = 0.0  # monotonic
        self.head_since = 0.0  # perf_counter: when queue[0] started
        self.log_stream = ""  # its AWS_LAMBDA_LOG_STREAM_NAME, once its SPEC is sent
        self._settings = settings
        self._template = template
        self._on_dead = on_dead
        self._on_idle = on_idle
        self._on_ready = on_ready
        self._on_init_failed = on_init_failed
        self._on_outcome = on_outcome
        self._give_back = give_back or refuse
        self._loop = asyncio.get_running_loop()
        self._init_timeout_s = init_timeout_s
        self._init_timer: asyncio.TimerHandle | None = None
        self._spec_sent = 0.0  # perf_counter
        self._init_reported = False
        self._seq = 0
        self._deadline = 0.0  # loop time
        self._watch: asyncio.TimerHandle | None = None
        self._watch_at = 0.0
        self._ahead_watch: asyncio.TimerHandle | None = None
        self._last_rss_kb = 0
        self._channel: Channel | None = None
        self._exited = False  # its pipe closed or its process exit was seen
        self._output: OutputReader | None = None
        self._limit_bytes = fn.memory_mb * 1024 * 1024
        self._unsent: list[tuple[int, dict[str, Any], bytes]] = []
        self._marker = b"\x00\x1e" + secrets.token_hex(8).encode() + b"\x1e\x00"
        self._unstarted = "Runtime exited without providing a reason"  # why a dead one refuses
        #: Its layers may bring extensions, which get a shutdown phase (``retire``).
        self._extensions = custom_runtimes.has_extensions(fn.opt_dir)

    @property
    def alive(self) -> bool:
        return self.state != "dead"

    def start(self) -> None:
        """Take a spare and send it the function's spec. Frames sent before the spare is
        attached are kept and follow the spec in order."""
        spare = self._template.take_spare()
        if spare.done():
            self._attach(spare)
        else:
            spare.add_done_callback(self._attach)

    def _attach(self, future: asyncio.Future[Spare]) -> None:
        if future.cancelled() or future.exception() is not None:
            self._unsent = []
            self._unstarted = f"Runtime failed to start: {future.exception() or 'cancelled'}"
            self._fail_all(RawOutcome("exited", message=self._unstarted))
            self._die()
            return
        spare = future.result()
        if self.state == "dead":
            _signal(spare.pidfd, spare.pid)
            spare.close()
            return
        self.pid = spare.pid
        self._key = spare.key
        self._pidfd = spare.pidfd
        self._channel = Channel(
            self._loop,
            spare.read_fd,
            spare.write_fd,
            self._on_frame,
            self._on_eof,
            max_body=MAX_RESPONSE_BYTES,
            max_frame=MAX_RESPONSE_BYTES + frames.META_ALLOWANCE,
            on_refused=self._on_refused,
        )
        self._output = OutputReader(
            self._loop, spare.output_fd, self._settings.output_cap_bytes, self._marker
        )
        self._template.exit_status(spare.key).add_done_callback(self._process_exited)
        spec = instance_spec(
            self.fn,
            self._settings,
            provisioned=self.provisioned,
            marker=self._marker,
            runtime_dir=self._template.runtime_dir,
            snap_start=spare.restores,
        )
        self.log_stream = spec["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._channel.send(frames.SPEC, spec)
        self._spec_sent = time.perf_counter()
        self._init_timer = self._loop.call_later(self._init_timeout_s, self._init_expired)
        for kind, meta, body in self._unsent:
            self._channel.send(kind, meta, body)
        self._unsent = []

    # -- invocations in -----------------------------------------------------------------------

    def submit(self, invocation: Invocation) -> None:
        """Write one invocation: it runs now if the instance is free, or once those before it
        were answered. It is always delivered, unless it is given back to the pool."""
        if self.state == "dead":  # it never got a process (no template could be made)
            refuse(invocation, self._unstarted)
            return
        self._seq += 1
        invocation.seq = self._seq
        request = invocation.request
        meta: dict[str, Any] = {
            "seq": invocation.seq,
            "request_id": request.request_id,
            "timeout_ms": int(invocation.timeout_s * 1000),
            "arn": request.invoked_arn,
        }
        if request.client_context is not None:
            meta["client_context"] = request.client_context
        if request.identity is not None:
            meta["identity"] = request.identity
        if request.http is not None:
            meta["http"] = request.http
        if request.trace is not None:
            meta["trace"] = request.trace
        self.queue.append(invocation)
        self.state = "busy"
        if len(self.queue) == 1:
            invocation.not_after = None
            self._begin()
        else:
            invocation.not_after = time.monotonic() + QUEUE_WAIT_S
            meta["not_after"] = invocation.not_after
            if self._ahead_watch is None:
                self._ahead_watch = self._loop.call_later(QUEUE_WAIT_S, self._check_ahead)
        if self._channel is None:
            self._unsent.append((frames.INVOKE, meta, request.payload))
        else:
            ahead = len(self.queue) > 1  # the instance is busy: no hurry
            self._channel.send(frames.INVOKE, meta, request.payload, soon=ahead)

    def _begin(self) -> None:
        """``queue[0]`` starts now: its timeout runs from here, or from READY while init runs
        (init has its own limit, ``_init_expired``), unless its init is a suppressed one."""
        self.head_since = time.perf_counter()
        head = self.queue[0]
        now = self._loop.time()
        counted = self.ready or head.suppressed_init
        self._deadline = now + head.timeout_s if counted else math.inf
        self._watch_until(now + min(MEMORY_POLL_S, head.timeout_s))

    def _watch_until(self, when: float) -> None:
        """The watchdog fires at ``when`` at the latest (an earlier one is kept)."""
        if self._watch is not None:
            if self._watch_at <= when:
                return
            self._watch.cancel()
        self._watch_at = when
        self._watch = self._loop.call_at(when, self._check)

    # -- answers out ----------------------------------------------------------------------------

    def _on_frame(self, kind: int, meta: dict[str, Any], body: bytes) -> None:
        try:
            self._read_frame(kind, meta, body)
        except (KeyError, TypeError, ValueError):  # a frame of ours carries what we read
            self._on_refused("malformed")  # closes the channel: no frame after it is read

    def _on_refused(self, reason: Refusal) -> None:
        """The instance wrote what the channel refused: a response over Lambda's limit, or
        not a frame. It is killed at once; what it ran fails.

        A response that large cannot fit in the pipe, so the instance is still writing it and
        has not read the invocation behind; but a forged header may be followed by a real
        answer, so the one behind may have begun, and it fails rather than run twice."""
        if not self.alive:
            return
        if not self.queue:
            self._die()
            return
        if reason == "too_large":
            outcome = RawOutcome("too_large")
        else:
            outcome = RawOutcome("exited", message="Runtime exited with error: malformed frame")
        self._fail_head(outcome, answered=True)

    def _read_frame(self, kind: int, meta: dict[str, Any], body: bytes) -> None:
        if kind == frames.READY:
            if self._init_timer is not None:
                self._init_timer.cancel()
                self._init_timer = None
            if "restore_ms" in meta:
                self.restore_ms = meta["restore_ms"]
                self.restore_hooks_ms = meta.get("hooks_ms", 0.0)
            else:
                self.init_ms = meta.get("init_ms", 0.0)
            if "error" in meta:
                error = meta["error"]
                failure = InitFailure(
                    "error", self.init_ms or 0.0, error["errorType"], error["errorMessage"]
                )
                self._init_failed(failure)
                self._fail_all(RawOutcome("init_error", error=error, max_rss_kb=meta["rss"]))
                self._die()
                return
            self.ready = True
            self.ready_at = time.monotonic()
            if not self.queue:
                self.state = "idle"  # a provisioned instance, already in its pool's idle list
            elif not self.queue[0].suppressed_init:  # else its deadline counts the init
                self._begin()
            self._on_ready(self)
            return
        if not self.queue or self.queue[0].seq != meta.get("seq"):
            return  # the answer to an invocation already given back or settled
        if kind == frames.RESULT:
            if meta.get("oom"):  # a MemoryError: the instance exits
                self._fail_head(RawOutcome("oom", max_rss_kb=meta["rss"]))
            elif meta["rss"] * 1024 > self._limit_bytes:  # it answered, and may go on
                self._fail_head(RawOutcome("oom", max_rss_kb=meta["rss"]), answered=True)
            else:
                outcome = RawOutcome(
                    "error" if meta.get("error") else "ok",
                    body,
                    duration_ms=meta["duration_ms"],
                    max_rss_kb=meta["rss"],
                )
                if "status" in meta:
                    outcome.response = HttpResponse(meta["status"], meta["headers"], body)
                elif "malformed" in meta:
                    outcome.malformed = meta["malformed"]
                self._answered(outcome, marked=meta.get("out", False))
        elif kind == frames.BAD_PAYLOAD:
            self._answered(RawOutcome("bad_payload", message=meta["message"]), marked=False)
        elif kind == frames.BOUNCED:
            self._give_back(self.queue.popleft())
            self._next()

    def _settle(
        self, outcome: RawOutcome, *, marked: bool, last: bool, final: bool = False
    ) -> Invocation:
        """``queue[0]`` is over with ``outcome``: take it off, complete the outcome and free
        the invocation's slot; the caller delivers it. ``last``: no other invocation's output
        can follow in the output pipe; ``final``: the instance is going away, read all its
        output now."""
        invocation = self.queue.popleft()
        if final and self._output is not None:
            self._output.drain()  # everything it wrote before it failed
        if not self._init_reported:
            self._init_reported = True
            if not invocation.suppressed_init:
                outcome.init_ms = self.init_ms
                outcome.restore_ms = self.restore_ms
                outcome.restore_hooks_ms = self.restore_hooks_ms
            elif outcome.kind in ("ok", "error"):  # the handler's own time, as it reported it
                # A suppressed init is part of the invocation's Duration, as on Lambda.
                outcome.duration_ms += self.init_ms or 0.0
        if not outcome.duration_ms:
            outcome.duration_ms = (time.perf_counter() - self.head_since) * 1e3
        if self._output is not None and (marked or last):  # else it printed nothing of its own
            outcome.output, outcome.dropped = self._output.take(marked=marked, last=last)
        if not outcome.max_rss_kb:
            outcome.max_rss_kb = self._last_rss_kb
        outcome.cold = invocation.cold
        outcome.log_stream = self.log_stream
        outcome.provisioned = self.provisioned
        self.last_used = time.monotonic()
        if invocation.on_done is not None:
            invocation.on_done()
        self._on_outcome(outcome)
        return invocation

    def _answered(self, outcome: RawOutcome, *, marked: bool) -> None:
        """The instance answered ``queue[0]``: settle it, start the next one (or go idle),
        then deliver the answer. A ``deliver`` that raises is its caller's bug: it is logged,
        and the frames after this one are still read."""
        invocation = self._settle(outcome, marked=marked, last=len(self.queue) == 1)
        self._next()
        try:
            invocation.deliver(outcome)
        except Exception:
            logger.exception("delivering the outcome of %s", invocation.request.request_id)

    def _next(self) -> None:
        if self.queue:
            self._begin()
        elif self.state == "busy":
            self.state = "idle"
            self._on_idle(self)

    def _fail(self, outcome: RawOutcome) -> None:
        """Settle ``queue[0]`` with a failure; it is delivered on the loop's next turn."""
        invocation = self._settle(outcome, marked=False, last=True, final=True)
        self._loop.call_soon(invocation.deliver, outcome)

    # -- enforcement ------------------------------------------------------------------------------

    def _check(self) -> None:
        """The watchdog of ``queue[0]``: its deadline, and resident memory against the limit."""
        self._watch = None
        if not self.queue or self.state == "dead":
            return
        now = self._loop.time()
        if self._deadline <= now:
            if self._channel is not None:
                self._channel.drain()  # its answer may be waiting: then it made it in time
            if self.alive and self.queue and self._deadline <= self._loop.time():
                elapsed_ms = (time.perf_counter() - self.head_since) * 1e3
                self._fail_head(RawOutcome("timeout", duration_ms=elapsed_ms))
            return
        if self.pid is not None:
            try:
                with open(f"/proc/{self.pid}/statm", "rb") as f:
                    resident = int(f.read().split()[1]) * _PAGE
            except (OSError, ValueError, IndexError):
                resident = 0
            self._last_rss_kb = max(self._last_rss_kb, resident // 1024)
            if resident > self._limit_bytes:
                self._fail_head(RawOutcome("oom", max_rss_kb=resident // 1024))
                return
        self._watch_until(min(now + MEMORY_POLL_S, self._deadline))

    def _check_ahead(self) -> None:
        """Invocations written ahead and still waiting past their ``not_after`` go back to the
        pool. Safe: each waits behind one the instance had not answered when ``now`` was read,
        so the instance reads it later than ``not_after`` and bounces it instead of running it."""
        self._ahead_watch = None
        now = time.monotonic()
        if self._channel is not None:
            self._channel.drain()
        if len(self.queue) < 2 or self.state == "dead":
            return
        head, *waiting = self.queue
        late = [i for i in waiting if i.not_after is not None and i.not_after <= now]
        if late:
            self.queue = deque([head, *(i for i in waiting if i not in late)])
            for invocation in late:
                self._give_back(invocation)
        if len(self.queue) > 1:
            first = self.queue[1].not_after or now
            self._ahead_watch = self._loop.call_later(max(first - now, 0.001), self._check_ahead)

    def _fail_head(self, outcome: RawOutcome, *, answered: bool = False) -> None:
        """Kill the instance for what ``queue[0]`` did (timeout, memory) and settle it.

        Nothing behind it had started when we decided, unless the instance ``answered`` it
        (or does in the instant before the kill lands): then the next one may have begun, and
        fails rather than run twice. The rest go back to the pool."""
        self._kill_group()
        if not answered and self._channel is not None and len(self.queue) > 1:
            head_seq = self.queue[0].seq

            def late(kind: int, meta: dict[str, Any], body: bytes) -> None:
                nonlocal answered
                answered = answered or meta.get("seq") == head_seq

            self._channel.drain(late)
        self._fail(outcome)
        if answered and self.queue:
            self._fail(RawOutcome("exited", message="Runtime exited with error: signal: killed"))
        self._die()

    def _init_expired(self) -> None:
        """The init limit passed without READY: the instance dies, and the invocations waiting
        for it go back to the pool to be initialised again within their own timeouts."""
        self._init_timer = None
        if self.ready or self.state == "dead":
            return
        if self.queue and self.queue[0].suppressed_init:
            return  # its own deadline covers this init (``_begin``)
        elapsed_ms = (time.perf_counter() - self._spec_sent) * 1e3
        self._kill_group()
        limit = f"{self._init_timeout_s:.2f}"
        self._init_failed(
            InitFailure(
                "timeout", elapsed_ms, "Sandbox.Timedout", f"Init timed out after {limit} seconds"
            )
        )
        for invocation in self.queue:
            invocation.suppressed_init = True
        self._die()

    def _init_failed(self, failure: InitFailure) -> None:
        """Report a failed init, with what it printed when no invocation's log will carry it."""
        if self._output is not None and (failure.status == "timeout" or not self.queue):
            self._output.drain()
            output, _ = self._output.take(marked=False, last=True)
            failure = dataclasses.replace(failure, output=output)
        self._on_init_failed(self, failure)

    def _fail_all(self, outcome: RawOutcome) -> None:
        """Settle ``queue[0]`` with ``outcome``; the rest never started, and go back to the
        pool when the instance dies (``_die``, which the callers call next)."""
        if self.queue:
            self._fail(outcome)

    def _process_exited(self, _status: asyncio.Future[int]) -> None:
        """The process is gone (its template reaped it, or it died with its template). Its pipe
        may not have said so yet (a process it left holds the write end, or the loop has not
        read the end of file): take what it wrote before it died, then settle as for a closed
        pipe, so that an idle instance is never offered again."""
        if self.state == "dead" or self._channel is None:
            return
        self._channel.drain()
        self._on_eof()

    def _on_eof(self) -> None:
        """The instance's control pipe closed, or its process exited: it is gone, or we
        closed it ourselves. Called once for both."""
        if self.state == "dead" or self._exited:
            return
        self._exited = True
        if self.queue:
            self._loop.create_task(self._finish_exited())
        else:
            self._die()

    async def _finish_exited(self) -> None:
        status: int | None = None
        if self.pid is not None:
            try:
                status = await asyncio.wait_for(self._template.exit_status(self._key), 1.0)
            except TimeoutError:
                status = None
        if status is None or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            message = "Runtime exited without providing a reason"
        else:
            message = f"Runtime exited with error: {describe_exit(status)}"
        why = self._template.died_with(self._key) if self.pid is not None else None
        if why is not None:
            message += f" ({why})"
        self._fail_all(RawOutcome("exited", message=message))
        self._die()

    def retire(self) -> None:
        """Stop the instance (reaped, replaced by a new version, or shutting down); whatever it
        still holds fails, as when a Lambda environment is shut down under it. An idle instance
        whose layers bring extensions gets Lambda's shutdown phase: a SHUTDOWN frame (the
        relay gives its extensions their SHUTDOWN event), and SHUTDOWN_GRACE_S before the kill."""
        while self.queue:
            self._fail(RawOutcome("exited", message="Runtime exited without providing a reason"))
        graceful = self._extensions and self.ready and self.state == "idle"
        if graceful and self._channel is not None:
            self._channel.send(frames.SHUTDOWN)
            self._die(grace_s=SHUTDOWN_GRACE_S)
        else:
            self._die()

    def _die(self, grace_s: float = 0.0) -> None:
        if self.state == "dead":
            return
        self.state = "dead"
        if not grace_s:
            self._kill_group()
        for timer in (self._watch, self._ahead_watch, self._init_timer):
            if timer is not None:
                timer.cancel()
        if self._channel is not None:
            self._channel.close()
        if grace_s:  # what it prints meanwhile is read (and dropped), its pipe kept open
            self._loop.call_later(grace_s, self._end_grace)
        else:
            self._close_process()
        rest, self.queue = self.queue, deque()
        self._on_dead(self)
        for invocation in rest:  # never started: they run elsewhere
            self._give_back(invocation)

    def _end_grace(self) -> None:
        self._kill_group()
        self._close_process()

    def _close_process(self) -> None:
        if self._output is not None:
            self._output.close()
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1

    def _kill_group(self) -> None:
        """SIGKILL the instance and everything it started: with a PID namespace, killing the
        instance (its first process) does it all; without one, its process group goes too."""
        if self.pid is None:
            return  # _attach kills it as soon as the pid is known
        if self._pidfd >= 0:
            _signal(self._pidfd, self.pid)
            if self._template.pid_ns:
                return
        if self._template.exit_status(self._key).done():
            return  # already reaped: the pid may belong to someone else by now
        # The group is gone once every member died; the process itself may not have called
        # setsid() yet, so it is killed by pid as well.
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)


def _signal(pidfd: int, pid: int) -> None:
    """SIGKILL exactly the process ``pidfd`` refers to (by ``pid`` where there is none)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if pidfd >= 0:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
