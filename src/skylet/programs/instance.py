"""One instance of a Knative Service: its program as a process serving ``PORT``, probed.

``start`` runs the program with ``PORT`` (a free port of its own: several instances share
this machine's network), ``K_SERVICE``/``K_REVISION``/``K_CONFIGURATION`` and the container's
``env``; ``ready`` resolves once the readiness probe passes (after ``initialDelaySeconds``,
every ``periodSeconds``). The liveness probe then runs every ``periodSeconds``: after
``failureThreshold`` failures in a row the program is killed and started again, as the
kubelet restarts a container; so is a program that exits or goes over its memory limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping

import httpx

from skylet.manifest.knative_serving import KnativeService, Probe
from skylet.programs import limits
from skylet.wire.sandbox import TemplateSpec

#: How long a program may take to pass its readiness probe (Knative's progress deadline is
#: longer; a local program that has not answered in this long is reported and restarted).
START_TIMEOUT_S = 120.0
#: How often resident memory is checked against ``limits.memory``.
MEMORY_EVERY_S = 0.5
STOP_GRACE_S = 5.0
#: How often a starting program's port is tried before its readiness probe runs.
PORT_POLL_S = 0.002


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def probe_once(
    probe: Probe, port: int, client: httpx.AsyncClient, container_port: int = 0
) -> bool:
    """Whether one probe passes: a TCP connection, or an HTTP GET answered 200-399. A probe
    of the containerPort (or of none) probes the instance's own ``port``."""
    target = port if probe.port in (None, container_port) else probe.port
    try:
        if probe.kind == "tcp":
            _, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", target), probe.timeout_s
            )
            writer.close()
            return True
        answer = await client.get(f"http://127.0.0.1:{target}{probe.path}", timeout=probe.timeout_s)
        return 200 <= answer.status_code < 400
    except (TimeoutError, OSError, httpx.HTTPError):
        return False


class Instance:
    """One program; ``in_flight`` is counted by the revision that sends it requests."""

    def __init__(
        self,
        service: KnativeService,
        base_environment: Mapping[str, str],
        client: httpx.AsyncClient,
        *,
        cgroup: str | None = None,
        sandbox: TemplateSpec | None = None,
        log: Callable[[str], None] = lambda _: None,
        on_ready: Callable[[], None] = lambda: None,
    ) -> None:
        self.service = service
        self.base_environment = base_environment
        self.client = client
        self.cgroup = cgroup
        self.sandbox = sandbox
        self.log = log
        self.on_ready = on_ready
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None
        self.in_flight = 0
        self.draining = False
        self.restarts = 0
        self.started_at = 0.0
        self.ready_s: float | None = None  # the last start's time to ready
        self._ready = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._output: asyncio.Task[None] | None = None

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set() and not self.draining

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def _spawn(self) -> None:
        svc = self.service
        self.port = free_port()
        env = {
            **self.base_environment,
            **svc.environment,
            "PORT": str(self.port),
            "K_SERVICE": svc.name,
            "K_CONFIGURATION": svc.name,
            "K_REVISION": f"{svc.name}-00001",
        }
        self.started_at = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            *svc.command,
            cwd=svc.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=limits.preexec(svc.memory_mb, self.cgroup, self.sandbox),
        )
        self._output = asyncio.create_task(self._forward_output(self.process))

    async def _forward_output(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            self.log(
                f"[{self.service.name} {process.pid}] {line.decode(errors='replace').rstrip()}"
            )

    async def _run(self) -> None:
        """Start, wait for readiness, watch liveness and memory; again after each failure."""
        while not self._closed:
            try:
                await self._spawn()
            except (OSError, subprocess.SubprocessError) as error:
                # A preexec failure (the sandbox refused) arrives as SubprocessError.
                self.log(f"{self.service.name}: cannot start {self.service.command[0]}: {error}")
                await asyncio.sleep(1.0)
                continue
            reason = await self._watch()
            self._ready.clear()
            if self._closed:
                return
            self.restarts += 1
            self.log(f"{self.service.name}: restarting the program ({reason})")
            await self._kill()
            await asyncio.sleep(min(10.0, 0.1 * 2 ** min(self.restarts, 7)))

    async def _watch(self) -> str:
        """Until the program must be restarted; why."""
        svc, process = self.service, self.process
        assert process is not None
        exited = asyncio.create_task(process.wait())
        try:
            readiness = svc.readiness
            await asyncio.sleep(readiness.initial_delay_s)
            deadline = time.monotonic() + START_TIMEOUT_S
            # Until the port takes connections, a refused connect costs microseconds: look
            # every 2 ms, so a start is seen within that, then probe as the Service says.
            while readiness.port in (None, svc.port) and not await _accepts(self.port):
                if exited.done():
                    return f"it exited with {process.returncode} before it was ready"
                if time.monotonic() > deadline:
                    return f"not ready after {START_TIMEOUT_S:g} s"
                await asyncio.sleep(PORT_POLL_S)
            while not await probe_once(readiness, self.port, self.client, svc.port):
                if exited.done():
                    return f"it exited with {process.returncode} before it was ready"
                if time.monotonic() > deadline:
                    return f"not ready after {START_TIMEOUT_S:g} s"
                await asyncio.sleep(readiness.period_s)
            self.ready_s = time.monotonic() - self.started_at
            self._ready.set()
            self.on_ready()
            return await self._live(exited)
        finally:
            exited.cancel()

    async def _live(self, exited: asyncio.Task[int]) -> str:
        svc = self.service
        liveness, failures = svc.liveness, 0
        next_probe = time.monotonic() + (liveness.initial_delay_s if liveness else 0)
        limit_kb = (svc.memory_mb or 0) * 1024
        assert self.process is not None
        while True:
            await asyncio.wait({exited}, timeout=MEMORY_EVERY_S)
            if exited.done():
                return f"it exited with {self.process.returncode}"
            if limit_kb and limits.rss_kb(self.process.pid) > limit_kb:
                return f"it used more than its {svc.memory_mb} MiB (limits.memory)"
            if liveness is not None and time.monotonic() >= next_probe:
                next_probe = time.monotonic() + liveness.period_s
                if await probe_once(liveness, self.port, self.client, svc.port):
                    failures = 0
                else:
                    failures += 1
                    if failures >= liveness.failure_threshold:
                        return f"its liveness probe failed {failures} times"

    async def _kill(self, grace_s: float = 0.0) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM if grace_s else signal.SIGKILL)
        try:
            await asyncio.wait_for(process.wait(), grace_s or 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop taking requests, let those in flight finish, then SIGTERM (SIGKILL after
        ``grace_s``), as Kubernetes stops a pod."""
        self.draining = True
        while self.in_flight:
            await asyncio.sleep(0.01)
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._kill(grace_s)
