"""The platform's client of the zygote: start it, learn which sandbox mechanisms it found, ask it
for templates (skylet.pool.template), learn their exits, and replace the zygote when it dies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from skylet.errors import PlatformError
from skylet.pool.backoff import backoff_s
from skylet.pool.sandbox import SandboxPolicy
from skylet.wire.sandbox import Mechanisms, TemplateSpec

logger = logging.getLogger(__name__)

#: How long a new zygote may take to probe the machine and say it is ready.
START_TIMEOUT_S = 30.0
#: A zygote that failed to start is tried again after 0.1 s, then 0.2 s, … at most 5 s apart.
RESTART_FIRST_S = 0.1
RESTART_CAP_S = 5.0
#: Spares each template keeps ready.
SPARES_PER_TEMPLATE = 1

#: "up": templates are made; "restarting": the zygote died and a new one is starting (cold
#: starts wait for it); "down": none could be started (cold starts fail at once); "starting"
#: and "closed": before ``start`` and after ``aclose``.
Status = Literal["starting", "up", "restarting", "down", "closed"]


class NoZygote(PlatformError):
    """No zygote can make templates now: none is up, or the one asked died. Not a failure of
    the template asked for (skylet.pool.template tries again when one is up)."""


@dataclass(slots=True)
class Spare:
    """A forked process waiting for its SPEC frame: its pid (the platform's view), the pipe
    ends to write to it and read from it, the read end of its output pipe, a pidfd (-1 where
    there is none) that signals exactly this process, and ``key``, what its template reports
    its exit by (skylet.pool.template.TemplateClient.exit_status)."""

    pid: int
    write_fd: int
    read_fd: int
    output_fd: int
    pidfd: int = -1
    key: int = 0
    #: Forked from a template that took a snapshot: it restores rather than runs an init.
    restores: bool = False

    def close(self) -> None:
        for fd in (self.write_fd, self.read_fd, self.output_fd, self.pidfd):
            if fd >= 0:
                os.close(fd)


class ZygoteClient:
    """Owns the zygote process and supervises it. Nothing here blocks the loop or forks the
    platform.

    Supervision: when the zygote dies (a function killed it, the OOM killer chose it), every
    template it made is killed (their PID namespaces take their instances with them), each
    template's client is told (:meth:`on_death`), and a new zygote is started at once. Templates
    asked for meanwhile wait for it. A zygote that fails to start is retried with back-off
    (``RESTART_FIRST_S`` doubling to ``RESTART_CAP_S``); until one is up, templates are refused
    at once. ``status`` says which of these holds, for the platform's ``/health``.
    """

    def __init__(
        self,
        *,
        python: str = sys.executable,
        environment: Mapping[str, str] | None = None,
        policy: SandboxPolicy | None = None,
        spares: int = SPARES_PER_TEMPLATE,
    ) -> None:
        self._python = python
        # The zygote's environment is what every instance inherits and must clear before it
        # sets a function's own; keeping it small keeps that step short on the cold start.
        self._environment = dict(environment or {})
        self.spares = spares
        self.policy = policy or SandboxPolicy()
        #: Its interpreter's ``sys.prefix``, as the zygote reported it when ready (the
        #: platform's own until then): a function's ``LAMBDA_RUNTIME_DIR``.
        self.runtime_dir = sys.prefix
        self.status: Status = "starting"
        #: Zygotes started to replace one that died, and how long the last replacement took
        #: (from noticing the death to the new zygote being ready).
        self.restarts = 0
        self.last_restart_ms: float | None = None
        #: Bumped whenever a zygote dies: what a template learns of it (``generation``).
        self.generation = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._asked: dict[int, tuple[asyncio.Future[int], TemplateSpec, socket.socket]] = {}
        self._queued: list[int] = []  # asked for while no zygote is up
        self._templates: set[int] = set()  # pids of the current zygote's live templates
        self._exits: dict[int, Callable[[int], None]] = {}
        self._deaths: list[Callable[[], None]] = []
        self._ready: asyncio.Future[None] | None = None  # the starting zygote's "ready"
        self._down: NoZygote | None = None  # why no zygote is up, while none is
        self._failed_starts = 0
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the zygote and wait until it is ready (its sandbox probe done)."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._launch()
        except PlatformError as error:
            self.status, self._down = "down", NoZygote(str(error))
            raise
        self.status = "up"

    async def _launch(self) -> None:
        """Start one zygote; return once it said it is ready (PlatformError if it does not
        within START_TIMEOUT_S, or exits first)."""
        assert self._loop is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # subprocess spawns with vfork/exec: the platform's process image is never duplicated.
        self._proc = subprocess.Popen(
            [self._python, "-m", "skylet.worker.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd="/",
            env=self._environment,
            # Its own process group: a terminal's Ctrl+C (SIGINT to the foreground group) stops
            # the platform, which stops the zygote (EOF, SIGTERM); the zygote never sees it.
            process_group=0,
        )
        theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._loop.add_reader(ours.fileno(), self._readable, ours)
        self._ready = ready = self._loop.create_future()
        try:
            await asyncio.wait_for(ready, START_TIMEOUT_S)
        except TimeoutError:
            self._drop_socket()
            self._proc.kill()
            raise PlatformError(f"the zygote did not start within {START_TIMEOUT_S:g} s") from None
        # Templates asked for while no zygote was up.
        queued, self._queued = self._queued, []
        for ident in queued:
            self._send_template(ident)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def mechanisms(self) -> Mechanisms | None:
        return self.policy.mechanisms

    def request_template(
        self, spec: TemplateSpec, theirs: socket.socket, on_exit: Callable[[int], None]
    ) -> asyncio.Future[int]:
        """A template for ``spec``, talking to the platform on the other end of ``theirs``
        (which this takes); resolved with its pid, or failed (PlatformError) if the zygote
        could not make it or none is up. ``on_exit`` gets its exit status."""
        if self._loop is None:  # never started: another interpreter's, started on first use
            self._loop = asyncio.get_running_loop()
            self._supervisor = self._loop.create_task(
                self._restart(time.perf_counter(), first=True)
            )
        future: asyncio.Future[int] = self._loop.create_future()
        if self._down is not None:
            theirs.close()
            future.set_exception(self._down)
            return future
        ident = next(self._ids)
        self._asked[ident] = (future, spec, theirs)

        def remember(done: asyncio.Future[int]) -> None:
            if not done.cancelled() and done.exception() is None:
                self._exits[done.result()] = on_exit

        future.add_done_callback(remember)
        if self._sock is None:
            self._queued.append(ident)
        else:
            self._send_template(ident)
        return future

    def on_death(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` whenever a zygote dies (before its templates are killed); returns
        what removes it."""
        self._deaths.append(callback)
        return lambda: self._deaths.remove(callback) if callback in self._deaths else None

    def _send_template(self, ident: int) -> None:
        entry = self._asked.get(ident)
        if entry is None or self._sock is None:
            return
        future, spec, theirs = entry
        message = json.dumps({"op": "template", "id": ident, "spec": spec.encode()}).encode()
        try:
            socket.send_fds(self._sock, [message], [theirs.fileno()])
        except BlockingIOError:
            # Hundreds of requests already queued: the zygote is busy forking anyway.
            if self._loop is not None:
                self._loop.call_later(0.01, self._send_template, ident)
        except OSError as error:
            self._asked.pop(ident, None)
            theirs.close()
            if not future.done():
                future.set_exception(NoZygote(f"the zygote is gone: {error}"))

    def _readable(self, sock: socket.socket) -> None:
        while sock is self._sock:
            try:
                data = sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            event = json.loads(data)
            kind = event["event"]
            if kind == "ready":
                self.policy.mechanisms = Mechanisms.decode(event["sandbox"])
                self.runtime_dir = str(event.get("prefix") or self.runtime_dir)
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(None)
            elif kind == "template":
                self._template_made(event)
            elif kind == "exited":
                self._templates.discard(event["pid"])
                on_exit = self._exits.pop(event["pid"], None)
                if on_exit is not None:
                    on_exit(event["status"])

    def _template_made(self, event: dict[str, object]) -> None:
        entry = self._asked.pop(int(str(event["id"])), None)
        if entry is None:
            return
        future, _spec, theirs = entry
        theirs.close()
        if "pid" in event:
            pid = int(str(event["pid"]))
            self._templates.add(pid)
            if not future.done():
                future.set_result(pid)
            else:
                _kill(pid)  # nobody waits for it any more
        elif not future.done():
            future.set_exception(PlatformError(f"the function's sandbox: {event['error']}"))

    def _lost(self) -> None:
        """The zygote's socket closed: it died. Kill its templates, and replace it. Templates
        it was making fail: the clients that asked try again, with sockets of their own."""
        self._drop_socket()
        self.generation += 1
        for callback in list(self._deaths):
            callback()
        for pid in self._templates:
            _kill(pid)
        self._templates.clear()
        self._exits.clear()
        died = NoZygote("the zygote died")
        for ident in [i for i in self._asked if i not in self._queued]:
            self._fail_asked(ident, died)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(PlatformError("the zygote exited as it started"))
            return  # whoever launched it decides what follows
        if self.status == "closed":
            return
        logger.error("the zygote process died; starting a new one")
        self.status = "restarting"
        if self._supervisor is None or self._supervisor.done():
            assert self._loop is not None
            self._supervisor = self._loop.create_task(self._restart(time.perf_counter()))

    async def _restart(self, since: float, *, first: bool = False) -> None:
        """Start zygotes until one is up, backing off while they fail to start (``first``: the
        first of a zygote started on its first use, not a replacement)."""
        while self.status != "closed":
            if self._failed_starts:
                await asyncio.sleep(
                    backoff_s(self._failed_starts, first_s=RESTART_FIRST_S, cap_s=RESTART_CAP_S)
                )
                self.status, self._down = "restarting", None
            await self._reap_old()
            try:
                await self._launch()
            except PlatformError as error:
                self._failed_starts += 1
                self.status, self._down = "down", NoZygote(str(error))
                logger.error("the zygote did not start (%s); trying again", error)
                self._refuse_asked(self._down)
                continue
            self._failed_starts = 0
            self.status = "up"
            if first:
                return
            self.restarts += 1
            self.last_restart_ms = (time.perf_counter() - since) * 1000
            logger.warning(
                "a new zygote is up, %.0f ms after the last one died", self.last_restart_ms
            )
            return

    def _refuse_asked(self, error: NoZygote) -> None:
        for ident in self._queued:
            self._fail_asked(ident, error)
        self._queued.clear()

    def _fail_asked(self, ident: int, error: PlatformError) -> None:
        entry = self._asked.pop(ident, None)
        if entry is not None:
            future, _spec, theirs = entry
            theirs.close()
            if not future.done():
                future.set_exception(error)

    async def _reap_old(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()  # already dead, unless its socket failed some other way
            await asyncio.to_thread(proc.wait)

    def _drop_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        sock.close()

    async def aclose(self) -> None:
        """Stop the zygote; it kills every template, and the templates their instances."""
        self.status = "closed"
        self._down = NoZygote("skylet is stopping")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._queued = list(self._asked)
        self._refuse_asked(self._down)
        self._drop_socket()
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for _ in range(250):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.02)
        proc.kill()
        await asyncio.to_thread(proc.wait)


def _kill(pid: int) -> None:
    """SIGKILL a template: with a PID namespace, all of it dies; without one, its instances
    die of their parent's death (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def describe_exit(status: int) -> str:
    """``os.waitpid`` status → the text Lambda prints after "Runtime exited with error: "."""
    if os.WIFSIGNALED(status):
        return f"signal: {_SIGNAL_NAMES.get(os.WTERMSIG(status), f'signal {os.WTERMSIG(status)}')}"
    return f"exit status {os.WEXITSTATUS(status)}"


# The wording of Go's syscall signal table, which Lambda's runtime manager prints.
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    11: "segmentation fault",
    13: "broken pipe",
    15: "terminated",
}
