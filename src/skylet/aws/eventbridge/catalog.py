"""The event buses, rules and targets, kept durably in the store as a log of snapshots (as SNS
keeps its topics): each change appends the new state of one bus, rule or rule's targets (or a
removal) to ``skylet:events:catalog``; every node replays the log into memory and reads what
it has not seen before answering (``refresh``). A rule's pattern is compiled when its record
is applied, once per change, never per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from skylet.aws.eventbridge.archives import Archive, Replay, archive_record, replay_record
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
        self.archives: dict[str, Archive] = {}
        self.replays: dict[str, Replay] = {}

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
        elif kind == "archive":
            archive = Archive(**entry)
            self.archives[archive.name] = archive
        elif kind == "archive-deleted":
            self.archives.pop(entry["name"], None)
        elif kind == "replay":
            entry["rules"] = tuple(entry.get("rules") or ())
            replay = Replay(**entry)
            self.replays[replay.name] = replay
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

    async def put_archive(self, archive: Archive) -> None:
        await self._write(archive_record(archive))

    async def delete_archive(self, name: str) -> None:
        await self._write({"kind": "archive-deleted", "name": name})

    async def put_replay(self, replay: Replay) -> None:
        await self._write(replay_record(replay))

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
    """Rules by an exact string value they require, so an event is evaluated only against the
    rules that could match it: 1,000 rules on distinct sources (or one source, each rule
    pinning its own ``detail-type`` or detail field) cost a few lookups and evaluations, not
    1,000 (the bench's figures, docs/eventbridge.md).

    Each rule is filed under one path its every branch pins with exact strings (``source``,
    ``detail.kind``…): of those, the one whose values the fewest other rules share. Rules
    that pin no path are evaluated for every event."""

    def __init__(self, rules: Iterable[LiveRule]) -> None:
        #: path → value → the rules filed under it.
        self.by_path: dict[str, dict[str, list[LiveRule]]] = {}
        self.always: list[LiveRule] = []
        order: dict[str, int] = {}
        pinned: list[tuple[LiveRule, dict[str, frozenset[str]]]] = []
        shared: dict[tuple[str, str], int] = {}
        for position, live in enumerate(rules):
            if live.pattern is None or live.rule.state == "DISABLED":
                continue
            order[live.rule.name] = position
            paths = {
                path: values
                for path in live.pattern.paths()
                if (values := live.pattern.required_values(path))
            }
            if not paths:
                self.always.append(live)
                continue
            pinned.append((live, paths))
            for path, values in paths.items():
                for value in values:
                    shared[path, value] = shared.get((path, value), 0) + 1
        for live, paths in pinned:
            # The path whose bucket is smallest; ``source`` first among equals (then by name).
            best = min(
                paths,
                key=lambda p: (max(shared[p, v] for v in paths[p]), p != "source", p),
            )
            bucket = self.by_path.setdefault(best, {})
            for value in paths[best]:
                bucket.setdefault(value, []).append(live)
        self._order = order

    def candidates(self, flat: Mapping[str, Sequence[Any]]) -> list[LiveRule]:
        """The rules to evaluate for an event (flattened by ``json_match.flatten``), in the
        bus's rule order."""
        found: dict[str, LiveRule] = {}
        for path, bucket in self.by_path.items():
            for value in flat.get(path, ()):
                if isinstance(value, str):
                    for live in bucket.get(value, ()):
                        found[live.rule.name] = live
        if not found:
            return self.always
        if len(found) == 1 and not self.always:
            return list(found.values())
        found.update((live.rule.name, live) for live in self.always)
        return sorted(found.values(), key=lambda r: self._order[r.rule.name])
