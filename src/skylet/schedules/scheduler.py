"""The scheduler: fires each schedule when due, on one node, never twice for one due instant.

    Scheduler ──lease (queue skylet:schedules-lease)──▶ the node holding the token fires
        │ decide(timetable, last, now)                   (catch_up.py, pure)
        ├──▶ fire(schedule, due)  the composition root's callback (enqueue, or set provisioned)
        └──▶ last fire kept in the store (log skylet:schedules, one offset per schedule)

Fires are at least once: the callback runs (an invocation is durable once it returns), then the
due instant is kept. A crash between the two fires that instant again on start (with the same
event id); a restart otherwise never doubles a fire. The lease is the single token message of a
FIFO queue, received with a visibility timeout of ``lease_s`` and extended every third of it:
the node that holds it fires; when that node dies, the token is visible again within ``lease_s``
and another node takes over, its missed fires decided by the grace rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from skylet.errors import SkyletError
from skylet.schedules.catch_up import DEFAULT_GRACE_S, Decision, decide
from skylet.schedules.plan import Schedule
from skylet.store.base import Store

log = logging.getLogger(__name__)

STATE_LOG = "skylet:schedules"
LEASE_QUEUE = "skylet:schedules-lease"
Fire = Callable[[Schedule, datetime], Awaitable[None]]


class Scheduler:
    """Constructed without I/O; ``start`` opens its state, ``deploy`` sets the schedules."""

    def __init__(
        self,
        store: Store,
        fire: Fire,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        lease_s: float = 15.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._fire = fire
        self.grace_s = grace_s
        self.lease_s = lease_s
        self._now = now
        self._schedules: dict[str, Schedule] = {}
        self._last: dict[str, datetime] = {}
        self._anchor: dict[str, datetime] = {}
        self._next: dict[str, datetime | None] = {}
        self._receipt: str | None = None
        self._renew_at = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Fires sent and missed fires skipped, since start (for tests and metrics).
        self.fired = 0
        self.skipped = 0
        self.ticks = 0
        self._stopping = False

    async def start(self) -> None:
        await self._store.create_log(STATE_LOG)
        await self._store.create_queue(LEASE_QUEUE, fifo=True, retention_s=1_209_600)
        self._task = asyncio.create_task(self._run())

    async def deploy(self, schedules: tuple[Schedule, ...]) -> None:
        """Make exactly these schedules current. A new one counts from now (a rate's anchor)."""
        now = self._instant()
        for schedule in schedules:
            if schedule.name in self._last:
                continue
            last = await self._load("schedule", schedule.name)
            anchor = await self._load("schedule-anchor", schedule.name)
            if anchor is None:
                anchor = now.replace(microsecond=0)
                await self._keep("schedule-anchor", schedule.name, anchor)
            if last is None:
                last = anchor
                await self._keep("schedule", schedule.name, last)
            self._last[schedule.name], self._anchor[schedule.name] = last, anchor
        self._schedules = {s.name: s for s in schedules}
        self._next = {}
        self._wake.set()

    async def restart(self, name: str) -> None:
        """Count ``name`` from now, as a schedule never seen before (a rule made anew, or its
        expression changed): no fire before now is due, and a rate's phase starts now."""
        now = self._instant().replace(microsecond=0)
        await self._keep("schedule-anchor", name, now)
        await self._keep("schedule", name, now)
        self._last[name], self._anchor[name] = now, now
        self._next.pop(name, None)
        self._wake.set()

    def next_fires(self) -> list[tuple[Schedule, datetime | None]]:
        """Each schedule with its next due instant (None: disabled or never again)."""
        out = []
        for schedule in self._schedules.values():
            due = None
            if schedule.enabled and schedule.name in self._last:
                due = schedule.timetable.next_after(
                    self._last[schedule.name], tz=schedule.tz, anchor=self._anchor[schedule.name]
                )
            out.append((schedule, due))
        return out

    async def run_now(self, name: str) -> Schedule:
        """Fire ``name`` now, out of its timetable (``skylet schedule run``); KeyError if none."""
        schedule = self._schedules[name]
        await self._fire(schedule, self._instant().replace(microsecond=0))
        return schedule

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the tick: a wake-up during it is not lost
            try:
                delay = await self._tick()
            except SkyletError as error:  # the store recovers by itself; so does the lease
                log.warning("scheduler: %s; trying again", error)
                self._receipt = None
                delay = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, delay))

    def wake(self) -> None:
        """Look again now (after a clock moved, or a deploy)."""
        self._wake.set()

    async def _tick(self) -> float:
        """Fire what is due if this node holds the lease; seconds until the next look."""
        self.ticks += 1
        if not await self._hold_lease():
            return self.lease_s / 3
        now_s = self._now()
        now = _utc(now_s)
        decided = [
            (schedule, decision)
            for schedule in list(self._schedules.values())
            if schedule.enabled
            and schedule.name in self._last
            and (decision := self._decide(schedule, now)) is not None
        ]
        # Every due fire first, together (a function's enqueues share the store's commits),
        # then the last fires kept, one commit each: 50 schedules due on the same minute all
        # fire within milliseconds of it instead of one commit apart.
        fires = [(s, d.fire) for s, d in decided if d.fire is not None]
        outcomes = await asyncio.gather(
            *(self._fire(schedule, due) for schedule, due in fires),
            return_exceptions=True,  # each one ends before the next tick looks again
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        self.fired += len(outcomes) - len(failed)
        if failed:
            raise failed[0]  # nothing kept: the fires are decided (and sent) again
        for schedule, decision in decided:
            name = schedule.name
            if decision.last != self._last[name]:
                await self._keep("schedule", name, decision.last)
                self._last[name] = decision.last
            self._next[name] = decision.next_due
        wake_at = self._renew_at
        for due in self._next.values():
            if due is not None:
                wake_at = min(wake_at, due.timestamp())
        return wake_at - self._now()

    def _decide(self, schedule: Schedule, now: datetime) -> Decision | None:
        """The decision for ``schedule`` at ``now``; None while its next fire is not due."""
        name = schedule.name
        due = self._next.get(name, ...)
        if isinstance(due, datetime) and due > now:
            return None
        decision = decide(
            schedule.timetable,
            self._last[name],
            now,
            grace_s=self.grace_s,
            tz=schedule.tz,
            anchor=self._anchor[name],
        )
        if decision.skipped:
            self.skipped += decision.skipped
            log.warning(
                "schedule %s: %d missed fire(s) skipped, the latest due %s (more than %.0f s late)",
                name,
                decision.skipped,
                decision.last.isoformat(),
                self.grace_s,
            )
        return decision

    async def _hold_lease(self) -> bool:
        now = self._now()
        if self._receipt is not None and now < self._renew_at:
            return True
        store = self._store
        if self._receipt is not None:
            if await store.change_visibility(LEASE_QUEUE, self._receipt, self.lease_s):
                self._renew_at = now + self.lease_s / 3
                return True
            self._receipt = None  # it expired and another node took it
            log.warning("scheduler: lease lost; another node fires the schedules")
        stats = await store.queue_stats(LEASE_QUEUE)
        if stats.visible + stats.in_flight + stats.delayed == 0:
            # Nodes starting together send the same deduplication id: one token is stored.
            await store.send(LEASE_QUEUE, b"lease", group_id="lease", dedup_id="lease")
        got = await store.receive(LEASE_QUEUE, visibility_timeout_s=self.lease_s)
        if not got:
            return False
        self._receipt = got[0].receipt
        self._renew_at = now + self.lease_s / 3
        self._next = {}  # another node may have fired meanwhile: read the last fires again
        for name in self._schedules:
            last = await self._load("schedule", name)
            if last is not None:
                self._last[name] = last
        return True

    async def _load(self, kind: str, name: str) -> datetime | None:
        value = await self._store.committed(f"{kind}:{name}", STATE_LOG, 0)
        return None if value is None else _utc(value)

    async def _keep(self, kind: str, name: str, instant: datetime) -> None:
        await self._store.commit(f"{kind}:{name}", STATE_LOG, 0, int(instant.timestamp()))

    def _instant(self) -> datetime:
        return _utc(self._now())

    async def aclose(self) -> None:
        # Stopped between ticks, not cancelled inside one: a store call in flight completes.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._receipt is not None:  # hand the lease over at once
            with contextlib.suppress(SkyletError):
                await self._store.change_visibility(LEASE_QUEUE, self._receipt, 0)


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)
