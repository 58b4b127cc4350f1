"""The zygote: a single-threaded process that has imported the runtime and forks templates.

The platform's event loop never forks; the zygote does. At start it probes which sandbox
mechanisms this machine offers (skylet.worker.sandbox.probe) and says so; then, for each
function version, it forks a *template* that enters the function's sandbox once and forks
that function's instances (skylet.worker.template). Forking a ~20 MB interpreter costs about a
millisecond here and the child's first copy-on-write faults about as much again; templates
fork spares ahead of demand, so a cold start pays neither.

Zygote ↔ platform: a Unix SOCK_SEQPACKET socket, one JSON message each way per event.
- zygote → platform: ``{"event":"ready","sandbox":…,"prefix":…}`` once, with the probe's
  ``wire.sandbox.Mechanisms`` and its interpreter's ``sys.prefix`` (a function's
  ``LAMBDA_RUNTIME_DIR``); ``{"event":"template","id":…,"pid":…}`` (or ``"error"``) for each
  template asked for; ``{"event":"exited","pid":…,"status":…}`` when a template ends.
- platform → zygote: ``{"op":"template","id":…,"spec":…}`` (a ``wire.sandbox.TemplateSpec``)
  carrying one descriptor: the template's end of its own socket to the platform.

Making a template takes two processes: the first enters the namespaces (the zygote writes its
identity maps when skylet runs as root) and forks the template into its PID namespace, whose
first process it then is; the first exits at once and the template is reparented here.

Containment: the zygote is a subreaper, so what a dead template or instance leaves behind
becomes its child and is killed on the next reap. It stops with the platform
(PR_SET_PDEATHSIG, even after kill -9) and on EOF of its socket, killing every template, whose
PID namespaces take their instances with them.
"""

from __future__ import annotations

# Imported here, before gc.freeze(), so every instance shares these pages copy-on-write and
# pays nothing to import them again.
import asyncio  # noqa: F401
import contextlib
import decimal  # noqa: F401
import gc
import inspect  # noqa: F401
import logging  # noqa: F401
import os
import select
import signal
import socket
import sys
import time
import traceback
from typing import Any

# web brings werkzeug (every Cloud Functions style request is one of its objects; 20-40 ms more
# after the rest of these imports, ~3 MB) and cloudevents (~11 ms): paid here once, shared
# copy-on-write, rather than by every instance on its first request or event (docs/http.md).
from skylet.wire.sandbox import TemplateSpec
from skylet.worker import (  # noqa: F401
    cgroups,
    context,
    forker,
    handler,
    instance,
    linux,
    sandbox,
    template,
    web,
)

# The Runtime API's relay: custom runtimes run on the platform's own interpreter only, whose
# httptools is built for it; a zygote of another Python version goes without it.
with contextlib.suppress(ImportError):
    from skylet.worker import runtime_api  # noqa: F401

#: How long a new template may take to enter its sandbox.
TEMPLATE_TIMEOUT_S = 10.0


class TemplateError(Exception):
    """A template could not enter its sandbox (the kernel's refusal, with what was tried)."""


class Zygote(forker.Forker):
    MAX_FDS = 1

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.transient: set[int] = set()  # the first process of each template, until reaped
        #: The functions' cgroups (skylet.worker.cgroups), once main opened them.
        self.weights: cgroups.CpuWeights | None = None
        self.cgroup_of: dict[int, str] = {}  # a template's pid → its cpu directory

    def handle(self, message: dict[str, Any], fds: list[int]) -> None:
        if message.get("op") != "template" or len(fds) != 1:
            super().handle(message, fds)
            return
        ident = message["id"]
        theirs = socket.socket(fileno=fds[0])
        try:
            pid = self.start_template(TemplateSpec.decode(message["spec"]), theirs, ident)
        except (TemplateError, OSError, ValueError, KeyError) as error:
            self.send({"event": "template", "id": ident, "error": str(error)})
        else:
            self.send({"event": "template", "id": ident, "pid": pid})
        finally:
            theirs.close()

    def start_template(self, spec: TemplateSpec, theirs: socket.socket, ident: int) -> int:
        """Fork a template for ``spec``; its pid, once it is in its sandbox."""
        cgroup = None
        if self.weights is not None and spec.cpu_shares is not None:
            cgroup = self.weights.create(
                f"t{ident}", spec.cpu_shares, spec.uid, spec.pids_max, spec.cpu_quota_us
            )
        up_r, up_w = os.pipe()  # first process → zygote: lines
        down_r, down_w = os.pipe()  # zygote → first process: "maps written"
        pid = os.fork()
        if pid == 0:
            os.close(up_r)
            os.close(down_w)
            self.in_child()
            self._first_process(spec, theirs, cgroup, up_w, down_r)
        os.close(up_w)
        os.close(down_r)
        self.transient.add(pid)
        try:
            child = self._await_template(pid, spec, up_r, down_w)
        finally:
            os.close(up_r)
            os.close(down_w)
        self.known.add(child)
        if cgroup is not None:
            self.cgroup_of[child] = cgroup
        return child

    def _first_process(
        self,
        spec: TemplateSpec,
        theirs: socket.socket,
        cgroup: str | None,
        up: int,
        down: int,
    ) -> None:
        """In the first process of a template: enter, fork the template, report; exit."""
        code = 0
        try:
            if cgroup is not None and self.weights is not None:
                cgroups.CpuWeights.join(self.weights.template_cgroup(cgroup))

            def await_maps() -> None:
                os.write(up, b"M\n")
                if os.read(down, 1) != b"G":
                    raise TemplateError("the zygote did not write the identity maps")

            entered = sandbox.enter_function(spec, await_maps)
            entered.cgroup = cgroup
            child = os.fork()
            if child == 0:
                os.close(up)
                os.close(down)
                sandbox.in_own_pid_namespace(entered)
                template.serve(theirs, entered)
            os.write(up, f"P{child}\n".encode())
        except BaseException as error:
            os.write(up, f"E{error}\n".encode(errors="replace")[:4000])
            code = 1
        finally:
            os._exit(code)

    def _await_template(self, pid: int, spec: TemplateSpec, up: int, down: int) -> int:
        deadline = time.monotonic() + TEMPLATE_TIMEOUT_S
        buffer = b""
        while True:
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([up], [], [], left)[0]:
                    os.kill(pid, signal.SIGKILL)
                    raise TemplateError(f"no template within {TEMPLATE_TIMEOUT_S:g} s")
                chunk = os.read(up, 4096)
                if not chunk:
                    raise TemplateError("the template's first process exited")
                buffer += chunk
            line, _, buffer = buffer.partition(b"\n")
            kind, rest = line[:1], line[1:].decode(errors="replace")
            if kind == b"M":
                if spec.uid is None:
                    raise TemplateError("a template of a root-run skylet needs a uid of its own")
                write_maps(pid, spec.uid)
                os.write(down, b"G")
            elif kind == b"P":
                return int(rest)
            else:
                raise TemplateError(rest)

    def exited(self, pid: int, status: int) -> None:
        self.transient.discard(pid)
        super().exited(pid, status)
        cgroup = self.cgroup_of.pop(pid, None)
        if cgroup is not None and self.weights is not None and not self.weights.remove(cgroup):
            self.cgroup_of[-pid] = cgroup  # still busy: tried again after the next reap

    def kill_orphans(self) -> None:
        super().kill_orphans()
        if self.weights is not None:
            for key in [k for k in self.cgroup_of if k < 0]:
                if self.weights.remove(self.cgroup_of[key]):
                    del self.cgroup_of[key]

    def expected(self, pid: int) -> bool:
        return pid in self.known or pid in self.transient

    def kill_all(self) -> None:
        super().kill_all()
        if self.weights is not None:
            self.weights.remove_all()


def write_maps(pid: int, uid: int) -> None:
    """The identity maps of a root-run template: uid 993 and gid 990 inside are ``uid``."""
    linux.write_id_maps(
        pid,
        f"{sandbox.INSIDE_UID} {uid} 1",
        f"{sandbox.INSIDE_GID} {uid} 1",
        deny_setgroups=False,
    )


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    # SIGTERM rather than SIGKILL when the platform dies (even by kill -9): the zygote then
    # still kills every template, whose PID namespaces take their instances with them.
    forker.prctl(forker.PR_SET_PDEATHSIG, signal.SIGTERM)
    forker.prctl(forker.PR_SET_CHILD_SUBREAPER, 1)
    try:
        zygote = Zygote(sock)
        zygote.weights, cpu = cgroups.open_weights(os.getppid())
        mechanisms = sandbox.probe(cpu)
        zygote.send({"event": "ready", "sandbox": mechanisms.encode(), "prefix": sys.prefix})
        gc.freeze()
        zygote.serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    except Exception:
        traceback.print_exc()
        raise


if __name__ == "__main__":
    main()
