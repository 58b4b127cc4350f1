"""The Lambda API's event source mapping operations: CreateEventSourceMapping,
ListEventSourceMappings, GetEventSourceMapping, UpdateEventSourceMapping,
DeleteEventSourceMapping, with Lambda's checks and messages, in botocore's shapes; SQS queues
here, DynamoDB streams in ``lambda_stream_mapping_api.py``.

Mappings of other event sources (Kinesis, Kafka, MQ) are refused. A mapping the manifest
declares is listed and read like the others, and is changed in the manifest only (the API's
Update and Delete answer ResourceConflictException).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from skylet import arns
from skylet.aws import lambda_documents as documents
from skylet.aws.lambda_mappings import EventSourceMappings, SqsMapping
from skylet.aws.lambda_names import parse_function_name
from skylet.aws.lambda_requests import Answer, Request, max_items_of
from skylet.aws.lambda_stream_mapping_api import (
    StreamMappingOperations,
    filter_patterns,
    is_stream_arn,
)
from skylet.aws.sqs import names
from skylet.aws.stream_mappings import StreamMapping
from skylet.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    ServiceError,
)

if TYPE_CHECKING:
    from skylet.aws.lambda_control import LambdaControl
    from skylet.aws.stream_mappings import StreamMappings

MAX_BATCH_SIZE = 10_000
MAX_FIFO_BATCH_SIZE = 10
MAX_WINDOW_S = 300
#: ListEventSourceMappings answers at most this many per page, whatever MaxItems asks.
MAX_PAGE = 100


class MappingOperations:
    def __init__(
        self,
        control: LambdaControl,
        mappings: EventSourceMappings,
        streams: StreamMappings | None = None,
    ) -> None:
        self.control = control
        self.mappings = mappings
        self.settings = control.settings
        self.streams = StreamMappingOperations(control, streams) if streams is not None else None

    # -- the operations -------------------------------------------------------------------

    async def create(self, request: Request) -> Answer:
        body = request.body
        if self.streams is not None and is_stream_arn(body.get("EventSourceArn")):
            return await self.streams.create(request)
        queue = self._queue(body.get("EventSourceArn"))
        if "StartingPosition" in body:
            raise InvalidParameterValue("StartingPosition is not valid for SQS event sources.")
        function = self._function(body.get("FunctionName"), "lambda:CreateEventSourceMapping")
        await self._check_queue(queue)
        for existing in self.mappings.all():
            if existing.function == function and existing.queue == queue:
                raise ResourceConflict(
                    f'An event source mapping with SQS arn (" {self._queue_arn(queue)} ") and '
                    f'function (" {function} ") already exists. Please update or delete the '
                    f"existing mapping with UUID {existing.uuid}"
                )
        mapping = _apply(SqsMapping(str(uuid.uuid4()), function, queue), body)
        stored = await self.mappings.put(mapping)
        return 202, self.document(stored, "Creating")

    async def list(self, request: Request) -> Answer:
        source = request.query.get("EventSourceArn")
        name = request.query.get("FunctionName")
        function = self._function(name, "lambda:ListEventSourceMappings") if name else None
        chosen: list[SqsMapping | StreamMapping] = []
        if not is_stream_arn(source):
            queue_name = self._queue(source) if source else None
            chosen.extend(
                m
                for m in self.mappings.all()
                if (function is None or m.function == function)
                and (queue_name is None or m.queue == queue_name)
            )
        if self.streams is not None and (source is None or is_stream_arn(source)):
            for mapping in self.streams.mappings.all():
                if function is not None and mapping.function != function:
                    continue
                if source is not None and await self.streams.stream_arn(mapping) != source:
                    continue
                chosen.append(mapping)
        shown, marker = documents.page(
            chosen, request.query.get("Marker"), min(max_items_of(request), MAX_PAGE)
        )
        document: dict[str, Any] = {"EventSourceMappings": [await self._document(m) for m in shown]}
        if marker is not None:
            document["NextMarker"] = marker
        return 200, document

    async def get(self, request: Request) -> Answer:
        stream = self._stream(request)
        if stream is not None:
            return 200, await self._document(stream)
        return 200, self.document(self._mapping(request))

    async def update(self, request: Request) -> Answer:
        stream = self._stream(request)
        if stream is not None and self.streams is not None:
            return await self.streams.update(stream, request)
        mapping = self._mapping(request)
        if mapping.declared:
            raise ResourceConflict(
                f"The event source mapping {mapping.uuid} is declared in the manifest; change it "
                "there"
            )
        body = request.body
        if body.get("FunctionName"):
            function = self._function(body["FunctionName"], "lambda:UpdateEventSourceMapping")
            mapping = dataclasses.replace(mapping, function=function)
        stored = await self.mappings.put(_apply(mapping, body))
        return 202, self.document(stored, "Updating")

    async def delete(self, request: Request) -> Answer:
        stream = self._stream(request)
        if stream is not None and self.streams is not None:
            return await self.streams.delete(stream)
        mapping = self._mapping(request)
        if mapping.declared:
            raise ResourceConflict(
                f"The event source mapping {mapping.uuid} is declared in the manifest; remove "
                "the sqs event there"
            )
        await self.mappings.delete(mapping.uuid)
        return 202, self.document(mapping, "Deleting")

    # -- documents ----------------------------------------------------------------------------

    def document(self, mapping: SqsMapping, state: str | None = None) -> dict[str, Any]:
        """EventSourceMappingConfiguration, as Lambda writes an SQS mapping's."""
        region = self.control.invoker.region
        document: dict[str, Any] = {
            "UUID": mapping.uuid,
            "BatchSize": mapping.batch_size,
            "MaximumBatchingWindowInSeconds": mapping.window_s,
            "EventSourceArn": self._queue_arn(mapping.queue),
            "FunctionArn": self.settings.function_arn(mapping.function, region=region),
            "LastModified": mapping.last_modified,
            "State": state or ("Enabled" if mapping.enabled else "Disabled"),
            "StateTransitionReason": "USER_INITIATED",
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
        if mapping.max_concurrency is not None:
            document["ScalingConfig"] = {"MaximumConcurrency": mapping.max_concurrency}
        return document

    async def _document(self, mapping: SqsMapping | StreamMapping) -> dict[str, Any]:
        if isinstance(mapping, SqsMapping):
            return self.document(mapping)
        assert self.streams is not None
        return await self.streams.document(mapping)

    # -- reading a request ----------------------------------------------------------------------

    def _stream(self, request: Request) -> StreamMapping | None:
        if self.streams is None:
            return None
        return self.streams.mappings.get(request.labels["UUID"])

    def _mapping(self, request: Request) -> SqsMapping:
        found = self.mappings.get(request.labels["UUID"])
        if found is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        return found

    def _function(self, value: Any, action: str) -> str:
        if not isinstance(value, str) or not value:
            raise InvalidParameterValue("FunctionName is required")
        ref = parse_function_name(
            value, self.settings, region=self.control.invoker.region, action=action
        )
        return self.control.latest(ref.name).name

    def _queue(self, arn: Any) -> str:
        if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:"):
            raise InvalidParameterValue(
                f"Unsupported event source: {arn!r}; skylet maps SQS queues (arn:aws:sqs:…)"
            )
        try:
            return names.name_from_arn(arn, self.settings.account_id, parameter="EventSourceArn")
        except ServiceError as error:
            raise InvalidParameterValue(error.message) from None

    def _queue_arn(self, queue: str) -> str:
        return self.mappings.queue_arn(queue)

    async def _check_queue(self, queue: str) -> None:
        if await self.mappings.queue_config(queue) is None:
            raise InvalidParameterValue(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified "
                "queue does not exist."
            )


def _apply(mapping: SqsMapping, body: dict[str, Any]) -> SqsMapping:
    """``mapping`` with what a Create or Update request sets, checked as Lambda checks it."""
    changes: dict[str, Any] = {}
    if "BatchSize" in body:
        changes["batch_size"] = _integer(body, "BatchSize", 1, MAX_BATCH_SIZE)
    if "MaximumBatchingWindowInSeconds" in body:
        changes["window_s"] = _integer(body, "MaximumBatchingWindowInSeconds", 0, MAX_WINDOW_S)
    if "Enabled" in body:
        if not isinstance(body["Enabled"], bool):
            raise InvalidParameterValue("Enabled must be true or false")
        changes["enabled"] = body["Enabled"]
    if "FunctionResponseTypes" in body:
        types = body["FunctionResponseTypes"] or []
        if not isinstance(types, list) or any(t != "ReportBatchItemFailures" for t in types):
            raise InvalidParameterValue(
                "FunctionResponseTypes: allowed values are [ReportBatchItemFailures]"
            )
        changes["report_failures"] = bool(types)
    if "FilterCriteria" in body:
        changes["patterns"] = filter_patterns(body["FilterCriteria"])
    if "ScalingConfig" in body:
        scaling = body["ScalingConfig"] or {}
        maximum = scaling.get("MaximumConcurrency") if isinstance(scaling, dict) else None
        if maximum is not None and (
            isinstance(maximum, bool) or not isinstance(maximum, int) or not 2 <= maximum <= 1000
        ):
            raise InvalidParameterValue("MaximumConcurrency must be between 2 and 1000")
        changes["max_concurrency"] = maximum
    updated = dataclasses.replace(mapping, **changes)
    if updated.batch_size > MAX_FIFO_BATCH_SIZE and updated.window_s == 0:
        raise InvalidParameterValue(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10"
        )
    if names.is_fifo_name(updated.queue) and updated.batch_size > MAX_FIFO_BATCH_SIZE:
        raise InvalidParameterValue(
            f"BatchSize must be between 1 and {MAX_FIFO_BATCH_SIZE} for a FIFO queue"
        )
    return updated


def _integer(body: dict[str, Any], key: str, low: int, high: int) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameterValue(f"{key} must be between {low} and {high}")
    return value
