"""The zygote: a single-threaded process that has imported the runtime and forks instances.

The platform's event loop never forks; the zygote does, ahead of demand. It keeps the platform
supplied with *spares*: forked children that have done everything not specific to a function
(``instance.prepare_process``) and wait for a SPEC frame on their control pipe. Forking a
~20 MB interpreter costs about a millisecond here and the child's first copy-on-write faults
about as much again; with spares, a cold start pays neither, and the platform speaks to the
spare directly, with no hop through the zygote.

Zygote ↔ platform: a Unix SOCK_SEQPACKET socket, one JSON message each way per event.
- zygote → platform: ``{"event":"spare","pid":…}`` carrying three descriptors: the write end
  of the pipe to the spare, the read end of the pipe from it, and the read end of its output;
  ``{"event":"exited","pid":…,"status":…}`` when an instance ends (``os.waitpid`` status).
- platform → zygote: ``{"op":"spare"}`` asks for one more spare (sent when one was taken).

Containment: every instance is a child subreaper, so a process its function leaves behind (a
double-forked ``setsid`` daemon included) is reparented to the instance, not further up, while
the instance lives; the zygote is a subreaper too, so when an instance dies its leftovers become
the zygote's children. A child of the zygote that is not an instance is therefore always left
over from a dead instance, and the zygote kills it as soon as it reaps anything (its children
come to the zygote in turn, and are killed when it dies). The zygote stops with the platform
(PR_SET_PDEATHSIG, even after kill -9) and on EOF of its socket, killing everything below it.
"""

from __future__ import annotations

# Imported here, before gc.freeze(), so every instance shares these pages copy-on-write and
# pays nothing to import them again.
import asyncio  # noqa: F401
import contextlib
import ctypes
import decimal  # noqa: F401
import fcntl
import gc
import inspect  # noqa: F401
import json
import logging  # noqa: F401
import os
import selectors
import signal
import socket
import sys
import traceback

# web brings werkzeug (every Cloud Functions style request is one of its objects; 20-40 ms more
# after the rest of these imports, ~3 MB) and cloudevents (~11 ms): paid here once, shared
# copy-on-write, rather than by every instance on its first request or event (docs/http.md).
from skylet.worker import context, handler, instance, web  # noqa: F401

_F_SETPIPE_SZ = 1031
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _grow_pipe(fd: int) -> None:
    """1 MiB pipes (Linux's default ceiling): a 6 MB payload crosses in six writes, not 96."""
    with contextlib.suppress(OSError):  # a lower pipe-max-size: the default 64 KiB still works
        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


def _send(sock: socket.socket, message: dict[str, object]) -> None:
    sock.send(json.dumps(message).encode())


def _children_of(parent: int) -> list[int]:
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


class Zygote:
    def __init__(self, sock: socket.socket, spares: int) -> None:
        self.sock = sock
        self.wanted = spares
        self.known: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.selector = selectors.DefaultSelector()

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        # Handlers that do nothing: the wakeup descriptor carries the signal numbers to the loop.
        # Raising from a handler instead could land anywhere, even at the start of kill_all.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)
        self.selector.register(self.sock, selectors.EVENT_READ, "request")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "signal")
        gc.freeze()
        try:
            while True:
                # Spares are forked only while no message is waiting, one per pass.
                events = self.selector.select(0 if self.wanted else None)
                if not events and self.wanted:
                    self.wanted -= 1
                    self.spawn_spare()
                    continue
                for key, _ in events:
                    if key.data == "signal":
                        numbers = os.read(self.wake_r, 4096)
                        self.reap()
                        if signal.SIGTERM in numbers:
                            return
                    elif not self.handle_message():
                        return
        finally:
            self.kill_all()

    def spawn_spare(self) -> None:
        to_r, to_w = os.pipe()  # platform → instance
        from_r, from_w = os.pipe()  # instance → platform
        out_r, out_w = os.pipe()  # the instance's stdout and stderr
        for fd in (to_w, from_w, out_w):
            _grow_pipe(fd)
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (to_w, from_r, out_r):
                    os.close(fd)
                self._forget_zygote_state()
                instance.run(to_r, from_w, out_w)
            finally:
                os._exit(70)
        for fd in (to_r, from_w, out_w):
            os.close(fd)
        self.known.add(pid)
        theirs = [to_w, from_r, out_r]
        try:
            socket.send_fds(
                self.sock, [json.dumps({"event": "spare", "pid": pid}).encode()], theirs
            )
        finally:
            for fd in theirs:
                os.close(fd)

    def _forget_zygote_state(self) -> None:
        """In a new child: drop the zygote's descriptors and signal handling."""
        os.close(self.wake_r)
        os.close(self.wake_w)
        self.selector.close()
        self.sock.close()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # Not inherited across fork: each instance is a subreaper of its own (module docstring).
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)

    def handle_message(self) -> bool:
        """One message from the platform; False when the platform has gone."""
        msg = self.sock.recv(65536)
        if not msg:
            return False
        if json.loads(msg).get("op") == "spare":
            self.wanted += 1
        return True

    def reap(self) -> None:
        """Collect exited children and report the instances among them; then kill what dead
        instances left behind."""
        reaped = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reaped = True
            if pid in self.known:  # otherwise a process an instance left behind, reparented
                self.known.discard(pid)
                _send(self.sock, {"event": "exited", "pid": pid, "status": status})
        if reaped:
            self.kill_orphans()

    def kill_orphans(self) -> None:
        """SIGKILL every child that is not an instance: it outlived the instance it was left
        in. Its own children come to the zygote as it dies, and go on the next reap."""
        for pid in _children_of(os.getpid()):
            if pid not in self.known:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def kill_all(self) -> None:
        """SIGKILL every instance's process group and every process reparented to us."""
        for pid in self.known:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)
        for _ in range(10):
            orphans = _children_of(os.getpid())
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


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    spares = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    # SIGTERM rather than SIGKILL when the platform dies (even by kill -9): the zygote then
    # still kills every instance's process group, children the functions started included.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        Zygote(sock, spares).serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    except Exception:
        traceback.print_exc()
        raise


if __name__ == "__main__":
    main()
