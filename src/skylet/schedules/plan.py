"""The schedules a manifest declares: ``schedule`` events and ``provisionedConcurrencySchedules``.
Pure: a manifest in, frozen plans out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skylet.errors import ConfigError
from skylet.manifest import Manifest, ScheduleEvent, ScheduleExpression
from skylet.schedules.target_input import InputError, TargetInput
from skylet.schedules.timetable import Timetable


@dataclass(frozen=True, slots=True)
class Schedule:
    """One expression of one event. ``name`` is the rule's name (unique per manifest);
    ``kind`` "invoke" sends the Scheduled Event (or the configured input) to ``function``,
    "provisioned" sets its provisioned instances to ``provisioned``, "rule" sends it to the
    targets of the EventBridge rule ``name`` (a rule PutRule made; ``function`` is empty);
    "ping" is a Knative PingSource, which ``ScheduleTargets.ping`` fires (``function`` then
    names its sink)."""

    name: str
    function: str
    expression: ScheduleExpression
    timetable: Timetable
    tz: ZoneInfo | None = None
    enabled: bool = True
    kind: Literal["invoke", "provisioned", "rule", "ping"] = "invoke"
    target_input: TargetInput = field(default_factory=TargetInput)
    provisioned: int = 0
    description: str | None = None


def plan(manifest: Manifest) -> tuple[Schedule, ...]:
    """Every schedule of ``manifest``; ConfigError names the function for a bad time zone or
    input. An event with several expressions gives one rule per expression, as the Serverless
    Framework makes them (``name``, then ``name-2``…)."""
    out: list[Schedule] = []
    for function, spec in manifest.functions.items():
        count = 0
        for event in spec.events:
            if isinstance(event, ScheduleEvent):
                expressions = event.expressions
                tz = _zone(function, event.timezone or manifest.timezone)
            else:  # eventBridge events' schedules run with the EventBridge service, not yet
                continue
            target_input = _input(function, event)
            for i, expression in enumerate(expressions):
                count += 1
                given = event.name
                base = given or f"{manifest.service}-{manifest.stage}-{function}-rule-{count}"
                name = base if given is None or i == 0 else f"{base}-{i + 1}"
                out.append(
                    Schedule(
                        name=name,
                        function=function,
                        expression=expression,
                        timetable=Timetable.compile(expression),
                        tz=tz,
                        enabled=event.enabled,
                        target_input=target_input,
                        description=event.description,
                    )
                )
        for i, item in enumerate(spec.provisioned_concurrency_schedules, start=1):
            out.append(
                Schedule(
                    name=f"{manifest.service}-{manifest.stage}-{function}-provisioned-{i}",
                    function=function,
                    expression=item.schedule,
                    timetable=Timetable.compile(item.schedule),
                    kind="provisioned",
                    provisioned=item.provisioned_concurrency,
                )
            )
    _check_unique(out)
    return tuple(out)


def rule_schedules(
    rules: Iterable[tuple[str, str, bool]], manifest: tuple[Schedule, ...]
) -> tuple[Schedule, ...]:
    """The schedules of EventBridge rules given as ``(name, expression, enabled)``, after the
    manifest's: a rule named as one of the manifest's schedules is left out (the manifest's
    wins; the API cannot make two rules of one name either)."""
    taken = {s.name for s in manifest}
    out = []
    for name, text, enabled in rules:
        if name in taken:
            continue
        expression = ScheduleExpression.parse(text)  # PutRule checked it
        out.append(
            Schedule(
                name=name,
                function="",
                expression=expression,
                timetable=Timetable.compile(expression),
                enabled=enabled,
                kind="rule",
            )
        )
    return (*manifest, *out)


def by_name(schedules: tuple[Schedule, ...]) -> Mapping[str, Schedule]:
    return {s.name: s for s in schedules}


def _zone(function: str, name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"function {function}: schedule timezone {name!r} is not an IANA time zone "
            "(allowed: names such as UTC, Europe/Berlin, America/New_York)"
        ) from None


def _input(function: str, event: ScheduleEvent) -> TargetInput:
    try:
        return TargetInput.compile(
            input=event.input, input_path=event.input_path, transformer=event.input_transformer
        )
    except InputError as error:
        raise ConfigError(f"function {function}: schedule {error}") from None


def _check_unique(schedules: list[Schedule]) -> None:
    seen: set[str] = set()
    for schedule in schedules:
        if schedule.name in seen:
            raise ConfigError(f"two schedules are named {schedule.name!r}: give each its own name")
        seen.add(schedule.name)
