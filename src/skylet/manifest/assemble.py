"""The steps both formats share once their keys are read: environment merging, function
validation, and the checks that need the whole manifest (names, event targets, destinations).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skylet import custom_runtimes
from skylet.manifest.broker_events import CloudEventTrigger
from skylet.manifest.diagnostics import KeyPath, Source, show
from skylet.manifest.event_parsing import parse_event
from skylet.manifest.events import SnsEvent, SqsEvent, StreamEvent
from skylet.manifest.frozen import scalar_text
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.model import FunctionSpec, Manifest, ProvisionedConcurrencySchedule
from skylet.manifest.resources import (
    DYNAMODB_TABLE,
    KINESIS_STREAM,
    SNS_TOPIC,
    SQS_QUEUE,
    Resource,
)
from skylet.manifest.validation import Mode, validate_model

# Lambda refuses to let a function set these (the runtime owns them).
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DESTINATION_TYPES = (SQS_QUEUE, SNS_TOPIC, "AWS::Lambda::Function", "AWS::Events::EventBus")


@dataclass
class FunctionDraft:
    """A function's FunctionSpec field values, each with the key path it was read from."""

    key: str
    at: KeyPath
    values: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, KeyPath] = field(default_factory=dict)
    event_paths: list[KeyPath] = field(default_factory=list)

    def set(self, name: str, value: Any, path: KeyPath) -> None:
        self.values[name] = value
        self.paths[name] = path


def merge_environment(
    layers: Sequence[tuple[Any, KeyPath]], source: Source
) -> tuple[dict[str, str], dict[str, Intrinsic]]:
    """Merge environment mappings, later layers winning (provider, then function).

    Scalars are stringified as Lambda does (``true``, ``256``); null removes a variable;
    intrinsics go to the second mapping, for deploy time to resolve.
    """
    env: dict[str, str] = {}
    refs: dict[str, Intrinsic] = {}
    for data, at in layers:
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise source.error(at, f"{show(data)} is not a mapping of variable names to values")
        for name, value in data.items():
            path = (*at, name)
            if not _ENV_NAME.match(name):
                raise source.error(
                    path,
                    f"{name!r} is not a valid variable name (allowed: a letter, then letters, "
                    "digits and underscores)",
                )
            if name in RESERVED_ENV:
                raise source.error(path, f"{name} is reserved by the Lambda runtime")
            env.pop(name, None)
            refs.pop(name, None)
            if isinstance(value, Intrinsic):
                refs[name] = value
            elif isinstance(value, str | int | float | bool):
                env[name] = scalar_text(value)
            elif value is not None:
                raise source.error(
                    path,
                    f"{show(value)} is not a valid value (allowed: a string, number, boolean "
                    "or intrinsic)",
                )
    return env, refs


def assemble(
    *,
    source: Source,
    format: Literal["skylet", "serverless"],
    header: Mapping[str, tuple[Any, KeyPath]],
    drafts: Sequence[FunctionDraft],
    resources: Mapping[str, Resource],
    extra: Mapping[str, Any],
) -> Manifest:
    """Validate every function, run the whole-manifest checks and build the Manifest.

    ``header`` holds service, stage and region with the key path each came from.
    """
    functions = {
        d.key: validate_model(
            FunctionSpec, d.values, source=source, at=d.at, by_alias=False, field_paths=d.paths
        )
        for d in drafts
    }
    _check_names(functions, drafts, source)
    checker = _Checker(functions, resources, source, serverless=format == "serverless")
    for draft in drafts:
        checker.function(functions[draft.key], draft)
        note = custom_runtimes.note(functions[draft.key].runtime)
        if note is not None:
            where = draft.paths.get("runtime", draft.at)
            source.warn(where, note, feature=f"runtime {functions[draft.key].runtime}")
    # A None header value is absent: validation then reports it as required.
    values = {name: value for name, (value, _) in header.items() if value is not None}
    paths = {name: path for name, (_, path) in header.items()}
    values.update(
        source=source.file,
        root=source.file.parent,
        format=format,
        functions=functions,
        resources=resources,
        warnings=source.warnings(),
        **extra,
    )
    return validate_model(Manifest, values, source=source, at=(), by_alias=False, field_paths=paths)


def _check_names(
    functions: Mapping[str, FunctionSpec], drafts: Sequence[FunctionDraft], source: Source
) -> None:
    # `Manifest.function(x)` accepts a key or a deployed name, so neither may be ambiguous.
    owner: dict[str, str] = {key: key for key in functions}
    for draft in drafts:
        name = functions[draft.key].name
        other = owner.get(name)
        if other is not None and other != draft.key:
            raise source.error(
                draft.paths.get("name", draft.at),
                f"{name!r} is already the name or key of function {other!r}",
            )
        owner[name] = draft.key


class _Checker:
    """Checks that an event or destination points at something that can deliver to it."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        resources: Mapping[str, Resource],
        source: Source,
        *,
        serverless: bool,
    ) -> None:
        self._functions = functions
        self._names = {f.name for f in functions.values()} | set(functions)
        self._resources = resources
        self._source = source
        self._serverless = serverless

    def function(self, spec: FunctionSpec, draft: FunctionDraft) -> None:
        for name in ("on_success", "on_failure"):
            self._destination(getattr(spec, name), draft.paths.get(name, draft.at))
        for event, at in zip(spec.events, draft.event_paths, strict=True):
            if isinstance(event, StreamEvent):
                self._stream(event, (*at, "arn"))
                self._destination(event.on_failure, (*at, "destinations", "onFailure"))
            elif isinstance(event, SqsEvent):
                self._target(event.queue, (*at, "arn" if self._serverless else "queue"), SQS_QUEUE)
            elif isinstance(event, SnsEvent):
                self._target(event.arn, (*at, "arn"), SNS_TOPIC)
            elif isinstance(event, CloudEventTrigger) and event.delivery is not None:
                sink = event.delivery.dead_letter_sink
                if sink and not sink.startswith(("http://", "https://")):
                    key = "deadLetterSink" if self._serverless else "dead_letter_sink"
                    self._destination(sink, (*at, "delivery", key))

    def _declared(self, value: Any) -> Resource | None:
        if isinstance(value, Intrinsic) and value.logical_id:
            return self._resources.get(value.logical_id)
        return None

    def _stream(self, event: StreamEvent, at: KeyPath) -> None:
        arn = event.arn
        resource = self._declared(arn)
        if resource is None or not isinstance(arn, Intrinsic):
            return  # an ARN string or an external reference: nothing here to check
        wanted = DYNAMODB_TABLE if event.type == "dynamodb" else KINESIS_STREAM
        attribute = "StreamArn" if event.type == "dynamodb" else "Arn"
        good = f"!GetAtt {resource.logical_id}.{attribute} of an {wanted}"
        if resource.type != wanted:
            raise self._source.error(
                at, f"{arn} points at {resource.type} {resource.logical_id} (allowed: {good})"
            )
        if event.type == "dynamodb" and resource.stream_view_type is None:
            raise self._source.error(
                at,
                f"{arn} points at table {resource.logical_id}, which has no "
                "StreamSpecification (allowed: a table with StreamSpecification.StreamViewType)",
            )
        if arn.attribute != attribute:
            raise self._source.error(at, f"{arn} is not a stream ARN (allowed: {good})")

    def _target(self, value: Any, at: KeyPath, wanted: str) -> None:
        resource = self._declared(value)
        if resource is None:
            return
        if resource.type != wanted:
            raise self._source.error(
                at, f"{value} points at {resource.type} {resource.logical_id} (allowed: {wanted})"
            )
        if wanted == SQS_QUEUE and (not isinstance(value, Intrinsic) or value.attribute != "Arn"):
            # Ref of a queue is its URL, which an event source mapping does not accept.
            raise self._source.error(
                at, f"{value} is not a queue ARN (allowed: !GetAtt {resource.logical_id}.Arn)"
            )

    def _destination(self, value: Any, at: KeyPath) -> None:
        if value is None:
            return
        if isinstance(value, str):
            if not value.startswith("arn:") and value not in self._names:
                raise self._source.error(
                    at,
                    f"{value!r} is not a function in this manifest (allowed: a function key "
                    f"({', '.join(sorted(self._functions))}) or an ARN)",
                )
            return
        resource = self._declared(value)
        if resource is not None and resource.type not in _DESTINATION_TYPES:
            raise self._source.error(
                at,
                f"{value} points at {resource.type} {resource.logical_id} "
                f"(allowed: {', '.join(_DESTINATION_TYPES)})",
            )


def as_mapping(value: Any, at: KeyPath, source: Source) -> Mapping[str, Any]:
    """``value`` as a mapping (None -> empty); anything else is an error at ``at``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise source.error(at, f"{show(value)} is not a mapping")
    return value


def read_events(
    value: Any,
    draft: FunctionDraft,
    source: Source,
    *,
    serverless: bool,
    mode: Mode,
    resource_types: Mapping[str, str],
) -> None:
    """Parse a function's ``events`` list into ``draft`` (values and per-event key paths)."""
    at = (*draft.at, "events")
    if value is None:
        value = []
    if not isinstance(value, list):
        raise source.error(at, f"{show(value)} is not a list of events")
    events = []
    for index, item in enumerate(value):
        event = parse_event(
            item,
            source=source,
            at=(*at, index),
            serverless=serverless,
            mode=mode,
            resource_types=resource_types,
        )
        events.append(event)
        draft.event_paths.append((*at, index, next(iter(item))))
    draft.set("events", tuple(events), at)


def read_schedules(
    value: Any, draft: FunctionDraft, source: Source, *, at: KeyPath, serverless: bool
) -> None:
    """Parse ``provisionedConcurrencySchedules`` (a list of {schedule, provisionedConcurrency})."""
    if value is None:
        return
    if not isinstance(value, list):
        raise source.error(at, f"{show(value)} is not a list of schedules")
    schedules = tuple(
        validate_model(
            ProvisionedConcurrencySchedule,
            as_mapping(item, (*at, i), source),
            source=source,
            at=(*at, i),
            by_alias=serverless,
        )
        for i, item in enumerate(value)
    )
    draft.set("provisioned_concurrency_schedules", schedules, at)


def code_dir(root: Path, relative: Any, source: Source, at: KeyPath) -> Path:
    """The absolute code directory ``relative`` to the manifest's directory; it must exist."""
    if not isinstance(relative, str) or not relative.strip():
        raise source.error(at, f"{show(relative)} is not a directory path")
    path = (root / relative).resolve()
    if not path.is_dir():
        raise source.error(at, f"{relative!r} is not a directory under {root}")
    return path
