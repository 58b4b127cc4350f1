"""The platform's client of the zygote: start it, keep a stock of spares, learn exits, and
replace the zygote when it dies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from skylet.errors import PlatformError
from skylet.pool.backoff import backoff_s

logger = logging.getLogger(__name__)

#: How long after taking a spare its replacement is requested.
REPLACE_DELAY_S = 0.005
#: How long a new zygote may take to offer its first spare.
START_TIMEOUT_S = 30.0
#: A zygote that failed to start is tried again after 0.1 s, then 0.2 s, … at most 5 s apart.
RESTART_FIRST_S = 0.1
RESTART_CAP_S = 5.0

#: "up": spares are served; "restarting": the zygote died and a new one is starting (cold
#: starts wait for it); "down": none could be started (cold starts fail at once); "starting"
#: and "closed": before ``start`` and after ``aclose``.
Status = Literal["starting", "up", "restarting", "down", "closed"]


@dataclass(slots=True)
class Spare:
    """A forked process waiting for its SPEC frame: its pid, the pipe ends to write to it and
    read from it, and the read end of its output pipe."""

    pid: int
    write_fd: int
    read_fd: int
    output_fd: int

    def close(self) -> None:
        for fd in (self.write_fd, self.read_fd, self.output_fd):
            os.close(fd)


class ZygoteClient:
    """Owns the zygote process and supervises it. Nothing here blocks the loop or forks the
    platform.

    ``spares`` is how many spares are kept ready; taking one asks the zygote for a replacement.

    Supervision: when the zygote dies (a function killed it, the OOM killer chose it), its
    instances die with it (PR_SET_PDEATHSIG); their process groups are killed here too, their
    exit statuses read as SIGKILL (:meth:`died_with_zygote` tells them apart), its stock of
    spares is dropped, and a new zygote is started at once. Cold starts asked for meanwhile
    wait for the new zygote's spares. A zygote that fails to start is retried with back-off
    (``RESTART_FIRST_S`` doubling to ``RESTART_CAP_S``); until one is up, spares are refused
    at once. ``status`` says which of these holds, for the platform's ``/health``.
    """

    def __init__(
        self,
        *,
        python: str = sys.executable,
        spares: int = 2,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self._python = python
        # The zygote's environment is what every spare inherits and must clear before it sets a
        # function's own; keeping it small keeps that step short on the cold-start path.
        self._environment = dict(environment or {})
        self._stock = spares
        self.status: Status = "starting"
        #: Zygotes started to replace one that died, and how long the last replacement took
        #: (from noticing the death to the new zygote's first spare).
        self.restarts = 0
        self.last_restart_ms: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spares: deque[Spare] = deque()
        self._waiting: deque[asyncio.Future[Spare]] = deque()
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._live: set[int] = set()  # handed out by the current zygote, not reported exited
        self._with_zygote: set[int] = set()  # died because their zygote did (for a while)
        self._first: asyncio.Future[None] | None = None  # the starting zygote's first spare
        self._down: PlatformError | None = None  # why no zygote is up, while none is
        self._failed_starts = 0
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the zygote and wait until its first spare arrived."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._launch()
        except PlatformError as error:
            self.status, self._down = "down", error
            raise
        self.status = "up"

    async def _launch(self) -> None:
        """Start one zygote; return once it offered its first spare (PlatformError if it does
        not within START_TIMEOUT_S, or exits first)."""
        assert self._loop is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # subprocess spawns with vfork/exec: the platform's process image is never duplicated.
        self._proc = subprocess.Popen(
            [self._python, "-m", "skylet.worker.zygote", str(theirs.fileno()), str(self._stock)],
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
        self._first = first = self._loop.create_future()
        # Cold starts already waiting asked a zygote that is gone: ask this one instead.
        for _ in self._waiting:
            self._request_spare()
        try:
            await asyncio.wait_for(first, START_TIMEOUT_S)
        except TimeoutError:
            self._drop_socket()
            self._proc.kill()
            raise PlatformError(f"the zygote did not start within {START_TIMEOUT_S:g} s") from None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def take_spare(self) -> asyncio.Future[Spare]:
        """A spare process; resolved at once when one is in stock. Asks for a replacement.
        While the zygote restarts, resolved by the new one; while none is up, failed
        (PlatformError)."""
        assert self._loop is not None
        if self._spares:
            # Forking the replacement takes a core for about a millisecond; on a small machine
            # that would slow the very cold start that took this spare, so it waits a little.
            self._loop.call_later(REPLACE_DELAY_S, self._request_spare)
        else:
            self._request_spare()
        return self._take()

    def _take(self) -> asyncio.Future[Spare]:
        assert self._loop is not None
        future: asyncio.Future[Spare] = self._loop.create_future()
        if self._down is not None:
            future.set_exception(self._down)
        elif self._spares:
            future.set_result(self._spares.popleft())
        else:
            self._waiting.append(future)
        return future

    def _request_spare(self) -> None:
        if self._sock is None:
            return  # none is up: a zygote that starts asks for what is waiting (``_launch``)
        try:
            self._sock.send(b'{"op":"spare"}')
        except BlockingIOError:
            # Hundreds of requests already queued: the zygote is busy forking anyway.
            if self._loop is not None:
                self._loop.call_later(0.01, self._request_spare)
        except OSError:
            pass

    def exit_status(self, pid: int) -> asyncio.Future[int]:
        assert self._loop is not None
        future = self._exits.get(pid)
        if future is None:
            future = self._exits[pid] = self._loop.create_future()
        return future

    def died_with_zygote(self, pid: int) -> bool:
        """Whether ``pid`` was killed because its zygote died (its status then reads SIGKILL)."""
        return pid in self._with_zygote

    def _readable(self, sock: socket.socket) -> None:
        while sock is self._sock:
            try:
                data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 3)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self._lost()
                return
            event = json.loads(data)
            if event["event"] == "spare":
                self._live.add(event["pid"])
                if self._first is not None and not self._first.done():
                    self._first.set_result(None)
                self._arrived(Spare(event["pid"], *fds))
            elif event["event"] == "exited":
                self._live.discard(event["pid"])
                self._exited(event["pid"], event["status"])

    def _exited(self, pid: int, status: int) -> None:
        future = self.exit_status(pid)
        if not future.done():
            future.set_result(status)
        # Nobody may ever ask for this pid's status; do not let the map grow.
        if self._loop is not None:
            self._loop.call_later(5.0, self._forget, pid)

    def _forget(self, pid: int) -> None:
        self._exits.pop(pid, None)
        self._with_zygote.discard(pid)

    def _arrived(self, spare: Spare) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(spare)
                return
        self._spares.append(spare)

    def _lost(self) -> None:
        """The zygote's socket closed: it died. Account for what it held, and replace it."""
        self._drop_socket()
        # Its instances got SIGKILL when it died; what they started in their process groups
        # did not. Spares in stock died the same way; their pipes go.
        for spare in self._spares:
            _kill_group(spare.pid)
            spare.close()
        self._spares.clear()
        for pid in self._live:
            _kill_group(pid)
            self._with_zygote.add(pid)
            self._exited(pid, signal.SIGKILL)  # the waitpid status of a SIGKILLed process
        self._live.clear()
        if self._first is not None and not self._first.done():
            self._first.set_exception(PlatformError("the zygote exited as it started"))
            return  # whoever launched it decides what follows
        if self.status == "closed":
            return
        logger.error("the zygote process died; starting a new one")
        self.status = "restarting"
        if self._supervisor is None or self._supervisor.done():
            assert self._loop is not None
            self._supervisor = self._loop.create_task(self._restart(time.perf_counter()))

    async def _restart(self, since: float) -> None:
        """Start zygotes until one is up, backing off while they fail to start."""
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
                self.status, self._down = "down", error
                logger.error("the zygote did not start (%s); trying again", error)
                for future in self._waiting:
                    if not future.done():
                        future.set_exception(error)
                self._waiting.clear()
                continue
            self._failed_starts = 0
            self.restarts += 1
            self.last_restart_ms = (time.perf_counter() - since) * 1000
            self.status = "up"
            logger.warning(
                "a new zygote is up, %.0f ms after the last one died", self.last_restart_ms
            )
            return

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
        """Stop the zygote; it kills every instance and every process they left behind."""
        self.status = "closed"
        self._down = PlatformError("skylet is stopping")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        while self._spares:
            self._spares.popleft().close()
        for future in self._waiting:
            if not future.done():
                future.set_exception(self._down)
        self._waiting.clear()
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


def _kill_group(pid: int) -> None:
    """SIGKILL an instance's process group and the instance (which may not lead it yet)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


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
