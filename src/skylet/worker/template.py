"""A function's template: the process, forked from the zygote, that has entered the function's
sandbox once (skylet.worker.sandbox) and forks its instances, ahead of demand.

Template ↔ platform: its own SOCK_SEQPACKET socket (the zygote's protocol, skylet.worker.forker).
- platform → template: ``{"op":"init","spec":…,"snapshot":bool,"preload":bool}`` first, once:
  the template sets up what is the function's (its environment, working directory, path,
  limits: a SPEC's ``instance.setup_process``), with ``preload`` imports its style's framework
  from the function's own requirements (skylet.worker.preload) and, with ``snapshot``, runs
  its init, the output on the descriptor the message carries; it answers
  ``{"event":"initialized","preloaded":[…]}`` (with ``preload_error`` if that import failed
  and was undone; ``init_ms``, and ``error`` if the init failed, for a snapshot). Then
  ``{"op":"spare"}`` asks for one more spare.
- template → platform: ``{"event":"spare","pid":…,"pidfd":bool}`` with the spare's descriptors
  (the write end of the pipe to it, the read end of the pipe from it, the read end of its
  output, and a pidfd when there is one); ``{"event":"exited",…}`` when a spare or instance
  ends. ``pid`` is the template's own view of it (its PID namespace's); the platform reads
  its own from the pidfd.

A spare has done everything not specific to one invocation (``instance.prepare_process``) and
waits for its SPEC. With a PID namespace, each spare is the first process of a namespace of its
own: when it dies, everything it started dies with it, a double-forked daemon included.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import socket
import traceback
from typing import Any

from skylet import fastjson
from skylet.worker import (
    cgroups,
    forker,
    instance,
    linux,
    output,
    preload,
    rehearsals,
    sandbox,
    seccomp,
    snapstart,
)


class Template(forker.Forker):
    def __init__(self, sock: socket.socket, entered: sandbox.Entered) -> None:
        super().__init__(sock)
        self.entered = entered
        self.wanted = 0
        self.urgent = 0  # of those wanted, how many a cold start waits for
        self.snapshot: snapstart.Snapshot | None = None
        self.initialized = False
        self.setup_spec: dict[str, Any] = {}

    def handle(self, message: dict[str, Any], fds: list[int]) -> None:
        op = message.get("op")
        if op == "spare":
            self.wanted += 1
            self.urgent += bool(message.get("urgent"))
        elif op == "init" and len(fds) == 1 and not self.initialized:
            self.initialize(
                message["spec"],
                fds[0],
                snapshot=bool(message.get("snapshot")),
                preloads=bool(message.get("preload")),
            )
            return
        super().handle(message, fds)

    def _prepared(self) -> None:
        """In a spare, ready for its SPEC: what its cold start runs, rehearsed (the SPEC read,
        its set-up, the import path, its function's style of invocation), so that the pages
        that writes are copied now rather than on the cold start's path; out of the
        templates' cgroup into its function's; and what the rehearsal freed given back to the
        kernel (``malloc_trim``: ~70 kB of an idle instance's unique memory, 18 µs)."""
        spec = self.setup_spec
        rehearsals.rehearse(web=spec.get("style") in ("http", "cloudevent"))
        env = dict(spec["env"], AWS_LAMBDA_LOG_STREAM_NAME="", AWS_LAMBDA_INITIALIZATION_TYPE="")
        instance.setup_process(fastjson.loads(fastjson.dumps({**spec, "env": env})))
        instance.warm_import(spec["handler"])
        output.Output.written = False
        self._join_function_cgroup()
        _MALLOC_TRIM(0)

    def _join_function_cgroup(self) -> None:
        if self.entered.cgroup is not None:
            cgroups.CpuWeights.join(self.entered.cgroup)

    def initialize(
        self, spec: dict[str, Any], out_fd: int, *, snapshot: bool, preloads: bool
    ) -> None:
        """Set up the function's environment, working directory, path and limits here, once,
        for every instance forked from now on; with ``preloads``, import its style's framework
        from its own requirements; and with ``snapshot``, run its init too."""
        self.initialized = True
        self.setup_spec = spec
        instance.setup_process(spec)
        instance.warm_import(spec["handler"])
        # The style's framework, from the function's own requirements (skylet.worker.preload).
        paths = [spec["code_dir"], *spec.get("extra_path", [])]
        style = spec.get("style", "lambda") if preloads else "lambda"
        loaded = preload.preload(style, paths, spec["handler"])
        meta: dict[str, Any] = {"preloaded": list(loaded.modules)}
        if loaded.error is not None:
            meta["preload_error"] = loaded.error
        if spec.get("style") == "http" and loaded.modules:
            # The function's own Flask: bounded, as its import was.
            with contextlib.suppress(preload.PreloadTimedOut), preload.deadline():
                rehearsals.rehearse_flask(spec["handler"])
        # What the preload made lives as long as the instances: out of the collector's way.
        gc.freeze()
        if snapshot:
            self.snapshot, taken = snapstart.take(spec, out_fd)
            meta.update(taken)
        else:
            os.close(out_fd)
        self.send({"event": "initialized", "pid": 0, **meta})

    def has_idle_work(self) -> bool:
        return self.wanted > 0

    def idle(self) -> None:
        self.wanted -= 1
        urgent, self.urgent = self.urgent > 0, max(self.urgent - 1, 0)
        self.spawn_spare(urgent)

    def spawn_spare(self, urgent: bool = False) -> None:
        to_r, to_w = os.pipe()  # platform → instance
        from_r, from_w = os.pipe()  # instance → platform
        out_r, out_w = os.pipe()  # the instance's stdout and stderr
        for fd in (to_w, from_w, out_w):
            forker.grow_pipe(fd)
        entered = self.entered
        if entered.spec.pid_ns:
            linux.unshare(linux.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (to_w, from_r, out_r):
                    os.close(fd)
                self.in_child()
                forker.prctl(forker.PR_SET_PDEATHSIG, 9)  # SIGKILL when the template dies
                # Not inherited across fork: each instance is a subreaper of its own.
                forker.prctl(forker.PR_SET_CHILD_SUBREAPER, 1)
                if urgent:  # its preparation is on a cold start's path
                    self._join_function_cgroup()
                sandbox.enter_instance(entered)
                instance.run(to_r, from_w, out_w, prepared=self._prepared, snapshot=self.snapshot)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(70)
        if entered.pid_ns_fd >= 0:
            linux.setns(entered.pid_ns_fd, linux.CLONE_NEWPID)
        for fd in (to_r, from_w, out_w):
            os.close(fd)
        self.known.add(pid)
        theirs = [to_w, from_r, out_r]
        with contextlib.suppress(OSError):  # before Linux 5.3: the platform uses the pid
            theirs.append(os.pidfd_open(pid))
        try:
            self.send({"event": "spare", "pid": pid, "pidfd": len(theirs) == 4}, theirs)
        finally:
            for fd in theirs:
                os.close(fd)


#: glibc's: frees the pages of free heap chunks (``madvise``), not only the heap's top.
_MALLOC_TRIM = ctypes.CDLL(None).malloc_trim


def serve(sock: socket.socket, entered: sandbox.Entered) -> None:
    """The template's life, after it entered the sandbox; never returns."""
    forker.prctl(forker.PR_SET_CHILD_SUBREAPER, 1)
    rehearsals.rehearse()
    output.prepare()
    if entered.spec.seccomp:
        seccomp.prepare()  # built once here; each instance only installs it
    # What the template built lives as long as its instances: out of the collector's way, so
    # that no instance's collection writes to (and copies) those pages.
    gc.freeze()
    code = 0
    try:
        Template(sock, entered).serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    except BaseException:
        traceback.print_exc()
        code = 1
    os._exit(code)
