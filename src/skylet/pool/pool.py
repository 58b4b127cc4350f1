"""The instances of one function version: warm reuse, cold starts, idle reaping, provisioning.

Concurrency *admission* (reserved concurrency, the platform-wide limit) is the invoker's; the
pool hands out an idle instance or starts one, and takes it back.
"""

from __future__ import annotations

import asyncio
import time

from skylet.functions import FunctionConfig, RuntimeSettings
from skylet.pool.instance import InstanceHandle
from skylet.pool.zygote import ZygoteClient


class FunctionPool:
    """Idle instances are reused last-in first-out, so the warmest one serves and the coldest
    ones age out under the keep-alive."""

    def __init__(self, fn: FunctionConfig, settings: RuntimeSettings, zygote: ZygoteClient) -> None:
        self.fn = fn
        self._settings = settings
        self._zygote = zygote
        self._idle: list[InstanceHandle] = []
        self._all: set[InstanceHandle] = set()
        self._closed = False
        self.cold_starts = 0

    @property
    def size(self) -> int:
        return len(self._all)

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    async def start(self) -> None:
        """Start the provisioned instances and wait until their init has run."""
        for _ in range(self.fn.provisioned_concurrency):
            self._spawn(provisioned=True)
        await asyncio.gather(*(i.wait_ready() for i in list(self._all)))

    def acquire(self) -> tuple[InstanceHandle, bool]:
        """An instance to invoke now, and whether it is a cold start. Never blocks."""
        while self._idle:
            instance = self._idle.pop()
            if instance.state != "dead":
                return instance, False
        self.cold_starts += 1
        return self._spawn(provisioned=False), True

    def release(self, instance: InstanceHandle) -> None:
        if instance.state == "dead":
            return
        if self._closed:
            instance.retire()
            return
        self._idle.append(instance)

    def _spawn(self, *, provisioned: bool) -> InstanceHandle:
        instance = InstanceHandle(
            self.fn,
            self._settings,
            self._zygote,
            provisioned=provisioned,
            on_dead=self._on_dead,
            on_idle=self.release,
        )
        self._all.add(instance)
        instance.start()
        if provisioned:
            self._idle.append(instance)
        return instance

    def _on_dead(self, instance: InstanceHandle) -> None:
        self._all.discard(instance)
        if instance in self._idle:
            self._idle.remove(instance)
        # A provisioned instance that died (it crashed, timed out, ran out of memory) is
        # replaced, so the function keeps its promised warm capacity.
        if instance.provisioned and not self._closed:
            self._spawn(provisioned=True)

    def reap(self, now: float | None = None) -> int:
        """Retire idle on-demand instances unused for ``keepalive_s``; returns how many."""
        now = time.monotonic() if now is None else now
        expired = [
            i
            for i in self._idle
            if not i.provisioned and now - i.last_used >= self._settings.keepalive_s
        ]
        for instance in expired:
            self._idle.remove(instance)
            instance.retire()
        return len(expired)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Retire idle instances now, give busy ones ``grace_s`` to finish, then kill them."""
        self._closed = True
        for instance in self._idle:
            instance.retire()
        self._idle.clear()
        deadline = time.monotonic() + grace_s
        while any(i.state == "busy" for i in self._all) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for instance in list(self._all):
            instance.retire()
