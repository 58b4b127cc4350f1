"""``EventBridge``: skylet's ``events`` service, one ``Service`` over the catalog (buses, rules,
targets, durable in the store) and the router (PutEvents' deliveries). The composition root
builds it without I/O, wires the sinks, and starts it after the store::

    events = EventBridge(store)
    events.router.functions = async_invoker; events.router.queues = sqs; events.router.topics = …
    await events.start()

Schedule rules (``ScheduleExpression``) are refused: schedules run from the manifest's
``schedule`` events (docs/eventbridge.md).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from skylet import arns
from skylet.aws.eventbridge.catalog import DEFAULT_BUS, Bus, Catalog, LiveRule, Rule, Target
from skylet.aws.eventbridge.delivery import (
    MAX_ENTRIES,
    MAX_REQUEST_BYTES,
    Router,
    build_event,
    entry_failure,
    entry_size,
    rule_resource,
)
from skylet.aws.eventbridge.pattern import compile_pattern
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.errors import ServiceError
from skylet.schedules.target_input import InputError, TargetInput
from skylet.store.base import Store

_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_TARGET_SERVICES = ("lambda", "sqs", "sns", "events", "skylet")  # skylet: a Knative broker
MAX_TARGETS_PER_RULE = 5


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, status=400, sender_fault=True)


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def bus_name(value: str | None) -> str:
    """A bus named by name or by ARN (``arn:aws:events:…:event-bus/NAME``)."""
    if not value:
        return DEFAULT_BUS
    return value.split(":event-bus/", 1)[1] if ":event-bus/" in value else value


class EventBridge(Service):
    service_name = "events"

    def __init__(self, store: Store, *, now: Callable[[], float] = time.time) -> None:
        self.catalog = Catalog(store)
        self.router = Router(self.catalog, now=lambda: datetime.fromtimestamp(now(), UTC))
        self._now = now

    async def start(self) -> None:
        await self.catalog.start()

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
            raise _validation(
                "ScheduleExpression rules are not served by skylet's events API: declare the "
                "schedule as a function's schedule event in the manifest."
            )
        compile_pattern(str(pattern))
        state = request.get("State", "ENABLED")
        if state not in ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"):
            raise _validation(f"Invalid State: {state}")
        rule = Rule(
            bus,
            name,
            pattern,
            None,
            state,
            request.get("Description", ""),
            request.get("RoleArn", ""),
        )
        await self.catalog.put_rule(rule)
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
        await self.catalog.put_rule(
            Rule(r.bus, r.name, r.pattern, r.schedule, state, r.description, r.role_arn)
        )
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
            await self.router.route(bus, event)
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
