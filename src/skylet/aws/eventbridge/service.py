"""``EventBridge``: skylet's ``events`` service, one ``Service`` over the catalog (buses, rules,
targets, durable in the store) and the router (PutEvents' deliveries). The composition root
builds it without I/O, wires the sinks, and starts it after the store::

    events = EventBridge(store)
    events.router.functions = async_invoker; events.router.queues = sqs; events.router.topics = …
    await events.start()

Schedule rules (``ScheduleExpression``, on the default bus) fire on the platform's scheduler:
``on_schedules`` is called after a schedule rule changes, ``schedule_rules`` lists them, and
``fire_schedule`` sends one fire to the rule's targets. ``declare`` makes the manifest's rules
exist (``declared.py``). Archives and replays are ``ArchiveApi``'s (``archive_api.py``); failed
deliveries are retried by ``redelivery`` (``retries.py``); ``aclose`` stops both loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from skylet import arns
from skylet.aws.eventbridge.archive_api import ArchiveApi
from skylet.aws.eventbridge.archives import FINISHED, Archive, Replayer
from skylet.aws.eventbridge.catalog import DEFAULT_BUS, Bus, Catalog, LiveRule, Rule, Target
from skylet.aws.eventbridge.declared import Declarations
from skylet.aws.eventbridge.delivery import (
    MAX_ENTRIES,
    MAX_REQUEST_BYTES,
    Router,
    build_event,
    entry_failure,
    entry_size,
    rule_resource,
)
from skylet.aws.eventbridge.pattern import EventPattern, compile_pattern
from skylet.aws.eventbridge.retries import Redelivery, policy_problem
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.errors import ServiceError, SkyletError
from skylet.manifest.schedule import ScheduleExpression
from skylet.schedules.scheduled_event import scheduled_event
from skylet.schedules.target_input import InputError, TargetInput
from skylet.store.base import Store

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_TARGET_SERVICES = ("lambda", "sqs", "sns", "events", "skylet")  # skylet: a Knative broker
MAX_TARGETS_PER_RULE = 5


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, status=400, sender_fault=True)


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


async def _nothing() -> None:
    return None


async def _nothing_for(_name: str) -> None:
    return None


def bus_name(value: str | None) -> str:
    """A bus named by name or by ARN (``arn:aws:events:…:event-bus/NAME``)."""
    if not value:
        return DEFAULT_BUS
    return value.split(":event-bus/", 1)[1] if ":event-bus/" in value else value


class EventBridge(ArchiveApi, Service):
    service_name = "events"

    def __init__(self, store: Store, *, now: Callable[[], float] = time.time) -> None:
        self.catalog = Catalog(store)
        self.redelivery = Redelivery(store, now=now)
        self.router = Router(
            self.catalog,
            now=lambda: datetime.fromtimestamp(now(), UTC),
            redelivery=self.redelivery,
        )
        self._now = now
        self._store = store
        self.replayer = Replayer(store, self.router.replay, self.catalog.put_replay, now)
        #: Called after a schedule rule is made, changed, enabled, disabled or deleted: the
        #: composition root deploys ``schedule_rules()`` on its scheduler.
        self.on_schedules: Callable[[], Awaitable[None]] = _nothing
        #: Called (before ``on_schedules``) when a schedule rule is made or its expression
        #: changes: the composition root counts it from now.
        self.on_schedule_made: Callable[[str], Awaitable[None]] = _nothing_for
        #: How often the catalog is read for other nodes' schedule rules (seconds).
        self.watch_s = 2.0
        self._watcher: asyncio.Task[None] | None = None
        self._schedules_seen: tuple[tuple[str, str | None, str], ...] = ()
        #: The archives' patterns, compiled once per change of the archives.
        self._archive_key: tuple[Archive, ...] = ()
        self._compiled_archives: list[tuple[Archive, EventPattern | None]] = []

    async def start(self) -> None:
        await self.catalog.start()
        await self.redelivery.start()
        self._schedules_seen = self._schedule_key()
        self._watcher = asyncio.create_task(self._watch())
        for replay in list(self.catalog.replays.values()):
            if replay.state not in FINISHED:  # it ran when skylet stopped: it cannot go on
                reason = "skylet stopped during the replay"
                stopped = dataclasses.replace(replay, state="FAILED", reason=reason)
                await self.catalog.put_replay(stopped)

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.replayer.aclose()
        await self.redelivery.aclose()

    async def _schedules_changed(self) -> None:
        self._schedules_seen = self._schedule_key()
        await self.on_schedules()

    def _schedule_key(self) -> tuple[tuple[str, str | None, str], ...]:
        return tuple((r.name, r.schedule, r.state) for r in self.schedule_rules())

    async def _watch(self) -> None:
        """Read the catalog every ``watch_s``: schedule rules another node sharing the store
        made (or changed) reach this node's scheduler within that time."""
        while True:
            await asyncio.sleep(self.watch_s)
            try:
                await self.catalog.refresh()
                if self._schedule_key() != self._schedules_seen:
                    await self._schedules_changed()
            except SkyletError as error:  # the store recovers by itself
                log.warning("reading the events catalog failed: %s", error)

    async def fire_schedule(self, rule: str, due: datetime, event_id: str) -> None:
        """One fire of the schedule rule ``rule``: the Scheduled Event to each of its targets
        (the scheduler's callback; durable when it returns). A rule gone meanwhile: nothing."""
        await self.catalog.refresh()
        live = self.catalog.rule(DEFAULT_BUS, rule)
        if live is None or live.rule.schedule is None:
            return
        router = self.router
        event = scheduled_event(
            rule, due=due, event_id=event_id, region=router.region, account=router.account
        )
        await router.to_rule(DEFAULT_BUS, live, event)

    async def declare(self, declared: Declarations) -> None:
        """Make the manifest's buses and rules exist as declared (only what changed is written),
        and remove the rules an earlier manifest declared that this one does not."""
        catalog = self.catalog
        await catalog.refresh()
        for name in declared.buses:
            if name not in catalog.buses:
                await catalog.put_bus(Bus(name, "", self._now()))
        wanted = {(r.bus, r.name) for r in declared.rules}
        for bus in list(catalog.rules):
            for old in list(catalog.of_bus(bus)):
                if old.rule.origin == "manifest" and (bus, old.rule.name) not in wanted:
                    await catalog.delete_rule(bus, old.rule.name)
        for item in declared.rules:
            rule = Rule(
                item.bus,
                item.name,
                item.pattern,
                item.schedule,
                item.state,
                item.description,
                origin="manifest",
            )
            live = catalog.rule(item.bus, item.name)
            if live is None or live.rule != rule:
                await catalog.put_rule(rule)
                live = catalog.rule(item.bus, item.name)
            if live is not None and tuple(t for t, _ in live.targets) != item.targets:
                await catalog.put_targets(item.bus, item.name, list(item.targets))
        self._schedules_seen = self._schedule_key()  # the composition root schedules them next

    def schedule_rules(self) -> list[Rule]:
        """The default bus's schedule rules (enabled or not), in creation order."""
        return [live.rule for live in self.catalog.of_bus(DEFAULT_BUS) if live.rule.schedule]

    def _context(self, context: RequestContext) -> None:
        self.router.region = context.region
        self.router.account = context.account_id

    def _bus_arn(self, name: str, context: RequestContext) -> str:
        return arns.arn(
            "events", f"event-bus/{name}", region=context.region, account=context.account_id
        )

    def _rule_arn(self, bus: str, name: str, context: RequestContext) -> str:
        resource = rule_resource(bus, name)
        return arns.arn("events", resource, region=context.region, account=context.account_id)

    async def _bus(self, request: Params) -> str:
        await self.catalog.refresh()
        name = bus_name(request.get("EventBusName"))
        if name not in self.catalog.buses:
            raise _not_found(f"Event bus {name} does not exist.")
        return name

    async def _rule(self, request: Params, key: str = "Name") -> tuple[str, LiveRule]:
        bus = await self._bus(request)
        live = self.catalog.rule(bus, request[key])
        if live is None:
            raise _not_found(f"Rule {request[key]} does not exist on EventBus {bus}.")
        return bus, live

    # --- buses ------------------------------------------------------------------------------

    async def create_event_bus(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        name = request["Name"]
        if not _BUS_NAME.match(name) or name == DEFAULT_BUS:
            raise _validation(f"Event bus name {name} is not valid.")
        if name in self.catalog.buses:
            raise ServiceError(
                "ResourceAlreadyExistsException", f"Event bus {name} already exists."
            )
        await self.catalog.put_bus(Bus(name, request.get("Description", ""), self._now()))
        answer: Params = {"EventBusArn": self._bus_arn(name, context)}
        if request.get("Description"):
            answer["Description"] = request["Description"]
        return answer

    async def delete_event_bus(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        name = bus_name(request["Name"])
        if name == DEFAULT_BUS:
            raise _validation("Cannot delete event bus default.")
        if name in self.catalog.buses:  # deleting a missing bus succeeds, as on AWS
            await self.catalog.delete_bus(name)
        return {}

    async def describe_event_bus(self, request: Params, context: RequestContext) -> Params:
        name = await self._bus({"EventBusName": request.get("Name")})
        return self._bus_row(self.catalog.buses[name], context)

    async def list_event_buses(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        prefix = request.get("NamePrefix", "")
        rows = [
            self._bus_row(bus, context)
            for bus in sorted(self.catalog.buses.values(), key=lambda b: b.name)
            if bus.name.startswith(prefix)
        ]
        return _page("EventBuses", rows, request)

    def _bus_row(self, bus: Bus, context: RequestContext) -> Params:
        row: Params = {"Name": bus.name, "Arn": self._bus_arn(bus.name, context)}
        if bus.description:
            row["Description"] = bus.description
        if bus.created_at:
            row["CreationTime"] = datetime.fromtimestamp(bus.created_at, UTC)
        return row

    # --- rules ------------------------------------------------------------------------------

    async def put_rule(self, request: Params, context: RequestContext) -> Params:
        bus = await self._bus(request)
        name = request["Name"]
        if not _NAME.match(name):
            raise _validation(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            )
        pattern, schedule = request.get("EventPattern"), request.get("ScheduleExpression")
        if not pattern and not schedule:
            raise _validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if schedule:
            if bus != DEFAULT_BUS:
                raise _validation("ScheduleExpression is supported only on the default event bus.")
            try:
                parsed = ScheduleExpression.parse(str(schedule))
            except ValueError:
                parsed = None
            if parsed is None or parsed.flavor == "unix":  # 5 fields: skylet's, not the API's
                raise _validation("Parameter ScheduleExpression is not valid.")
        if pattern:
            compile_pattern(str(pattern))
        state = request.get("State", "ENABLED")
        if state not in ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"):
            raise _validation(f"Invalid State: {state}")
        rule = Rule(
            bus,
            name,
            pattern or None,
            schedule or None,
            state,
            request.get("Description", ""),
            request.get("RoleArn", ""),
        )
        before = self.catalog.rule(bus, name)
        await self.catalog.put_rule(rule)
        if schedule and (before is None or before.rule.schedule != schedule):
            await self.on_schedule_made(name)  # counted from now, as a new rule is
        if schedule or (before is not None and before.rule.schedule):
            await self._schedules_changed()
        return {"RuleArn": self._rule_arn(bus, name, context)}

    async def describe_rule(self, request: Params, context: RequestContext) -> Params:
        _bus, live = await self._rule(request)
        row = self._rule_row(live.rule, context)
        row["CreatedBy"] = context.account_id
        return row

    async def list_rules(self, request: Params, context: RequestContext) -> Params:
        bus = await self._bus(request)
        prefix = request.get("NamePrefix", "")
        rows = [
            self._rule_row(live.rule, context)
            for live in sorted(self.catalog.of_bus(bus), key=lambda r: r.rule.name)
            if live.rule.name.startswith(prefix)
        ]
        return _page("Rules", rows, request)

    async def enable_rule(self, request: Params, context: RequestContext) -> Params:
        return await self._set_state(request, "ENABLED")

    async def disable_rule(self, request: Params, context: RequestContext) -> Params:
        return await self._set_state(request, "DISABLED")

    async def _set_state(self, request: Params, state: str) -> Params:
        _bus, live = await self._rule(request)
        r = live.rule
        await self.catalog.put_rule(dataclasses.replace(r, state=state))
        if r.schedule:
            await self._schedules_changed()
        return {}

    async def delete_rule(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        bus = bus_name(request.get("EventBusName"))
        live = self.catalog.rule(bus, request["Name"])
        if live is None:
            return {}  # deleting a missing rule succeeds, as on AWS
        if live.targets and not request.get("Force"):
            raise _validation("Rule can't be deleted since it has targets.")
        await self.catalog.delete_rule(bus, request["Name"])
        if live.rule.schedule:
            await self._schedules_changed()
        return {}

    def _rule_row(self, rule: Rule, context: RequestContext) -> Params:
        row: Params = {
            "Name": rule.name,
            "Arn": self._rule_arn(rule.bus, rule.name, context),
            "State": rule.state,
            "EventBusName": rule.bus,
        }
        if rule.pattern:
            row["EventPattern"] = rule.pattern
        if rule.schedule:
            row["ScheduleExpression"] = rule.schedule
        if rule.description:
            row["Description"] = rule.description
        if rule.role_arn:
            row["RoleArn"] = rule.role_arn
        return row

    # --- targets ----------------------------------------------------------------------------

    async def put_targets(self, request: Params, context: RequestContext) -> Params:
        bus, live = await self._rule(request, "Rule")
        current = {t.id: t for t, _ in live.targets}
        failed: list[Params] = []
        for spec in request["Targets"]:
            arn = spec["Arn"]
            parts = arn.split(":")
            if len(parts) < 6 or parts[0] != "arn" or parts[2] not in _TARGET_SERVICES:
                raise _validation(
                    f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
                )
            try:
                TargetInput.compile(
                    input=spec.get("Input"),
                    input_path=spec.get("InputPath"),
                    transformer=spec.get("InputTransformer"),
                )
            except InputError as error:
                raise _validation(str(error)) from None
            problem = policy_problem(spec)
            if problem is not None:
                raise _validation(problem)
            extra = {k: v for k, v in spec.items() if k not in ("Id", "Arn")}
            current[spec["Id"]] = Target(spec["Id"], arn, extra)
        if len(current) > MAX_TARGETS_PER_RULE:
            raise ServiceError(
                "LimitExceededException",
                f"The requested resource exceeds the maximum number allowed "
                f"({MAX_TARGETS_PER_RULE} targets per rule).",
            )
        await self.catalog.put_targets(bus, live.rule.name, list(current.values()))
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    async def remove_targets(self, request: Params, context: RequestContext) -> Params:
        bus, live = await self._rule(request, "Rule")
        ids = set(request["Ids"])
        kept = [t for t, _ in live.targets if t.id not in ids]
        await self.catalog.put_targets(bus, live.rule.name, kept)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    async def list_targets_by_rule(self, request: Params, context: RequestContext) -> Params:
        _bus, live = await self._rule(request, "Rule")
        rows = [{"Id": t.id, "Arn": t.arn, **t.spec} for t, _ in live.targets]
        return _page("Targets", rows, request)

    # --- events -----------------------------------------------------------------------------

    async def put_events(self, request: Params, context: RequestContext) -> Params:
        self._context(context)
        entries = request["Entries"]
        if len(entries) > MAX_ENTRIES:
            raise _validation(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ENTRIES}"
            )
        if sum(entry_size(e) for e in entries) > MAX_REQUEST_BYTES:
            raise _validation("Total size of the entries in the request is over the limit.")
        await self.catalog.refresh()
        now = self.router.now()
        results: list[Params] = []
        for entry in entries:
            failure = entry_failure(entry)
            bus = bus_name(entry.get("EventBusName"))
            if failure is None and bus not in self.catalog.buses:
                failure = ("ResourceNotFoundException", f"Event bus {bus} does not exist.")
            if failure is not None:
                results.append({"ErrorCode": failure[0], "ErrorMessage": failure[1]})
                continue
            event_id = str(uuid.uuid4())
            event = build_event(
                entry, event_id=event_id, now=now, region=context.region, account=context.account_id
            )
            try:
                await self.router.route(bus, event)
                await self._archive(bus, event)
            except SkyletError as error:  # a delivery neither made nor kept for a retry
                log.warning("PutEvents: an entry failed: %s", error)
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": str(error)})
                continue
            results.append({"EventId": event_id})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    def test_event_pattern(self, request: Params, context: RequestContext) -> Params:
        pattern = compile_pattern(request["EventPattern"])
        try:
            event = json.loads(request["Event"])
        except ValueError:
            raise _validation("Parameter Event is not valid.") from None
        if not isinstance(event, dict):
            raise _validation("Parameter Event is not valid.")
        for field in ("id", "account", "source", "time", "region", "detail-type"):
            if field not in event:
                raise _validation(
                    f"Parameter Event is not valid. Reason: Field {field} is missing."
                )
        return {"Result": pattern.matches(event)}


def _page(key: str, rows: Iterable[Params], request: Params) -> Params:
    """One page of ``rows``: ``Limit`` of them (100 by default) from ``NextToken``."""
    everything = list(rows)
    token = request.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    limit = int(request.get("Limit") or 100)
    answer: Params = {key: everything[start : start + limit]}
    if start + limit < len(everything):
        answer["NextToken"] = str(start + limit)
    return answer
