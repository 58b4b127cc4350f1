"""The instances of one function version: warm reuse, cold starts, idle reaping, provisioning.

Concurrency *admission* (reserved concurrency, the platform-wide limit) is the invoker's; the
pool places each admitted invocation: on an idle instance, behind a running one, or on a new
one (skylet.pool.autoscaler decides), and places it again if it comes back unrun.

Provisioned instances warm in the background: ``start`` returns at once, and the pool's
``state`` says how far they are (skylet.pool.provisioning). One that dies is replaced, at once
if it had served, with back-off while they die young; after repeated failed inits the function
stays Failed and nothing more is started for it. Failed inits are reported to ``events``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.pool import autoscaler, provisioning
from skylet.pool.environment import instance_spec
from skylet.pool.instance import InstanceHandle
from skylet.pool.invocation import InitFailure, Invocation, refuse
from skylet.pool.provisioning import ACTIVE, CREATING, FunctionState
from skylet.pool.template import Snapshotting, TemplateClient
from skylet.pool.zygote import ZygoteClient
from skylet.wire.invocation import Deliver, InvokeRequest, RawOutcome

logger = logging.getLogger(__name__)

#: Instances that may run at once without one waiting for a CPU.
CPUS = len(os.sched_getaffinity(0))


class PoolStats(NamedTuple):
    """A function's instances now, and how its invocations were placed since it deployed."""

    instances: int
    idle: int
    cold_starts: int
    #: Invocations an instance gave back unrun and that were placed on another.
    placed_again: int


class PoolEvents(Protocol):
    """What a pool tells its owner: an init that failed where no invocation reports it (a
    provisioned instance's, or one that timed out and is tried again), and each change of its
    ``state``."""

    def init_failed(self, pool: FunctionPool, failure: InitFailure) -> None: ...

    def state_changed(self, pool: FunctionPool) -> None: ...


class _Unobserved:
    def init_failed(self, pool: FunctionPool, failure: InitFailure) -> None:
        pass

    def state_changed(self, pool: FunctionPool) -> None:
        pass


class FunctionPool:
    """Idle instances are reused last-in first-out, so the warmest one serves and the coldest
    ones age out under the keep-alive."""

    def __init__(
        self,
        fn: FunctionConfig,
        settings: RuntimeSettings,
        zygote: ZygoteClient,
        events: PoolEvents | None = None,
    ) -> None:
        self.fn = fn
        self._settings = settings
        self._zygote = zygote
        self._events = events or _Unobserved()
        #: The function's template: its sandbox, entered once; its instances fork from it.
        self.template = TemplateClient(
            zygote,
            lambda: zygote.policy.spec_for(fn),
            self._setup,
            snapshot=self._snapshotting(),
        )
        self.state: FunctionState = ACTIVE
        self._init_failures = 0  # provisioned inits that failed in a row
        self._young_deaths = 0  # provisioned instances that died young in a row
        self._starting: set[asyncio.TimerHandle] = set()  # replacements waiting out a back-off
        self._idle: list[InstanceHandle] = []
        self._all: set[InstanceHandle] = set()
        self._busy: set[InstanceHandle] = set()
        self._typical_ms: float | None = None  # how long an invocation takes, lately
        self._closed = False
        self.cold_starts = 0
        #: Invocations an instance gave back unrun (written behind one that ran long, or
        #: behind one that died) and placed on another.
        self.placed_again = 0

    def _snapshotting(self) -> Snapshotting | None:
        """How the template takes the function's snapshot (``snapStart``), if it does."""
        fn, settings = self.fn, self._settings
        if not fn.snap_start:
            return None
        refused = self._zygote.policy.snapshots_refused()
        if refused is not None:
            logger.warning("%s: no snapshot: %s", fn.name, refused)
            return None

        return Snapshotting(
            timeout_s=max(settings.provisioned_init_timeout_s, fn.timeout_s),
            failed=lambda failure: self._events.init_failed(self, failure),
            output_cap=settings.output_cap_bytes,
        )

    def _setup(self, snapshot: bool) -> dict[str, Any]:
        """What the template sets up for all its spares: an instance's SPEC (each instance
        then changes only what is its own)."""
        return instance_spec(
            self.fn,
            self._settings,
            provisioned=False,
            marker=b"",
            runtime_dir=self._zygote.runtime_dir,
            snap_start=snapshot,
        )

    def stats(self) -> PoolStats:
        return PoolStats(len(self._all), len(self._idle), self.cold_starts, self.placed_again)

    def start(self) -> None:
        """Make the function's template and start the provisioned instances, all in the
        background (``state`` says how far provisioning is)."""
        self.template.prepare()
        if self.fn.provisioned_concurrency:
            self.state = CREATING
        for _ in range(self.fn.provisioned_concurrency):
            self._spawn(provisioned=True)

    def _set_state(self, state: FunctionState) -> None:
        if state != self.state:
            self.state = state
            self._events.state_changed(self)

    def submit(
        self,
        request: InvokeRequest,
        timeout_s: float,
        deliver: Deliver,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        """Run one invocation; ``deliver`` is always called once with its outcome (see
        skylet.pool.instance.Invocation for when).

        ``on_done`` runs once an instance has finished with the invocation, even if whoever
        awaits the outcome stopped waiting (the caller's slot accounting relies on it).
        """
        self._place(Invocation(request, timeout_s, deliver, on_done))

    def _place(self, invocation: Invocation) -> None:
        busy = self._busy
        idle = self._idle
        instance = idle[-1] if idle and idle[-1].state != "dead" else self._warmest_idle()
        typical = self._typical_ms
        if busy and autoscaler.look_for_running(typical, instance is not None, len(busy), CPUS):
            now = time.perf_counter()
            best: InstanceHandle | None = None
            best_depth = autoscaler.MAX_DEPTH
            for candidate in busy:
                depth = len(candidate.queue)
                if (
                    depth < best_depth
                    and candidate.pid is not None  # not still waiting for a process
                    and autoscaler.can_wait_behind(depth, now - candidate.head_since, typical)
                ):
                    best, best_depth = candidate, depth
            if best is not None:
                best.submit(invocation)
                return
        if instance is None:
            self.cold_starts += 1
            invocation.cold = True
            instance = self._spawn(provisioned=False)
            if not instance.alive:  # no process to be had (no zygote is up): it refuses
                instance.submit(invocation)
                return
        else:
            idle.pop()
        busy.add(instance)
        instance.submit(invocation)

    def _warmest_idle(self) -> InstanceHandle | None:
        """The most recently used idle instance (it stays in the idle list); dead ones go."""
        idle = self._idle
        while idle and idle[-1].state == "dead":
            idle.pop()
        return idle[-1] if idle else None

    def _give_back(self, invocation: Invocation) -> None:
        """An invocation an instance did not run (bounced, or the instance died before it)."""
        self.placed_again += 1
        if not self._closed:
            self._place(invocation)
            return
        # A version being replaced starts nothing new, but what it still runs may take this.
        live = [i for i in self._all if i.alive and i.ready and i.queue]
        if live:
            min(live, key=lambda i: len(i.queue)).submit(invocation)
        else:
            refuse(invocation)

    def _on_outcome(self, outcome: RawOutcome) -> None:
        if outcome.kind in ("ok", "error", "timeout"):
            self._typical_ms = autoscaler.typical_ms(self._typical_ms, outcome.duration_ms)

    def release(self, instance: InstanceHandle) -> None:
        self._busy.discard(instance)
        if instance.state == "dead":
            return
        if self._closed:
            instance.retire()
            return
        self._idle.append(instance)

    def _spawn(self, *, provisioned: bool) -> InstanceHandle:
        settings = self._settings
        init_timeout_s = settings.init_timeout_s
        if provisioned:
            init_timeout_s = max(settings.provisioned_init_timeout_s, self.fn.timeout_s)
        instance = InstanceHandle(
            self.fn,
            settings,
            self.template,
            provisioned=provisioned,
            init_timeout_s=init_timeout_s,
            on_dead=self._on_dead,
            on_idle=self.release,
            on_ready=self._on_ready,
            on_init_failed=self._on_init_failed,
            on_outcome=self._on_outcome,
            give_back=self._give_back,
        )
        self._all.add(instance)
        instance.start()
        return instance

    def _on_ready(self, instance: InstanceHandle) -> None:
        if instance.provisioned:
            # Only now does it take invocations: until then they run on demand, as those
            # beyond provisioned concurrency do, rather than wait for an init that may hang.
            if not instance.queue:
                self.release(instance)
            self._init_failures = 0
            ready = sum(1 for i in self._all if i.provisioned and i.ready)
            if ready >= self.fn.provisioned_concurrency:
                self._set_state(ACTIVE)
        elif self.state.state == "Failed":
            # Its own init worked after all (the cause was passing): provisioning resumes.
            self._init_failures = self._young_deaths = 0
            self._set_state(ACTIVE if self._provisioned_missing() == 0 else CREATING)
            for _ in range(self._provisioned_missing()):
                self._spawn(provisioned=True)

    def _provisioned_missing(self) -> int:
        present = sum(1 for i in self._all if i.provisioned) + len(self._starting)
        return max(self.fn.provisioned_concurrency - present, 0)

    def _on_init_failed(self, instance: InstanceHandle, failure: InitFailure) -> None:
        if instance.provisioned or failure.status == "timeout":
            self._events.init_failed(self, failure)
        if instance.provisioned:
            self._init_failures += 1
            self._set_state(provisioning.failed(failure))

    def _on_dead(self, instance: InstanceHandle) -> None:
        self._all.discard(instance)
        self._busy.discard(instance)
        if instance in self._idle:
            self._idle.remove(instance)
        if not instance.provisioned or self._closed:
            return
        # A provisioned instance that died (it crashed, timed out, ran out of memory, or its
        # init failed) is replaced, so the function keeps its promised warm capacity; but not
        # in a loop: with back-off while they die young, and not at all after repeated failed
        # inits (skylet.pool.provisioning).
        young = not instance.ready or time.monotonic() - instance.ready_at < provisioning.YOUNG_S
        self._young_deaths = self._young_deaths + 1 if young else 0
        delay = provisioning.replacement_delay_s(self._init_failures, self._young_deaths)
        if delay is None:
            return
        if delay == 0:
            self._spawn(provisioned=True)
            return
        timer: asyncio.TimerHandle

        def replace() -> None:
            self._starting.discard(timer)
            if not self._closed:
                self._spawn(provisioned=True)

        timer = asyncio.get_running_loop().call_later(delay, replace)
        self._starting.add(timer)

    def reap(self, now: float | None = None) -> int:
        """Retire idle on-demand instances unused for ``keepalive_s``; returns how many."""
        now = time.monotonic() if now is None else now
        keepalive = self.fn.keepalive_s
        if keepalive is None:
            keepalive = self._settings.keepalive_s
        expired = [i for i in self._idle if not i.provisioned and now - i.last_used >= keepalive]
        for instance in expired:
            self._idle.remove(instance)
            instance.retire()
        return len(expired)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Retire idle instances, and those still in their init, now; give busy ones ``grace_s``
        to finish, then kill them. Nothing waits on an init: it may never end."""
        self._closed = True
        for timer in self._starting:
            timer.cancel()
        self._starting.clear()
        for instance in [*self._idle, *(i for i in self._all if not i.ready)]:
            instance.retire()
        self._idle.clear()
        deadline = time.monotonic() + grace_s
        while any(i.queue for i in self._all) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for instance in list(self._all):
            instance.retire()
        self.template.close()
