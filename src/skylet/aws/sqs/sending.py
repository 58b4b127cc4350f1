"""SendMessage and SendMessageBatch: each message checked as SQS checks it, stored in one
store call (a batch's valid entries in one transaction), answered with SQS's digests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sqs import batches, fifo
from skylet.aws.sqs import message_attributes as attrs
from skylet.aws.sqs.attributes import DEFAULT_MAXIMUM_MESSAGE_SIZE
from skylet.aws.sqs.base import QueueService
from skylet.aws.sqs.errors import batch_too_long, invalid_parameter, invalid_value, missing
from skylet.aws.sqs.messages import Stored
from skylet.errors import ServiceError
from skylet.observe.trace_context import CURRENT
from skylet.store.types import MAX_DELAY_S, QueueConfig, SendEntry

#: A batch's total size limit, whatever the queue's MaximumMessageSize.
MAX_BATCH_BYTES = DEFAULT_MAXIMUM_MESSAGE_SIZE
_SYSTEM_ATTRIBUTES = ("AWSTraceHeader",)


@dataclass(slots=True)
class _Outgoing:
    """One checked message: what the store gets and what the response will say."""

    entry: SendEntry
    response: dict[str, Any]


class SendOperations(QueueService):
    async def send_message(self, request: Params, context: RequestContext) -> Params:
        config = await self.queue(request)
        outgoing = self._prepare(config, request, batch=False)
        (message_id,) = await self.store.send_batch(config.name, [outgoing.entry])
        if self.on_sent is not None:
            self.on_sent(config.name, 1)
        return {"MessageId": message_id, **outgoing.response}

    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None:
        """One message from inside skylet (SNS's deliveries to a queue subscriber): the checks
        and digests of SendMessage, the queue named by its ARN. QueueDoesNotExist (a 400, so
        SNS counts it as the subscriber's fault) when there is no such queue."""
        params: dict[str, Any] = {"MessageBody": body, "MessageAttributes": dict(attributes)}
        if group_id is not None:
            params["MessageGroupId"] = group_id
        if dedup_id is not None:
            params["MessageDeduplicationId"] = dedup_id
        config = await self.queue_named(self.name_from_arn(queue_arn, "QueueArn"))
        outgoing = self._prepare(config, params, batch=False)
        await self.store.send_batch(config.name, [outgoing.entry])
        if self.on_sent is not None:
            self.on_sent(config.name, 1)

    async def send_message_batch(self, request: Params, context: RequestContext) -> Params:
        config = await self.queue(request)
        entries: list[Params] = request.get("Entries") or []
        batches.check_entries("SendMessageBatch", entries)
        total = sum(_raw_size(entry) for entry in entries)
        if total > MAX_BATCH_BYTES:
            raise batch_too_long(MAX_BATCH_BYTES, total)
        ready: list[tuple[str, _Outgoing]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                ready.append((entry["Id"], self._prepare(config, entry, batch=True)))
            except ServiceError as error:
                failed.append(batches.failure(entry["Id"], error))
        ids = await self.store.send_batch(config.name, [o.entry for _, o in ready]) if ready else []
        if ids and self.on_sent is not None:
            self.on_sent(config.name, len(ids))
        successful = [
            {"Id": entry_id, "MessageId": message_id, **outgoing.response}
            for (entry_id, outgoing), message_id in zip(ready, ids, strict=True)
        ]
        return batches.result(successful, failed)

    def _prepare(self, config: QueueConfig, params: Params, *, batch: bool) -> _Outgoing:
        body = params.get("MessageBody")
        if not body:
            raise missing("MessageBody")
        attrs.check_text(body)
        user = attrs.check(params.get("MessageAttributes") or {})
        system = attrs.check(params.get("MessageSystemAttributes") or {}, kind="system")
        for name, value in system.items():
            if name not in _SYSTEM_ATTRIBUTES or value["DataType"] != "String":
                raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        limit = int(config.attributes.get("MaximumMessageSize", str(DEFAULT_MAXIMUM_MESSAGE_SIZE)))
        if attrs.size(body, user) > limit:
            raise invalid_parameter(
                f"One or more parameters are invalid. Reason: Message must be shorter than "
                f"{limit} bytes."
            )
        delay = self._delay(config, params.get("DelaySeconds"))
        group, dedup, sequence = self._fifo(config, params, body, batch=batch)
        trace = system["AWSTraceHeader"]["StringValue"] if "AWSTraceHeader" in system else None
        if trace is None:  # as SQS keeps the X-Amzn-Trace-Id a sender sent (docs/tracing.md)
            caller = CURRENT.get()
            trace = caller.xray if caller is not None else None
        meta = Stored(user, trace, sequence, dedup, self.account)
        store_dedup = None
        if config.fifo and group is not None and dedup is not None:
            store_dedup = fifo.store_dedup_key(config, group, dedup)
        response: dict[str, Any] = {"MD5OfMessageBody": attrs.md5_of_body(body)}
        if user:
            response["MD5OfMessageAttributes"] = attrs.md5_of_attributes(user)
        if system:
            response["MD5OfMessageSystemAttributes"] = attrs.md5_of_attributes(system)
        if sequence is not None:
            response["SequenceNumber"] = sequence
        entry = SendEntry(body.encode(), delay, meta.encode(), group, store_dedup)
        return _Outgoing(entry, response)

    def _delay(self, config: QueueConfig, given: int | None) -> float | None:
        """``None``: the queue's own delay. FIFO queues take none per message (0 aside)."""
        if given is None:
            return None
        if config.fifo:
            if given != 0:
                raise invalid_value(
                    "DelaySeconds",
                    given,
                    "The request include parameter that is not valid for this queue type.",
                )
            return None
        if not 0 <= given <= MAX_DELAY_S:
            raise invalid_value(
                "DelaySeconds", given, f"DelaySeconds must be >= 0 and <= {int(MAX_DELAY_S)}"
            )
        return float(given)

    def _fifo(
        self, config: QueueConfig, params: Params, body: str, *, batch: bool
    ) -> tuple[str | None, str | None, str | None]:
        """(group id, deduplication id, sequence number) of a send."""
        group = params.get("MessageGroupId")
        dedup = params.get("MessageDeduplicationId")
        if group is not None:
            fifo.check_id("MessageGroupId", group)
        if dedup is not None:
            fifo.check_id("MessageDeduplicationId", dedup)
        if not config.fifo:
            if dedup is not None:
                raise invalid_value(
                    "MessageDeduplicationId",
                    dedup,
                    "The request include parameter that is not valid for this queue type.",
                )
            return group, None, None
        if group is None:
            if batch:
                raise invalid_parameter("The request must contain the parameter MessageGroupId.")
            raise missing("MessageGroupId")
        if dedup is None and not fifo.content_based(config):
            raise invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return group, fifo.dedup_id_of(body, dedup), self.sequencer.next(self.now())


def _raw_size(entry: Params) -> int:
    """An entry's size as given (checked or not), for the batch's total."""
    total = len(str(entry.get("MessageBody") or "").encode())
    for name, value in (entry.get("MessageAttributes") or {}).items():
        total += len(name.encode()) + len(str(value.get("DataType", "")).encode())
        binary = value.get("BinaryValue")
        total += (
            len(binary)
            if isinstance(binary, bytes)
            else len(str(value.get("StringValue", "")).encode())
        )
    return total
