"""What a fire does: queue the Scheduled Event for the function (durable once this returns), or
bring the function's provisioned instances to a schedule's count."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

from skylet.config import FunctionConfig
from skylet.events.async_invoke import AsyncInvoker
from skylet.invoker.invoker import Invoker
from skylet.schedules.plan import Schedule
from skylet.schedules.scheduled_event import rule_arn, scheduled_event

_IDS = uuid.UUID("6f1c1a52-5d0e-4c8e-9a57-4c0ad6d1f0a3")  # the namespace of fire ids


def fire_id(schedule: str, due: datetime) -> str:
    """The event id of one fire: the same for the same schedule and due instant, so a fire
    repeated after a crash can be recognised by the function."""
    return str(uuid.uuid5(_IDS, f"{schedule}@{due.isoformat()}"))


class RuleTargets(Protocol):
    """Delivers a schedule rule's fire to its targets (``EventBridge.fire_schedule``)."""

    async def fire_schedule(self, rule: str, due: datetime, event_id: str) -> None: ...


class ScheduleTargets:
    """The scheduler's ``fire`` callback, for the composition root."""

    def __init__(
        self,
        invoker: Invoker,
        async_invoker: AsyncInvoker,
        *,
        account: str,
        rules: RuleTargets | None = None,
    ) -> None:
        self._invoker = invoker
        self._async = async_invoker
        self.rules = rules
        self.account = account
        self.region = ""
        #: The provisioned count each function's last provisioned-concurrency fire set.
        self.provisioned: dict[str, int] = {}
        #: What a "ping" schedule's fire does (a Knative PingSource; the composition root
        #: sets it): durable once it returns, as the other fires.
        self.ping: Callable[[Schedule, datetime], Awaitable[None]] | None = None

    async def fire(self, schedule: Schedule, due: datetime) -> None:
        if schedule.kind == "provisioned":
            await self._provision(schedule.function, schedule.provisioned)
            return
        if schedule.kind == "rule":
            if self.rules is not None:
                await self.rules.fire_schedule(schedule.name, due, fire_id(schedule.name, due))
            return
        if schedule.kind == "ping":
            if self.ping is not None:
                await self.ping(schedule, due)
            return
        event = scheduled_event(
            schedule.name,
            due=due,
            event_id=fire_id(schedule.name, due),
            region=self.region,
            account=self.account,
        )
        arn = rule_arn(schedule.name, region=self.region, account=self.account)
        payload = schedule.target_input.render(event, rule_arn=arn, rule_name=schedule.name)
        await self._async.enqueue(schedule.function, payload)

    def apply(self, functions: Iterable[FunctionConfig]) -> list[FunctionConfig]:
        """``functions`` with the provisioned counts schedules set (a redeploy keeps them)."""
        return [
            dataclasses.replace(fn, provisioned_concurrency=self.provisioned[fn.name])
            if fn.name in self.provisioned
            else fn
            for fn in functions
        ]

    async def _provision(self, function: str, count: int) -> None:
        self.provisioned[function] = count
        # A changed function with provisioned instances warms them before it serves (the
        # invoker's update), so requests meet warm instances.
        await self._invoker.deploy(self.apply(self._invoker.functions()))
