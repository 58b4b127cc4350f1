"""The documents the Lambda control plane answers with, in botocore's ``lambda`` model's shapes
(FunctionConfiguration, AliasConfiguration, AccountLimit …), and its paging. Pure.

tests/aws/test_lambda_documents.py checks every key against the model, so a name that is not
Lambda's fails there, not in a client.
"""

from __future__ import annotations

import math
import platform
import time
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from skylet import arns
from skylet.build.snapshots import CodeDigest
from skylet.config import Destination, FunctionConfig, RuntimeSettings
from skylet.errors import InvalidParameterValue
from skylet.invoker.invoker import FunctionStatus
from skylet.invoker.versions import LATEST, Alias

#: Lambda's account quotas (docs: Lambda quotas): 75 GB of code per region, 250 MB unzipped,
#: 50 MB zipped for a direct upload.
TOTAL_CODE_SIZE = 75 * 1024**3
CODE_SIZE_UNZIPPED = 250 * 1024**2
CODE_SIZE_ZIPPED = 50 * 1024**2
#: The ephemeral storage every skylet function has (Lambda's default, in MB).
EPHEMERAL_STORAGE_MB = 512
#: Lambda keeps this much of the account's concurrency unreserved.
UNRESERVED_FLOOR = 100

Document = dict[str, Any]
T = TypeVar("T")


class Facts(NamedTuple):
    """What a configuration document says beyond the ``FunctionConfig``: the code's digest,
    the state, when it changed (epoch seconds), a description."""

    code: CodeDigest
    status: FunctionStatus
    modified: float
    description: str = ""


def timestamp(epoch_s: float) -> str:
    """Lambda's LastModified: ``2026-12-07T17:30:05.123+0000``."""
    whole = math.floor(epoch_s)
    millis = min(999, round((epoch_s - whole) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}+0000"


def architecture() -> str:
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def revision_id(*parts: object) -> str:
    """A revision id that changes when any of ``parts`` does, and only then."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\0".join(map(str, parts))))


def configuration(
    fn: FunctionConfig, facts: Facts, settings: RuntimeSettings, *, qualified: bool = False
) -> Document:
    """FunctionConfiguration of one version. ``qualified``: the ARN names the version even for
    ``$LATEST`` (as ListVersionsByFunction answers); a published version's always does."""
    version = fn.version
    arn = settings.function_arn(
        fn.name, version if qualified or version != LATEST else None, region=fn.region
    )
    state, update = facts.status
    document: Document = {
        "FunctionName": fn.name,
        "FunctionArn": arn,
        "Runtime": fn.runtime,
        "Role": arns.role_arn(arns.FUNCTION_ROLE, account=settings.account_id),
        "Handler": fn.handler,
        "CodeSize": facts.code.size,
        # A description from the manifest, once FunctionConfig carries one.
        "Description": facts.description or str(getattr(fn, "description", "") or ""),
        "Timeout": math.ceil(fn.timeout_s),
        "MemorySize": fn.memory_mb,
        "LastModified": timestamp(facts.modified),
        "CodeSha256": facts.code.sha256,
        "Version": version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision_id(fn, facts.code.sha256, facts.description),
        "State": state.state,
        "LastUpdateStatus": update.status,
        "PackageType": "Zip",
        "Architectures": [architecture()],
        "EphemeralStorage": {"Size": EPHEMERAL_STORAGE_MB},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": logging_config(fn),
    }
    if fn.environment:
        document["Environment"] = {"Variables": dict(fn.environment)}
    for key, value in (
        ("StateReason", state.reason),
        ("StateReasonCode", state.reason_code),
        ("LastUpdateStatusReason", update.reason),
        ("LastUpdateStatusReasonCode", update.reason_code),
    ):
        if value is not None:
            document[key] = value
    dlq = fn.async_config.dead_letter_queue
    if dlq is not None:
        document["DeadLetterConfig"] = {"TargetArn": destination_arn(dlq, settings, fn.region)}
    return document


def destination_arn(destination: Destination, settings: RuntimeSettings, region: str) -> str:
    """A destination's ARN, in ``region`` (the function's)."""
    if destination.kind == "function":
        return settings.function_arn(destination.name, destination.qualifier, region=region)
    service = "sqs" if destination.kind == "queue" else "sns"
    return arns.arn(service, destination.name, region=region, account=settings.account_id)


def alias_document(fn: FunctionConfig, alias: Alias, settings: RuntimeSettings) -> Document:
    """AliasConfiguration."""
    document: Document = {
        "AliasArn": settings.function_arn(fn.name, alias.name, region=fn.region),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.weights:
        document["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
    return document


def account_settings(
    settings: RuntimeSettings, functions: Sequence[FunctionConfig], total_code_size: int
) -> Document:
    """GetAccountSettings: Lambda's quotas, skylet's concurrency limit and the usage."""
    reserved = sum(fn.reserved_concurrency or 0 for fn in functions)
    return {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": settings.max_concurrency,
            "UnreservedConcurrentExecutions": max(0, settings.max_concurrency - reserved),
        },
        "AccountUsage": {"TotalCodeSize": total_code_size, "FunctionCount": len(functions)},
    }


def page(items: Sequence[T], marker: str | None, max_items: int) -> tuple[list[T], str | None]:
    """One page of ``items`` from ``marker`` (where the last page stopped: an offset, opaque to
    clients) and the marker of the next page, ``None`` after the last."""
    start = 0
    if marker:
        if not marker.isdigit() or int(marker) > len(items):
            raise InvalidParameterValue(f"Invalid Marker: {marker}")
        start = int(marker)
    end = start + max_items
    return list(items[start:end]), str(end) if end < len(items) else None


def logging_config(fn: FunctionConfig) -> dict[str, str]:
    """Lambda's ``LoggingConfig``: the levels only in the JSON format, as Lambda shows them."""
    config = fn.logging
    if not config.json:
        return {"LogFormat": "Text", "LogGroup": config.group(fn.name)}
    return {
        "LogFormat": "JSON",
        "ApplicationLogLevel": config.application_level,
        "SystemLogLevel": config.system_level,
        "LogGroup": config.group(fn.name),
    }
