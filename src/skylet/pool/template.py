"""The platform's client of one function version's template (skylet.worker.template): asked of
the zygote when first needed, it keeps a stock of spares of that function, learns their exits,
and is made again when it dies.

A template of a function with ``snap_start`` takes a snapshot first (:class:`Snapshotting`):
it runs the function's init once, and its instances restore from that state. If that init
fails or passes its limit, it is reported (Lambda's INIT_REPORT), and the function's instances
run their own inits from a plain template instead, until its code changes.

A template that dies (killed, or with its zygote) takes its instances with it (their PID
namespaces are inside its own; without PID namespaces they die with their parent): their exit
statuses read as SIGKILL, and :meth:`TemplateClient.died_with` says why. A template that cannot
be made (its sandbox refused) fails the cold starts waiting for it with the reason, and is
tried again on the next cold start after a back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skylet.errors import PlatformError
from skylet.pool.backoff import backoff_s
from skylet.pool.channel import OutputReader
from skylet.pool.invocation import InitFailure
from skylet.pool.zygote import NoZygote, Spare, ZygoteClient
from skylet.wire.sandbox import TemplateSpec

logger = logging.getLogger(__name__)

#: How long after taking a spare its replacement is requested: forking it takes a core for
#: about a millisecond, which on a small machine would slow the cold start that took it.
REPLACE_DELAY_S = 0.005
#: A template that could not be made is tried again after 0.1 s, doubling to 5 s.
RETRY_FIRST_S = 0.1
RETRY_CAP_S = 5.0


@dataclass(frozen=True, slots=True)
class Snapshotting:
    """How a template takes its snapshot: how long its init may take (``timeout_s``), whom to
    tell when it fails (``failed``), and how much of its output to keep (``output_cap``)."""

    timeout_s: float
    failed: Callable[[InitFailure], None]
    output_cap: int = 1 << 20


class TemplateClient:
    """``spec``: what the template enters (asked again each time it is made, so a changed
    policy applies). ``setup(snapshot)``: the SPEC whose environment, working directory, path
    and limits the template sets up once for all its spares (and whose init it runs, for a
    snapshot). ``stock``: spares kept ready. ``snapshot``: take one first."""

    def __init__(
        self,
        zygote: ZygoteClient,
        spec: Callable[[], TemplateSpec],
        setup: Callable[[bool], dict[str, Any]],
        *,
        stock: int | None = None,
        snapshot: Snapshotting | None = None,
    ) -> None:
        self._zygote = zygote
        self._spec = spec
        self._setup = setup
        self._snapshot = snapshot
        #: The template has run the function's init: its spares restore (``Spare.restores``).
        self.restoring = False
        #: How long that init took (ms), for the function's log.
        self.init_ms: float | None = None
        self._init_timer: asyncio.TimerHandle | None = None
        self._init_output: OutputReader | None = None
        self._init_started = 0.0  # perf_counter
        self._target = zygote.spares if stock is None else stock
        self._loop = asyncio.get_running_loop()
        self.pid: int | None = None  # the template's, in the platform's view
        self.pid_ns = False
        self._sock: socket.socket | None = None
        self._making: asyncio.Future[int] | None = None
        self._stock: deque[Spare] = deque()
        self._waiting: deque[asyncio.Future[Spare]] = deque()
        self._outstanding = 0  # spares asked for (or to come) and not arrived
        # Spares and instances by key: the template's own pid of them, with which template
        # (pids in a PID namespace start again with each template).
        self._incarnation = 0
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._live: dict[int, int] = {}  # key → global pid, handed out, not exited
        self._why_dead: dict[int, str] = {}  # key → why it died with its template
        self._failures = 0
        self._retry_at = 0.0
        self._error: PlatformError | None = None
        self._closed = False
        self._zygote_died = False
        self._forget_death = zygote.on_death(self._zygote_dying)

    @property
    def runtime_dir(self) -> str:
        """The prefix of the interpreter its instances run on (its zygote's)."""
        return self._zygote.runtime_dir

    def prepare(self) -> None:
        """Make the template now, ahead of the first cold start (in the background)."""
        if not self._closed and self._sock is None and self._making is None:
            self._make()

    # -- spares ---------------------------------------------------------------------------

    def take_spare(self) -> asyncio.Future[Spare]:
        """A spare of this function; resolved at once when one is in stock. Failed
        (PlatformError) when the template cannot be made."""
        future: asyncio.Future[Spare] = self._loop.create_future()
        if self._closed:
            future.set_exception(PlatformError("the function was replaced"))
            return future
        if self._stock:
            future.set_result(self._stock.popleft())
            self._loop.call_later(REPLACE_DELAY_S, self._top_up)
            return future
        self._waiting.append(future)
        if self._sock is None and self._making is None:
            self._make()
        else:
            self._top_up()
        return future

    def _top_up(self) -> None:
        """Ask for spares until stock, those asked for and those waiting balance."""
        if self._sock is None or self._closed:
            return
        while len(self._stock) + self._outstanding < self._target + len(self._waiting):
            # A cold start waits for this one: it is prepared at its function's CPU weight, not
            # at the templates' (skylet.worker.cgroups).
            urgent = self._outstanding < len(self._waiting)
            self._outstanding += 1
            try:
                self._sock.send(b'{"op":"spare","urgent":true}' if urgent else b'{"op":"spare"}')
            except BlockingIOError:
                self._outstanding -= 1
                self._loop.call_later(0.01, self._top_up)
                return
            except OSError:
                self._outstanding -= 1
                return

    def exit_status(self, key: int) -> asyncio.Future[int]:
        """The exit status of the spare whose ``Spare.key`` is ``key``."""
        future = self._exits.get(key)
        if future is None:
            future = self._exits[key] = self._loop.create_future()
        return future

    def died_with(self, key: int) -> str | None:
        """Why ``key`` was killed with its template (its status then reads SIGKILL)."""
        return self._why_dead.get(key)

    def _key(self, local_pid: int) -> int:
        return self._incarnation << 32 | local_pid

    # -- the template -----------------------------------------------------------------------

    def _make(self) -> None:
        wait = self._retry_at - time.monotonic()
        if self._error is not None and wait > 0:
            self._refuse(self._error)
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        spec = self._spec()
        if self._snapshot is not None:
            spec = dataclasses.replace(spec, snapshot=True)
        self.pid_ns = spec.pid_ns
        self._zygote_died = False
        # Its exit concerns this template only, not one made after it.
        making = self._zygote.request_template(spec, theirs, lambda _: self._exited_template(ours))
        self._making = making

        def made(done: asyncio.Future[int]) -> None:
            if self._making is done:
                self._making = None
            error = None if done.cancelled() else done.exception()
            if done.cancelled() or error is not None or self._closed:
                ours.close()
                if self._closed or done.cancelled():
                    if not done.cancelled() and error is None:
                        _kill(done.result())
                elif isinstance(error, NoZygote) and self._zygote.status == "restarting":
                    self._make()  # asked of the zygote that died: of the next one instead
                elif isinstance(error, NoZygote):
                    self._refuse(error)  # none is up: nothing of this template's to back off
                else:
                    self._failed(error)
                return
            self.pid = done.result()
            self._incarnation += 1
            self._sock = ours
            self._failures, self._error = 0, None
            self._loop.add_reader(ours.fileno(), self._readable, ours)
            self._initialize(ours)

        making.add_done_callback(made)

    # -- the snapshot ----------------------------------------------------------------------

    def _initialize(self, sock: socket.socket) -> None:
        """Ask the new template to set the function up (and run its init, for a snapshot);
        no spare until it has."""
        self._outstanding = 0
        snapshot = self._snapshot
        read_end, write_end = os.pipe()
        spec = self._setup(snapshot is not None)
        # A template that keeps root imports none of the function's packages.
        preload = not self._zygote.policy.templates_run_as_root()
        message = json.dumps(
            {"op": "init", "spec": spec, "snapshot": snapshot is not None, "preload": preload}
        )
        try:
            socket.send_fds(sock, [message.encode()], [write_end])
        except OSError:
            os.close(read_end)
            return  # the template is gone: its socket says so
        finally:
            os.close(write_end)
        if snapshot is None:
            os.close(read_end)
            return
        self._init_output = OutputReader(self._loop, read_end, snapshot.output_cap, b"\0\0")
        self._init_started = time.perf_counter()
        self._init_timer = self._loop.call_later(snapshot.timeout_s, self._init_expired)

    def _init_printed(self) -> bytes:
        reader, self._init_output = self._init_output, None
        if reader is None:
            return b""
        reader.drain()
        printed, _ = reader.take(marked=False, last=True)
        reader.close()
        return printed

    def _initialized(self, event: dict[str, Any]) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None
        if event.get("preload_error"):  # the instances import for themselves, and say so
            logger.info("template %s: nothing preloaded: %s", self.pid, event["preload_error"])
        printed = self._init_printed()
        init_ms = float(event.get("init_ms", 0.0))
        error = event.get("error")
        if isinstance(error, dict):
            failure = InitFailure(
                "error",
                init_ms,
                str(error.get("errorType")),
                str(error.get("errorMessage")),
                printed,
            )
            self._no_snapshot(failure)
            return
        if self._snapshot is not None:
            self.restoring, self.init_ms = True, init_ms
        self._top_up()

    def _init_expired(self) -> None:
        self._init_timer = None
        elapsed_ms = (time.perf_counter() - self._init_started) * 1000
        assert self._snapshot is not None
        limit = f"{self._snapshot.timeout_s:.2f}"
        failure = InitFailure(
            "timeout",
            elapsed_ms,
            "Sandbox.Timedout",
            f"Init timed out after {limit} seconds",
            self._init_printed(),
        )
        self._no_snapshot(failure)

    def _no_snapshot(self, failure: InitFailure) -> None:
        """The snapshot's init failed: say so, and make a plain template instead (its
        instances run their own init, and report its error as Lambda does)."""
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            snapshot.failed(failure)
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()
        if self.pid is not None:
            _kill(self.pid)
            self.pid = None
        if not self._closed:
            self._make()

    def _failed(self, error: BaseException | None) -> None:
        self._failures += 1
        delay = backoff_s(self._failures, first_s=RETRY_FIRST_S, cap_s=RETRY_CAP_S)
        self._retry_at = time.monotonic() + delay
        message = str(error) if error is not None else "unknown"
        self._error = PlatformError(message)
        logger.error("a function's template could not be made: %s", message)
        self._refuse(self._error)

    def _refuse(self, error: PlatformError) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def _readable(self, sock: socket.socket) -> None:
        while sock is self._sock:
            try:
                data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:
                for fd in fds:
                    os.close(fd)
                self._lost()
                return
            try:
                event = json.loads(data)
                kind = event["event"]
                local = int(event["pid"])
            except (ValueError, KeyError, TypeError):
                for fd in fds:
                    os.close(fd)
                continue  # not a message of ours: ignored (only a function's own template)
            if kind == "initialized":
                for fd in fds:
                    os.close(fd)
                self._initialized(event)
            elif kind == "spare" and len(fds) >= 3:
                pidfd = fds[3] if event.get("pidfd") and len(fds) == 4 else -1
                write_fd, read_fd, output_fd = fds[:3]
                pid = _global_pid(pidfd, local)
                key = self._key(local)
                self._arrived(Spare(pid, write_fd, read_fd, output_fd, pidfd, key, self.restoring))
            elif kind == "exited":
                for fd in fds:
                    os.close(fd)
                self._exited(self._key(local), int(event.get("status", signal.SIGKILL)))
            else:
                for fd in fds:
                    os.close(fd)

    def _arrived(self, spare: Spare) -> None:
        self._outstanding = max(self._outstanding - 1, 0)
        self._live[spare.key] = spare.pid
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(spare)
                self._top_up()
                return
        self._stock.append(spare)

    def _exited(self, key: int, status: int) -> None:
        self._live.pop(key, None)
        future = self.exit_status(key)
        if not future.done():
            future.set_result(status)
        # Nobody may ever ask for this pid's status; do not let the map grow.
        self._loop.call_later(5.0, self._forget, key)

    def _forget(self, key: int) -> None:
        if key not in self._live:
            self._exits.pop(key, None)
            self._why_dead.pop(key, None)

    def _zygote_dying(self) -> None:
        """The zygote died: its templates are killed, this one with them; so is what it ran,
        at once, as when the template itself dies."""
        self._zygote_died = True
        if self._sock is not None:
            self._lost()

    def _exited_template(self, sock: socket.socket) -> None:
        self._loop.call_soon(self._lost_if, sock)

    def _lost_if(self, sock: socket.socket) -> None:
        if sock is self._sock:
            self._lost()

    def _lost(self) -> None:
        """The template died (its socket closed): so did everything it forked."""
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()
        if self.pid is not None:
            _kill(self.pid)
        why = (
            "skylet's zygote process died, and is being restarted"
            if self._zygote_died or self._zygote.status != "up"
            else "the function's template process died"
        )
        for spare in self._stock:
            if not self.pid_ns:
                _kill_group(spare.pid)
            spare.close()
        self._stock.clear()
        for key, pid in list(self._live.items()):
            if not self.pid_ns:
                _kill_group(pid)  # what they started in their process groups
            self._why_dead[key] = why
            self._exited(key, signal.SIGKILL)  # the waitpid status of a SIGKILLed process
        self._outstanding = 0
        self.pid = None
        self.restoring = False
        if self._init_timer is not None:  # it died in its init: a new one takes the snapshot
            self._init_timer.cancel()
            self._init_timer = None
        self._init_printed()
        if self._waiting and not self._closed:
            self._make()

    def close(self) -> None:
        """The function version is gone: its template goes, with whatever it still runs."""
        self._closed = True
        self._forget_death()
        self._refuse(PlatformError("the function was replaced"))
        while self._stock:
            self._stock.popleft().close()
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()  # the template sees EOF and kills what it forked
        if self.pid is not None:
            _kill(self.pid)
            self.pid = None
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None
        self._init_printed()


def _global_pid(pidfd: int, local: int) -> int:
    """The platform's pid of the process ``pidfd`` refers to (its fdinfo names it in the
    reader's PID namespace); ``local`` when there is no pidfd."""
    if pidfd < 0:
        return local
    with contextlib.suppress(OSError, ValueError), open(f"/proc/self/fdinfo/{pidfd}") as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    return local


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _kill_group(pid: int) -> None:
    """SIGKILL an instance's process group and the instance (which may not lead it yet)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)
