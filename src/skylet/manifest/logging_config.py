"""A function's logging configuration, in both of the forms manifests write it: the Serverless
Framework's ``logs`` (``logFormat``, ``applicationLogLevel``, ``systemLogLevel``,
``logGroup``; on a function, or ``provider.logs.lambda`` for all) and CloudFormation's
``LoggingConfig`` (``LogFormat``, ``ApplicationLogLevel``, ``SystemLogLevel``, ``LogGroup``), read
into the draft's ``log_*`` fields. The values are checked where FunctionSpec is validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skylet.manifest.assemble import FunctionDraft, as_mapping
from skylet.manifest.diagnostics import KeyPath, Source
from skylet.manifest.validation import Mode, check_keys

#: The Serverless Framework's keys, then CloudFormation's, each to its FunctionSpec field.
SERVERLESS_KEYS: Mapping[str, str] = {
    "logFormat": "log_format",
    "applicationLogLevel": "application_log_level",
    "systemLogLevel": "system_log_level",
    "logGroup": "log_group",
}
CLOUDFORMATION_KEYS: Mapping[str, str] = {
    "LogFormat": "log_format",
    "ApplicationLogLevel": "application_log_level",
    "SystemLogLevel": "system_log_level",
    "LogGroup": "log_group",
}


def read_logging(
    layers: list[tuple[Any, KeyPath]],
    keys: Mapping[str, str],
    draft: FunctionDraft,
    source: Source,
    *,
    mode: Mode = "error",
) -> None:
    """Set the draft's logging fields from ``layers`` (mappings with ``keys``), later layers
    winning (the provider's, then the function's)."""
    for value, at in layers:
        if value is None:
            continue
        body = check_keys(as_mapping(value, at, source), keys, source=source, at=at, mode=mode)
        for written, name in keys.items():
            if written in body:
                draft.set(name, body[written], (*at, written))
