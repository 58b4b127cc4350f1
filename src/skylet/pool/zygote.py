"""The platform's client of the zygote: start it, keep a stock of spares, learn exits."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from skylet.errors import PlatformError

#: How long after taking a spare its replacement is requested.
REPLACE_DELAY_S = 0.005


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
    """Owns one zygote process. Nothing here blocks the loop or forks the platform.

    ``spares`` is how many spares are kept ready; taking one asks the zygote for a replacement.
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
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spares: deque[Spare] = deque()
        self._waiting: deque[asyncio.Future[Spare]] = deque()
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._lost_error: PlatformError | None = None

    async def start(self) -> None:
        """Start the zygote and wait until its first spare arrived."""
        self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # subprocess spawns with vfork/exec: the platform's process image is never duplicated.
        self._proc = subprocess.Popen(
            [self._python, "-m", "skylet.worker.zygote", str(theirs.fileno()), str(self._stock)],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd="/",
            env=self._environment,
        )
        theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._loop.add_reader(ours.fileno(), self._readable)
        try:
            spare = await asyncio.wait_for(self._take(), 30.0)
        except TimeoutError:
            raise PlatformError("the zygote did not start within 30 s") from None
        self._spares.appendleft(spare)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def take_spare(self) -> asyncio.Future[Spare]:
        """A spare process; resolved at once when one is in stock. Asks for a replacement."""
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
        if self._lost_error is not None:
            future.set_exception(self._lost_error)
        elif self._spares:
            future.set_result(self._spares.popleft())
        else:
            self._waiting.append(future)
        return future

    def _request_spare(self) -> None:
        if self._sock is None:
            return
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

    def _readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self._sock, 65536, 3)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self._lost()
                return
            event = json.loads(data)
            if event["event"] == "spare":
                self._arrived(Spare(event["pid"], *fds))
            elif event["event"] == "exited":
                status = self.exit_status(event["pid"])
                if not status.done():
                    status.set_result(event["status"])
                # Nobody may ever ask for this pid's status; do not let the map grow.
                if self._loop is not None:
                    self._loop.call_later(5.0, self._exits.pop, event["pid"], None)

    def _arrived(self, spare: Spare) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(spare)
                return
        self._spares.append(spare)

    def _lost(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._lost_error = PlatformError("the zygote process exited")
        for future in self._waiting:
            if not future.done():
                future.set_exception(self._lost_error)
        self._waiting.clear()

    async def aclose(self) -> None:
        """Stop the zygote; it kills every instance and every process they left behind."""
        while self._spares:
            self._spares.popleft().close()
        if self._sock is not None:
            if self._loop is not None and self._lost_error is None:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for _ in range(250):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.02)
        proc.kill()
        await asyncio.to_thread(proc.wait)


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
