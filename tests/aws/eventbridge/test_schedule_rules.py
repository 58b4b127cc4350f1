"""Schedule rules made through the events API fire by their timetable on the scheduler, on a
real store with a fake clock: the Scheduled Event of the due minute reaches the rule's target,
a disabled rule does not fire, and a rule another node makes reaches this node's scheduler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skylet.aws.eventbridge.service import EventBridge
from skylet.aws.service import RequestContext
from skylet.schedules.plan import Schedule, rule_schedules
from skylet.schedules.scheduler import Scheduler
from skylet.schedules.targets import fire_id
from skylet.store.sqlite import SqliteStore
from tests.store_fixtures import FakeClock

pytestmark = pytest.mark.anyio

QUEUE = "arn:aws:sqs:eu-west-1:000000000000:ticks"
CONTEXT = RequestContext("events", "PutRule", "json", "r", "eu-west-1", "000000000000", "h")


class _Queue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None:
        self.bodies.append(json.loads(body))


class _Node:
    """One node's EventBridge and scheduler on the shared store file, wired as the platform
    wires them."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.store = SqliteStore(path, now=clock, recheck_s=0.05)
        self.events = EventBridge(self.store, now=clock)
        self.events.watch_s = 0.05
        self.queue = _Queue()
        self.events.router.queues = self.queue
        self.events.router.region = "eu-west-1"
        self.scheduler = Scheduler(self.store, self._fire, now=clock, lease_s=30)
        self.events.on_schedules = self._deploy
        self.events.on_schedule_made = self.scheduler.restart

    async def _fire(self, schedule: Schedule, due: datetime) -> None:
        await self.events.fire_schedule(schedule.name, due, fire_id(schedule.name, due))

    async def _deploy(self) -> None:
        rules = [
            (r.name, r.schedule or "", r.state != "DISABLED") for r in self.events.schedule_rules()
        ]
        await self.scheduler.deploy(rule_schedules(rules, ()))

    async def start(self) -> _Node:
        await self.store.start()
        await self.events.start()
        await self.scheduler.start()
        await self._deploy()
        return self

    async def aclose(self) -> None:
        await self.scheduler.aclose()
        await self.events.aclose()
        await self.store.aclose()


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[_Node, FakeClock]]:
    clock = FakeClock()
    started = await _Node(tmp_path / "state.db", clock).start()
    yield started, clock
    await started.aclose()


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not before the deadline"
        await asyncio.sleep(0.01)


async def _tick_rule(events: EventBridge, state: str = "ENABLED") -> None:
    await events.put_rule(
        {"Name": "tick", "ScheduleExpression": "cron(* * * * ? *)", "State": state}, CONTEXT
    )
    await events.put_targets(
        {"Rule": "tick", "Targets": [{"Id": "q", "Arn": QUEUE, "InputPath": "$.time"}]}, CONTEXT
    )


async def test_a_schedule_rule_fires_at_its_due_minute(node: tuple[_Node, FakeClock]) -> None:
    one, clock = node
    await _tick_rule(one.events)
    (due,) = [d for _, d in one.scheduler.next_fires()]
    assert due is not None and due.second == 0
    clock.advance(due.timestamp() - clock() + 0.5)
    one.scheduler.wake()
    await _until(lambda: bool(one.queue.bodies))
    assert one.queue.bodies == [due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]


async def test_a_disabled_schedule_rule_does_not_fire(node: tuple[_Node, FakeClock]) -> None:
    one, clock = node
    await _tick_rule(one.events, state="DISABLED")
    assert [d for _, d in one.scheduler.next_fires()] == [None]
    clock.advance(180)
    for _ in range(2):  # two looks at the later time
        ticks = one.scheduler.ticks
        one.scheduler.wake()
        await _until(lambda: one.scheduler.ticks > ticks)  # noqa: B023 (read at once)
    assert one.queue.bodies == []


async def test_a_rule_another_node_makes_reaches_this_nodes_scheduler(
    node: tuple[_Node, FakeClock], tmp_path: Path
) -> None:
    one, clock = node
    shared = SqliteStore(tmp_path / "state.db", now=clock)
    await shared.start()
    other = EventBridge(shared, now=clock)
    await other.start()
    try:
        await _tick_rule(other)
    finally:
        await other.aclose()
        await shared.aclose()
    await _until(lambda: [s.name for s, _ in one.scheduler.next_fires()] == ["tick"])


async def test_a_rule_made_again_counts_from_then_with_no_catch_up_fire(
    node: tuple[_Node, FakeClock],
) -> None:
    one, clock = node
    await _tick_rule(one.events)
    await one.events.remove_targets({"Rule": "tick", "Ids": ["q"]}, CONTEXT)
    await one.events.delete_rule({"Name": "tick"}, CONTEXT)
    clock.advance(150)  # fires fell due meanwhile, within the grace period
    await _tick_rule(one.events)
    (due,) = [d for _, d in one.scheduler.next_fires()]
    assert due is not None and due.timestamp() > clock()
    for _ in range(2):
        ticks = one.scheduler.ticks
        one.scheduler.wake()
        await _until(lambda: one.scheduler.ticks > ticks)  # noqa: B023 (read at once)
    assert one.queue.bodies == []
