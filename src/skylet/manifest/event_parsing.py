"""Turn one ``events:`` item (``{kind: body}``) into an Event model.

Each format names the kinds its own way (serverless.yml ``httpApi``, skylet.yaml ``http_api``)
and allows short forms (``schedule: rate(1 hour)``, ``httpApi: 'GET /users'``, ``stream: arn``,
``sqs: arn``, ``sns: topic``, ``s3: bucket``, ``cloudEvent: com.example.type``), which are
expanded here before the model validates the body. A stream's ``type`` may be left out: it is
inferred from the ARN or from the declared resource an intrinsic names.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, cast

from pydantic import AliasPath

from skylet.manifest.diagnostics import KeyPath, Source, show
from skylet.manifest.events import EVENT_CLASSES, Event
from skylet.manifest.fields import Frozen
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.resources import DYNAMODB_TABLE, KINESIS_STREAM
from skylet.manifest.validation import Mode, check_keys, model_keys, validate_model

SERVERLESS_KINDS: Mapping[str, str] = {
    "http": "http",
    "httpApi": "http_api",
    "s3": "s3",
    "stream": "stream",
    "schedule": "schedule",
    "sqs": "sqs",
    "sns": "sns",
    "eventBridge": "eventbridge",
    "cloudEvent": "cloudevent",
}
SKYLET_KINDS: Mapping[str, str] = {kind: kind for kind in EVENT_CLASSES}
# What skylet runs today; the other kinds load (validated, cross-checked) with a warning.
RUNNING_KINDS = frozenset(
    {"http", "http_api", "s3", "schedule", "sns", "sqs", "eventbridge", "cloudevent"}
)

# Serverless event kinds that exist on AWS but that skylet does not run.
SERVERLESS_UNSUPPORTED = frozenset(
    {
        "websocket",
        "alb",
        "alexaSkill",
        "alexaSmartHome",
        "iot",
        "iotFleetProvisioning",
        "cloudwatchEvent",
        "cloudwatchLog",
        "cognitoUserPool",
        "msk",
        "kafka",
        "activemq",
        "rabbitmq",
        "cloudFront",
    }
)

# Documented serverless.yml event keys that configure AWS-only features skylet does not
# emulate (authorizers, request templates, ...): accepted and ignored.
SERVERLESS_IGNORED: Mapping[str, frozenset[str]] = {
    "http": frozenset(
        {
            "authorizer",
            "request",
            "response",
            "integration",
            "async",
            "operationId",
            "connectionType",
            "connectionId",
            "caching",
            "documentation",
            "summary",
            "description",
        }
    ),
    "http_api": frozenset({"authorizer", "operationId", "summary", "description"}),
    "s3": frozenset({"forceDeploy"}),
    "stream": frozenset({"consumer", "tumblingWindowInSeconds"}),
    "schedule": frozenset({"method", "role"}),
    "sqs": frozenset(),
    "sns": frozenset({"deadLetterTargetArn"}),
    "eventbridge": frozenset(),
    "cloudevent": frozenset(),
}


def parse_event(
    item: Any,
    *,
    source: Source,
    at: KeyPath,
    serverless: bool,
    mode: Mode,
    resource_types: Mapping[str, str],
) -> Event:
    """Validate one events item at key path ``at`` (``functions.x.events[i]``)."""
    kinds = SERVERLESS_KINDS if serverless else SKYLET_KINDS
    if not isinstance(item, Mapping) or len(item) != 1:
        raise source.error(
            at,
            f"{show(item)} is not an event (a mapping with one key, the event kind){_kinds(kinds)}",
        )
    ((written, body),) = item.items()
    kind = kinds.get(written)
    if kind is None:
        close = difflib.get_close_matches(written, list(kinds), n=1, cutoff=0.6)
        note = f" (did you mean {close[0]!r}?)" if close else ""
        if written in SERVERLESS_UNSUPPORTED:
            note = " (a Serverless event skylet does not run)"
        raise source.error((*at, written), f"unknown event kind {written!r}{note}{_kinds(kinds)}")
    path = (*at, written)
    if kind not in RUNNING_KINDS and kind != "stream":
        _not_run(source, path, written, kind)
    cls = EVENT_CLASSES[kind]
    short = not isinstance(body, Mapping)
    body = _expand_short_form(kind, body, cls, serverless)
    if not isinstance(body, Mapping):
        raise source.error(
            path, f"{show(body)} is not a valid {written} event (allowed: a mapping)"
        )
    known = model_keys(cls, by_alias=serverless)
    ignored = SERVERLESS_IGNORED[kind] if serverless else frozenset()
    body = check_keys(body, known, source=source, at=path, ignored=ignored, mode=mode)
    body = _check_sub_keys(body, known, source, path, mode)
    if kind == "stream" and "type" not in body:
        inferred = _stream_type(body.get("arn"), resource_types)
        if inferred:
            body = {**body, "type": inferred}
    event = validate_model(cls, body, source=source, at=path, by_alias=serverless, flat=short)
    if kind == "stream" and getattr(event, "type", None) != "dynamodb":
        _not_run(source, path, written, kind)  # DynamoDB streams run; Kinesis's do not yet
    return cast("Event", event)


def _not_run(source: Source, path: KeyPath, written: str, kind: str) -> None:
    source.warn(
        path,
        f"{written} events are recognised but not run yet: the function is deployed "
        "without this trigger",
        feature=f"event {kind}",
    )


def _kinds(kinds: Mapping[str, str]) -> str:
    """`` (allowed: …; recognised but not run yet: …)`` in the format's spelling."""
    running = [written for written, kind in kinds.items() if kind in RUNNING_KINDS]
    later = [written for written, kind in kinds.items() if kind not in RUNNING_KINDS]
    return f" (allowed: {', '.join(running)}; recognised but not run yet: {', '.join(later)})"


def _check_sub_keys(
    body: Mapping[str, Any],
    known: Mapping[str, frozenset[str] | None],
    source: Source,
    at: KeyPath,
    mode: Mode,
) -> dict[str, Any]:
    """``body`` without unknown sub-keys: ``destinations: {onFailure}`` and ``filter:
    {attributes}`` are one field spread over two keys."""
    kept = dict(body)
    for key, subkeys in known.items():
        value = body.get(key)
        if subkeys is not None and isinstance(value, Mapping):
            kept[key] = check_keys(value, subkeys, source=source, at=(*at, key), mode=mode)
            if value and not kept[key]:
                del kept[key]  # only unknown keys, ignored
    return kept


def _expand_short_form(kind: str, body: Any, cls: type[Frozen], serverless: bool) -> Any:
    if isinstance(body, Mapping):
        return body
    values: dict[str, Any] | None = None
    if kind in ("http", "http_api") and isinstance(body, str):
        if body.strip() == "*":
            values = {"method": "*", "path": "*"}
        else:
            method, _, path = body.strip().partition(" ")
            values = {"method": method, "path": path.strip()}
    elif kind == "schedule" and isinstance(body, str | list):
        values = {"expressions": body}
    elif kind in ("stream", "sqs") and isinstance(body, str | Intrinsic):
        values = {"arn" if kind == "stream" else "queue": body}
    elif kind == "sns" and isinstance(body, str | Intrinsic):
        is_arn = isinstance(body, Intrinsic) or body.startswith("arn:")
        values = {"arn": body} if is_arn else {"topic_name": body}
    elif kind == "s3" and isinstance(body, str):
        values = {"bucket": body}
    elif kind == "cloudevent" and isinstance(body, str):
        values = {"attributes": {"type": body}}
    return body if values is None else _spell(cls, values, serverless)


def _spell(cls: type[Frozen], values: Mapping[str, Any], serverless: bool) -> dict[str, Any]:
    """Write field-name keyed ``values`` with the keys the format uses."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        alias = cls.model_fields[name].validation_alias if serverless else None
        if isinstance(alias, AliasPath):
            out.setdefault(str(alias.path[0]), {})[str(alias.path[1])] = value
        else:
            out[alias if isinstance(alias, str) else name] = value
    return out


def _stream_type(arn: Any, resource_types: Mapping[str, str]) -> str | None:
    if isinstance(arn, str):
        service = arn.split(":")[2] if arn.count(":") >= 2 else ""
        return service if service in ("dynamodb", "kinesis") else None
    if isinstance(arn, Intrinsic) and arn.logical_id:
        declared = resource_types.get(arn.logical_id)
        return {DYNAMODB_TABLE: "dynamodb", KINESIS_STREAM: "kinesis"}.get(declared or "")
    return None
