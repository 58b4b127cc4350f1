"""A Service's instances, scaled by the KPA (the act side), and the activator in front of them.

Every request passes through :meth:`Revision.acquire`, which gives it an instance with room
(fewer than ``containerConcurrency`` requests in flight, or the least busy one when there is
no limit) or queues it, first come first served. A request arriving when no instance exists
starts ``max(1, activationScale)`` at once (Knative's activator pokes the autoscaler the same
way) and waits: none is dropped. Beyond ``queue_depth`` waiting requests, or after the
service's ``timeoutSeconds`` of waiting, a request gets 503, as the activator sheds load.

Every ``TICK_S`` the collector's averages go to ``kpa.decide`` and the revision starts or
drains instances to the count it returns. Requests count from their arrival, queued ones
included, so a queue drives scale-up as Knative's activator reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from skylet.autoscale import kpa
from skylet.autoscale.kpa import Observed, State
from skylet.autoscale.metrics import Collector
from skylet.autoscale.spec import TICK_S
from skylet.manifest.knative_serving import KnativeService
from skylet.programs import limits
from skylet.programs.instance import Instance
from skylet.wire.sandbox import TemplateSpec


class Overloaded(Exception):
    """No instance took the request in time, or too many wait already (a 503)."""


@dataclass(frozen=True, slots=True)
class Tick:
    at_s: float  # since the revision started
    desired: int
    ready: int
    panicking: bool
    stable: float
    panic: float


class Revision:
    def __init__(
        self,
        service: KnativeService,
        base_environment: Mapping[str, str],
        client: httpx.AsyncClient,
        *,
        cgroup: str | None = None,
        sandbox: TemplateSpec | None = None,
        log: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.base_environment = base_environment
        self.client = client
        self.cgroup = cgroup
        self.sandbox = sandbox
        self.log = log
        self.clock = clock
        self.began = clock()
        spec = service.scale
        self.collector = Collector(self.began, keep_s=spec.stable_window_s)
        self.state = State()
        self.instances: list[Instance] = []
        self.started = 0  # instances started, in all
        self.history: deque[Tick] = deque(maxlen=2000)
        #: Each instance's first time to ready, in start order (restarts not counted).
        self.ready_times_ms: list[float] = []
        self._counted: set[int] = set()
        self._waiters: deque[asyncio.Future[Instance]] = deque()
        self._ticker: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()
        #: Why the program cannot start at all (its sandbox refused), or None.
        self.refused: str | None = None

    # -- the act side ---------------------------------------------------------------------

    def alive(self) -> list[Instance]:
        return [i for i in self.instances if not i.draining]

    def ready(self) -> list[Instance]:
        return [i for i in self.instances if i.is_ready]

    def start(self) -> None:
        self.refused = limits.unreadable(self.sandbox)
        if self.refused is not None:
            self.log(f"{self.service.name}: cannot start its program: {self.refused}")
            return
        self.state = State(active_since=self.clock())
        self._scale_to(kpa.initial(self.service.scale))
        self._ticker = asyncio.create_task(self._tick_forever())

    def _scale_to(self, desired: int) -> None:
        alive = self.alive()
        for _ in range(desired - len(alive)):
            instance = Instance(
                self.service,
                self.base_environment,
                self.client,
                cgroup=self.cgroup,
                sandbox=self.sandbox,
                log=self.log,
                on_ready=self._on_ready,
            )
            self.instances.append(instance)
            self.started += 1
            instance.start()
        if desired < len(alive):
            if desired == 0 and (self._waiters or any(i.in_flight for i in alive)):
                desired = 1  # never the last one while requests are here
            # The starting and the idle go first, the busiest last.
            for instance in sorted(alive, key=lambda i: (i.is_ready, i.in_flight))[
                : len(alive) - desired
            ]:
                instance.draining = True
                task = asyncio.create_task(self._retire(instance))
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)

    def _on_ready(self) -> None:
        self.ready_times_ms.extend(
            round(i.ready_s * 1000, 2)
            for i in self.instances
            if i.ready_s is not None and id(i) not in self._counted
        )
        self._counted.update(id(i) for i in self.instances if i.ready_s is not None)
        self._dispatch()

    async def _retire(self, instance: Instance) -> None:
        await instance.stop()
        with contextlib.suppress(ValueError):
            self.instances.remove(instance)

    def tick(self) -> None:
        """One decision, and acting on it."""
        now = self.clock()
        spec = self.service.scale
        index = 0 if spec.metric == "concurrency" else 1
        stable = self.collector.averages(now, spec.stable_window_s)[index]
        panic = self.collector.averages(now, spec.panic_window_s)[index]
        ready = len(self.ready())
        decision = kpa.decide(spec, self.state, Observed(stable, panic, ready), now)
        if decision is None:
            return
        self.state = decision.state
        self.history.append(
            Tick(now - self.began, decision.desired, ready, decision.panicking, stable, panic)
        )
        self._scale_to(decision.desired)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.tick()

    # -- the activator --------------------------------------------------------------------

    def _free(self) -> Instance | None:
        limit = self.service.container_concurrency
        chosen = None
        for instance in self.instances:
            if not instance.is_ready or (limit and instance.in_flight >= limit):
                continue
            if chosen is None or instance.in_flight < chosen.in_flight:
                chosen = instance
        return chosen

    def _dispatch(self) -> None:
        """Give waiting requests, oldest first, the instances that have room."""
        while self._waiters:
            waiter = self._waiters[0]
            if waiter.done():
                self._waiters.popleft()
                continue
            instance = self._free()
            if instance is None:
                return
            self._waiters.popleft()
            instance.in_flight += 1
            waiter.set_result(instance)

    async def acquire(self) -> Instance:
        """An instance for one request (``release`` it after); Overloaded for a 503."""
        self.collector.started(self.clock())
        try:
            return await self._acquire()
        except BaseException:
            self.collector.ended(self.clock())
            raise

    async def _acquire(self) -> Instance:
        if self.refused is not None:
            raise Overloaded(f"its program cannot start: {self.refused}")
        if not self._waiters:
            instance = self._free()
            if instance is not None:
                instance.in_flight += 1
                return instance
        if len(self._waiters) >= self.service.queue_depth:
            raise Overloaded(f"{len(self._waiters)} requests wait already")
        if not self.alive():
            self.state = State(active_since=self.clock())  # from zero: the activator's poke
            self._scale_to(kpa.from_zero(self.service.scale))
        waiter: asyncio.Future[Instance] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), self.service.timeout_s)
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # given as this request gave up
            else:
                waiter.cancel()
            if isinstance(error, TimeoutError):
                raise Overloaded(
                    f"no instance had room within {self.service.timeout_s:g} s"
                ) from None
            raise

    def _give_back(self, instance: Instance) -> None:
        instance.in_flight -= 1
        self._dispatch()

    def release(self, instance: Instance) -> None:
        self.collector.ended(self.clock())
        self._give_back(instance)

    def status(self) -> dict[str, object]:
        last = self.history[-1] if self.history else None
        return {
            "name": self.service.name,
            "ageS": round(self.clock() - self.began, 3),
            "instances": len(self.alive()),
            "ready": len(self.ready()),
            "started": self.started,
            "waiting": len(self._waiters),
            "inFlight": sum(i.in_flight for i in self.instances),
            "restarts": sum(i.restarts for i in self.instances),
            "panicking": bool(last and last.panicking),
            "readyTimesMs": self.ready_times_ms[-100:],
            "history": [[round(t.at_s, 2), t.desired, t.ready, t.panicking] for t in self.history],
        }

    async def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for waiter in self._waiters:
            waiter.cancel()
        await asyncio.gather(
            *(i.stop(grace_s=1.0) for i in self.instances),
            *self._stopping,
            return_exceptions=True,
        )
