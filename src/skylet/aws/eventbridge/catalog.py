"""The event buses, rules and targets, kept durably in the store as a log of snapshots (as SNS
keeps its topics): each change appends the new state of one bus, rule or rule's targets (or a
removal) to ``skylet:events:catalog``; every node replays the log into memory and reads what
it has not seen before answering (``refresh``). A rule's pattern is compiled when its record
is applied, once per change, never per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from skylet.aws.eventbridge.pattern import EventPattern, parse
from skylet.schedules.target_input import TargetInput
from skylet.store.base import LogStore

CATALOG_LOG = "skylet:events:catalog"
DEFAULT_BUS = "default"
_READ_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Bus:
    name: str
    description: str = ""
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Rule:
    bus: str
    name: str
    pattern: str | None = None
    schedule: str | None = None
    state: str = "ENABLED"
    description: str = ""
    role_arn: str = ""
    #: "manifest" for a rule the manifest declares (a later manifest without it removes it).
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One target as PutTargets gave it (its members by their model names)."""

    id: str
    arn: str
    spec: Mapping[str, Any] = field(default_factory=dict)

    def input(self) -> TargetInput:
        return TargetInput.compile(
            input=self.spec.get("Input"),
            input_path=self.spec.get("InputPath"),
            transformer=self.spec.get("InputTransformer"),
        )


@dataclass(frozen=True, slots=True)
class LiveRule:
    """A rule with what matching needs ready: its compiled pattern and its targets' inputs."""

    rule: Rule
    pattern: EventPattern | None
    targets: tuple[tuple[Target, TargetInput], ...] = ()


class Catalog:
    def __init__(self, store: LogStore) -> None:
        self._store = store
        self._seen = 0
        self.buses: dict[str, Bus] = {DEFAULT_BUS: Bus(DEFAULT_BUS)}
        #: bus → rule name → the rule, in creation order.
        self.rules: dict[str, dict[str, LiveRule]] = {DEFAULT_BUS: {}}
        self._indexes: dict[str, RuleIndex] = {}

    async def start(self) -> None:
        await self._store.create_log(CATALOG_LOG)
        await self.refresh()

    async def refresh(self) -> None:
        while records := await self._store.read(
            CATALOG_LOG, 0, after_sequence=self._seen, limit=_READ_LIMIT
        ):
            for record in records:
                self._apply(json.loads(record.data))
            self._seen = records[-1].sequence
            if len(records) < _READ_LIMIT:
                return

    def _apply(self, entry: dict[str, Any]) -> None:
        self._indexes.clear()  # rebuilt on the next event: changes are rare beside events
        kind = entry.pop("kind")
        if kind == "bus":
            bus = Bus(**entry)
            self.buses[bus.name] = bus
            self.rules.setdefault(bus.name, {})
        elif kind == "bus-deleted" and entry["name"] != DEFAULT_BUS:
            self.buses.pop(entry["name"], None)
            self.rules.pop(entry["name"], None)
        elif kind == "rule":
            rule = Rule(**entry)
            rules = self.rules.setdefault(rule.bus, {})
            before = rules.get(rule.name)
            pattern = parse(rule.pattern) if rule.pattern else None
            rules[rule.name] = LiveRule(rule, pattern, before.targets if before else ())
        elif kind == "rule-deleted":
            self.rules.get(entry["bus"], {}).pop(entry["name"], None)
        elif kind == "targets":
            live = self.rules.get(entry["bus"], {}).get(entry["rule"])
            if live is not None:
                targets = tuple(Target(**t) for t in entry["targets"])
                compiled = tuple((t, t.input()) for t in targets)
                self.rules[entry["bus"]][entry["rule"]] = LiveRule(
                    live.rule, live.pattern, compiled
                )

    async def _write(self, entry: Mapping[str, Any]) -> None:
        await self._store.append(CATALOG_LOG, [json.dumps(entry, separators=(",", ":")).encode()])
        await self.refresh()

    async def put_bus(self, bus: Bus) -> None:
        await self._write({"kind": "bus", **asdict(bus)})

    async def delete_bus(self, name: str) -> None:
        await self._write({"kind": "bus-deleted", "name": name})

    async def put_rule(self, rule: Rule) -> None:
        await self._write({"kind": "rule", **asdict(rule)})

    async def delete_rule(self, bus: str, name: str) -> None:
        await self._write({"kind": "rule-deleted", "bus": bus, "name": name})

    async def put_targets(self, bus: str, rule: str, targets: list[Target]) -> None:
        entry = {
            "kind": "targets",
            "bus": bus,
            "rule": rule,
            "targets": [asdict(t) for t in targets],
        }
        await self._write(entry)

    def rule(self, bus: str, name: str) -> LiveRule | None:
        return self.rules.get(bus, {}).get(name)

    def of_bus(self, bus: str) -> Iterator[LiveRule]:
        yield from self.rules.get(bus, {}).values()

    def index(self, bus: str) -> RuleIndex:
        """The bus's enabled pattern rules, indexed by the ``source`` values they require."""
        found = self._indexes.get(bus)
        if found is None:
            found = self._indexes[bus] = RuleIndex(self.of_bus(bus))
        return found


class RuleIndex:
    """Rules by the ``source`` they pin, so an event is evaluated only against the rules that
    could match it: 1,000 rules on distinct sources cost one lookup and a few evaluations,
    not 1,000 (the bench's figures, docs/eventbridge.md). Rules that do not pin ``source``
    are evaluated for every event."""

    def __init__(self, rules: Iterable[LiveRule]) -> None:
        self.by_source: dict[str, list[LiveRule]] = {}
        self.always: list[LiveRule] = []
        order: dict[str, int] = {}
        for position, live in enumerate(rules):
            if live.pattern is None or live.rule.state == "DISABLED":
                continue
            order[live.rule.name] = position
            sources = live.pattern.required_values("source")
            if sources is None:
                self.always.append(live)
            for source in sources or ():
                self.by_source.setdefault(source, []).append(live)
        self._order = order

    def candidates(self, source: Any) -> list[LiveRule]:
        """The rules to evaluate for an event from ``source``, in the bus's rule order."""
        pinned = self.by_source.get(source, []) if isinstance(source, str) else []
        if not pinned:
            return self.always
        if not self.always:
            return pinned
        return sorted([*pinned, *self.always], key=lambda r: self._order[r.rule.name])
