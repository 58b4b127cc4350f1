"""What the zygote and every template share: a single-threaded loop that serves one Unix
SOCK_SEQPACKET socket to the platform (one JSON message each way per event, descriptors
beside it), forks children, reaps them and reports their exits.

Messages to the platform: ``{"event":"exited","pid":…,"status":…}`` when a child it told the
platform about ends (``os.waitpid``'s status). A child it did not tell about is something a
dead child left behind (both are subreapers), and is killed whenever anything is reaped.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import selectors
import signal
import socket
from typing import Any

_F_SETPIPE_SZ = 1031
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def grow_pipe(fd: int) -> None:
    """1 MiB pipes (Linux's default ceiling): a 6 MB payload crosses in six writes, not 96."""
    with contextlib.suppress(OSError):  # a lower pipe-max-size: the default 64 KiB still works
        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


def children_of(parent: int) -> list[int]:
    """The live and zombie children of a single-threaded ``parent``."""
    try:  # Linux 3.5+ with CONFIG_PROC_CHILDREN: one small read instead of a scan of /proc
        with open(f"/proc/{parent}/task/{parent}/children", "rb") as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields resume after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


class Forker:
    """The loop; subclasses handle messages (:meth:`handle`) and idle work (:meth:`idle`)."""

    #: Descriptors a message from the platform may carry.
    MAX_FDS = 1

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.known: set[int] = set()  # children the platform was told about
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.selector = selectors.DefaultSelector()

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.send(data)

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        # Handlers that do nothing: the wakeup descriptor carries the signal numbers to the loop.
        # Raising from a handler instead could land anywhere, even at the start of kill_all.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)
        self.selector.register(self.sock, selectors.EVENT_READ, "request")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "signal")
        try:
            while True:
                busy = self.has_idle_work()
                events = self.selector.select(0 if busy else None)
                if not events and busy:
                    self.idle()
                    continue
                for key, _ in events:
                    if key.data == "signal":
                        numbers = os.read(self.wake_r, 4096)
                        self.reap()
                        if signal.SIGTERM in numbers:
                            return
                    elif not self._receive():
                        return
        finally:
            self.kill_all()

    def _receive(self) -> bool:
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 20, self.MAX_FDS)
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        self.handle(json.loads(data), fds)
        return True

    def handle(self, message: dict[str, Any], fds: list[int]) -> None:
        """One message from the platform; closes ``fds`` it does not keep."""
        for fd in fds:
            os.close(fd)

    def has_idle_work(self) -> bool:
        return False

    def idle(self) -> None:
        """Work done while no message is waiting, one piece per pass."""

    def in_child(self) -> None:
        """In a new child: drop this loop's descriptors and signal handling."""
        os.close(self.wake_r)
        os.close(self.wake_w)
        self.selector.close()
        self.sock.close()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def reap(self) -> None:
        """Collect exited children and report the known ones; then kill what dead children
        left behind."""
        reaped = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reaped = True
            self.exited(pid, status)
        if reaped:
            self.kill_orphans()

    def exited(self, pid: int, status: int) -> None:
        if pid in self.known:  # otherwise a process a dead child left behind, reparented
            self.known.discard(pid)
            self.send({"event": "exited", "pid": pid, "status": status})

    def expected(self, pid: int) -> bool:
        """Whether ``pid``, a child, belongs here (else it is left over and killed)."""
        return pid in self.known

    def kill_orphans(self) -> None:
        """SIGKILL every child that is not expected: it outlived the child it was left in.
        Its own children come to us as it dies, and go on the next reap."""
        for pid in children_of(os.getpid()):
            if not self.expected(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def kill_all(self) -> None:
        """SIGKILL every known child's process group and every process reparented to us."""
        for pid in self.known:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)
        for _ in range(10):
            orphans = children_of(os.getpid())
            for pid in orphans:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return
            if not orphans:
                return
