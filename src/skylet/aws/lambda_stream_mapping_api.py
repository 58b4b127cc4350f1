"""The Lambda API's event source mapping operations for DynamoDB streams, with Lambda's checks
and messages, in botocore's shapes (``lambda_mapping_api.py`` hands these requests over).

A stream mapping needs ``StartingPosition`` (TRIM_HORIZON or LATEST; AT_TIMESTAMP is Kinesis'
only) and is made once per stream and function. The stream must be the table's latest. The
manifest's mappings are listed and read like the others, and changed in the manifest only.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from skylet import arns
from skylet.aws.lambda_names import parse_function_name
from skylet.aws.lambda_requests import Answer, Request
from skylet.aws.stream_mappings import StreamMapping, StreamMappings
from skylet.config import Destination, parse_destination
from skylet.errors import (
    ConfigError,
    InvalidParameterValue,
    ResourceConflict,
    ServiceError,
    ValidationError,
)
from skylet.events import filters

if TYPE_CHECKING:
    from skylet.aws.lambda_control import LambdaControl

MAX_FILTERS = 5
#: Each integer setting's member name in Lambda's messages and its bounds (botocore's model).
_BOUNDS: dict[str, tuple[str, str, int, int]] = {
    "BatchSize": ("batch_size", "batchSize", 1, 10_000),
    "MaximumBatchingWindowInSeconds": ("window_s", "maximumBatchingWindowInSeconds", 0, 300),
    "MaximumRetryAttempts": ("max_retries", "maximumRetryAttempts", -1, 10_000),
    "MaximumRecordAgeInSeconds": ("max_age_s", "maximumRecordAgeInSeconds", -1, 604_800),
    "ParallelizationFactor": ("parallelization", "parallelizationFactor", 1, 10),
    "TumblingWindowInSeconds": ("tumbling_window_s", "tumblingWindowInSeconds", 0, 900),
}


def is_stream_arn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:aws:dynamodb:") and "/stream/" in value


class StreamMappingOperations:
    def __init__(self, control: LambdaControl, mappings: StreamMappings) -> None:
        self.control = control
        self.mappings = mappings
        self.settings = control.settings

    async def create(self, request: Request) -> Answer:
        body = request.body
        arn = body["EventSourceArn"]
        position = body.get("StartingPosition")
        if position is None:
            raise InvalidParameterValue(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                "constraint: Member must not be null."
            )
        if position not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
            raise ValidationError(
                f"1 validation error detected: Value '{position}' at 'startingPosition' failed "
                "to satisfy constraint: Member must satisfy enum value set: [LATEST, "
                "AT_TIMESTAMP, TRIM_HORIZON]"
            )
        if position == "AT_TIMESTAMP":
            raise InvalidParameterValue(f"Unsupported starting position for arn type: {arn}")
        function = self._function(body.get("FunctionName"), "lambda:CreateEventSourceMapping")
        table = await self._table(arn)
        for existing in self.mappings.all():
            if existing.function == function and existing.table == table:
                raise ResourceConflict(
                    f'The event source arn (" {arn} ") and function (" {function} ") provided '
                    "mapping already exists. Please update or delete the existing mapping with "
                    f"UUID {existing.uuid}"
                )
        fresh = StreamMapping(str(uuid.uuid4()), function, table, starting_position=position)
        stored = await self.mappings.put(self._apply(fresh, body))
        return 202, await self.document(stored, "Creating")

    async def update(self, mapping: StreamMapping, request: Request) -> Answer:
        if mapping.declared:
            raise ResourceConflict(
                f"The event source mapping {mapping.uuid} is declared in the manifest; change it "
                "there"
            )
        body = request.body
        if "StartingPosition" in body:
            raise InvalidParameterValue("StartingPosition cannot be updated")
        if body.get("FunctionName"):
            function = self._function(body["FunctionName"], "lambda:UpdateEventSourceMapping")
            mapping = dataclasses.replace(mapping, function=function)
        stored = await self.mappings.put(self._apply(mapping, body))
        return 202, await self.document(stored, "Updating")

    async def delete(self, mapping: StreamMapping) -> Answer:
        if mapping.declared:
            raise ResourceConflict(
                f"The event source mapping {mapping.uuid} is declared in the manifest; remove "
                "the stream event there"
            )
        await self.mappings.delete(mapping.uuid)
        return 202, await self.document(mapping, "Deleting")

    async def document(self, mapping: StreamMapping, state: str | None = None) -> dict[str, Any]:
        """EventSourceMappingConfiguration, as Lambda writes a DynamoDB stream mapping's."""
        region = self.control.invoker.region
        failure: dict[str, Any] = {}
        if mapping.on_failure is not None:
            failure["Destination"] = self._destination_arn(mapping.on_failure)
        document: dict[str, Any] = {
            "UUID": mapping.uuid,
            "StartingPosition": mapping.starting_position,
            "BatchSize": mapping.batch_size,
            "MaximumBatchingWindowInSeconds": mapping.window_s,
            "ParallelizationFactor": mapping.parallelization,
            "EventSourceArn": await self.stream_arn(mapping),
            "FunctionArn": self.settings.function_arn(mapping.function, region=region),
            "LastModified": mapping.last_modified,
            "LastProcessingResult": "No records processed",
            "State": state or ("Enabled" if mapping.enabled else "Disabled"),
            "StateTransitionReason": "User action",
            "DestinationConfig": {"OnFailure": failure},
            "MaximumRecordAgeInSeconds": mapping.max_age_s,
            "BisectBatchOnFunctionError": mapping.bisect,
            "MaximumRetryAttempts": mapping.max_retries,
            "TumblingWindowInSeconds": mapping.tumbling_window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if mapping.report_failures else [],
            "EventSourceMappingArn": arns.arn(
                "lambda",
                f"event-source-mapping:{mapping.uuid}",
                region=region,
                account=self.settings.account_id,
            ),
        }
        if mapping.patterns:
            document["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in mapping.patterns]}
        return document

    async def stream_arn(self, mapping: StreamMapping) -> str:
        """The table's latest stream ARN (the table's ARN when it has none now)."""
        try:
            table = await self.mappings.tables.table(mapping.table)
        except ServiceError:  # the table is gone
            return arns.arn(
                "dynamodb",
                f"table/{mapping.table}",
                region=self.control.invoker.region,
                account=self.settings.account_id,
            )
        return str(table.description.get("LatestStreamArn") or table.description["TableArn"])

    # -- reading a request ----------------------------------------------------------------------

    def _function(self, value: Any, action: str) -> str:
        if not isinstance(value, str) or not value:
            raise InvalidParameterValue("FunctionName is required")
        ref = parse_function_name(
            value, self.settings, region=self.control.invoker.region, action=action
        )
        return self.control.latest(ref.name).name

    async def _table(self, arn: str) -> str:
        name = arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
        try:
            table = await self.mappings.tables.table(name)
        except ServiceError:
            raise InvalidParameterValue(f"Stream not found: {arn}") from None
        if table.stream_view is None or table.description.get("LatestStreamArn") != arn:
            raise InvalidParameterValue(f"Stream not found: {arn}")
        return table.name

    def _destination_arn(self, destination: Destination) -> str:
        region = self.control.invoker.region
        account = self.settings.account_id
        if destination.kind == "queue":
            return arns.arn("sqs", destination.name, region=region, account=account)
        if destination.kind == "topic":
            return arns.arn("sns", destination.name, region=region, account=account)
        return self.settings.function_arn(destination.name, destination.qualifier, region=region)

    def _apply(self, mapping: StreamMapping, body: dict[str, Any]) -> StreamMapping:
        """``mapping`` with what a Create or Update request sets, checked as Lambda checks it."""
        changes: dict[str, Any] = {}
        for key, (field, member, low, high) in _BOUNDS.items():
            if key in body:
                changes[field] = _integer(body[key], member, low, high)
        age = changes.get("max_age_s", mapping.max_age_s)
        if age != -1 and age < 60:
            raise InvalidParameterValue(
                "MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800"
            )
        for key, field in (("Enabled", "enabled"), ("BisectBatchOnFunctionError", "bisect")):
            if key in body:
                if not isinstance(body[key], bool):
                    raise InvalidParameterValue(f"{key} must be true or false")
                changes[field] = body[key]
        if "FunctionResponseTypes" in body:
            types = body["FunctionResponseTypes"] or []
            if not isinstance(types, list) or any(t != "ReportBatchItemFailures" for t in types):
                raise InvalidParameterValue(
                    "FunctionResponseTypes: allowed values are [ReportBatchItemFailures]"
                )
            changes["report_failures"] = bool(types)
        if "FilterCriteria" in body:
            changes["patterns"] = filter_patterns(body["FilterCriteria"])
        if "DestinationConfig" in body:
            changes["on_failure"] = _on_failure(body["DestinationConfig"])
        return dataclasses.replace(mapping, **changes)


def _integer(value: Any, member: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(f"{member} must be an integer")
    if value < low or value > high:
        side, bound = ("greater", low) if value < low else ("less", high)
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {side} than or equal to {bound}"
        )
    return value


def _on_failure(config: Any) -> Destination | None:
    if not isinstance(config, dict):
        raise InvalidParameterValue("DestinationConfig must be an object")
    if config.get("OnSuccess"):
        raise InvalidParameterValue(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    arn = (config.get("OnFailure") or {}).get("Destination")
    if not arn:
        return None
    try:
        destination = parse_destination(str(arn), key="DestinationConfig.OnFailure.Destination")
    except ConfigError as error:
        raise InvalidParameterValue(str(error)) from None
    if not str(arn).startswith("arn:"):
        raise InvalidParameterValue(f"Invalid destination ARN: {arn}")
    return destination


def filter_patterns(criteria: Any) -> tuple[str, ...]:
    """FilterCriteria's patterns, checked as Lambda checks them (any event source)."""
    given = criteria.get("Filters") if isinstance(criteria, dict) else None
    if given is None:
        return ()
    if not isinstance(given, list) or len(given) > MAX_FILTERS:
        raise InvalidParameterValue(f"FilterCriteria takes at most {MAX_FILTERS} filters")
    texts = []
    for item in given:
        text = item.get("Pattern") if isinstance(item, dict) else None
        try:
            filters.parse(text if isinstance(text, str) else "")
        except filters.PatternError:
            raise InvalidParameterValue("Invalid filter pattern definition.") from None
        texts.append(str(text))
    return tuple(texts)
