"""The scheduler on a real store: fires when due, never twice across restarts, one node fires."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from skylet.manifest import ScheduleExpression
from skylet.schedules.plan import Schedule
from skylet.schedules.scheduler import Scheduler
from skylet.schedules.timetable import Timetable
from tests.store_fixtures import FakeClock, StoreMaker

pytestmark = pytest.mark.anyio


def _schedule(expression: str) -> Schedule:
    parsed = ScheduleExpression.parse(expression)
    return Schedule("tick", "fn", parsed, Timetable.compile(parsed))


EVERY_MINUTE = _schedule("rate(1 minute)")


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


class _Node:
    def __init__(
        self, make_store: StoreMaker, clock: FakeClock, schedule: Schedule = EVERY_MINUTE
    ) -> None:
        self.schedule = schedule
        self.store = make_store()
        self.fires: list[tuple[str, datetime]] = []
        self.scheduler = Scheduler(self.store, self._fire, now=clock, lease_s=30)

    async def _fire(self, schedule: Schedule, due: datetime) -> None:
        self.fires.append((schedule.name, due))

    async def start(self) -> _Node:
        await self.store.start()
        await self.scheduler.start()
        await self.scheduler.deploy((self.schedule,))
        return self

    async def settle(self) -> None:
        """Let the scheduler look at least twice more at the current time."""
        seen = self.scheduler.ticks
        self.scheduler.wake()
        await _until(lambda: self.scheduler.ticks >= seen + 1)
        self.scheduler.wake()
        await _until(lambda: self.scheduler.ticks >= seen + 2)

    async def aclose(self) -> None:
        await self.scheduler.aclose()
        await self.store.aclose()


def _at(clock: FakeClock, after_s: float) -> datetime:
    return datetime.fromtimestamp(int(FakeClock.FROZEN_AT) + after_s, UTC)


async def test_a_due_schedule_fires_with_its_due_instant(
    make_store: StoreMaker, clock: FakeClock
) -> None:
    node = await _Node(make_store, clock).start()
    await node.settle()
    assert node.fires == []
    clock.advance(60)
    await node.settle()
    assert node.fires == [("tick", _at(clock, 60))]
    await node.aclose()


async def test_a_restart_does_not_fire_again(make_store: StoreMaker, clock: FakeClock) -> None:
    node = await _Node(make_store, clock).start()
    clock.advance(60)
    await node.settle()
    await node.aclose()
    again = await _Node(make_store, clock).start()
    await again.settle()
    assert again.fires == []
    await again.aclose()


async def test_fires_missed_while_down_run_once_within_the_grace(
    make_store: StoreMaker, clock: FakeClock
) -> None:
    node = await _Node(make_store, clock).start()
    await node.aclose()
    clock.advance(190)  # three fires missed: 60, 120, 180 s
    again = await _Node(make_store, clock).start()
    await again.settle()
    assert again.fires == [("tick", _at(clock, 180))]
    assert again.scheduler.skipped == 2
    await again.aclose()


async def test_fires_missed_past_the_grace_are_skipped(
    make_store: StoreMaker, clock: FakeClock
) -> None:
    hourly = _schedule("rate(1 hour)")
    node = await _Node(make_store, clock, hourly).start()
    await node.aclose()
    clock.advance(3600 + 400)  # the missed fire is 400 s late: past 300 s of grace
    again = await _Node(make_store, clock, hourly).start()
    await again.settle()
    assert again.fires == []
    assert again.scheduler.skipped == 1
    await again.aclose()


async def test_of_two_nodes_one_fires(make_store: StoreMaker, clock: FakeClock) -> None:
    first = await _Node(make_store, clock).start()
    second = await _Node(make_store, clock).start()
    await first.settle()
    await second.settle()
    clock.advance(60)
    await first.settle()
    await second.settle()
    assert len(first.fires) + len(second.fires) == 1
    await first.aclose()
    await second.aclose()


async def test_a_node_that_stops_hands_the_lease_over(
    make_store: StoreMaker, clock: FakeClock
) -> None:
    first = await _Node(make_store, clock).start()
    second = await _Node(make_store, clock).start()
    await first.settle()
    await second.settle()
    holder, other = (first, second) if first.scheduler._receipt else (second, first)
    await holder.aclose()
    clock.advance(60)
    await other.settle()
    assert other.fires == [("tick", _at(clock, 60))]
    await other.aclose()
