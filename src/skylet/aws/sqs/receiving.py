"""ReceiveMessage (long polling that answers as soon as a message can be leased), and the
operations on received messages: DeleteMessage(Batch), ChangeMessageVisibility(Batch)."""

from __future__ import annotations

from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sqs import batches, messages
from skylet.aws.sqs.base import QueueService
from skylet.aws.sqs.errors import invalid_value, receipt_handle_invalid
from skylet.errors import InvalidReceipt, ServiceError
from skylet.store.rules import parse_receipt
from skylet.store.types import MAX_VISIBILITY_TIMEOUT_S, QueueConfig

MAX_MESSAGES = 10
MAX_WAIT_S = 20


class ReceiveOperations(QueueService):
    async def receive_message(self, request: Params, context: RequestContext) -> Params:
        config = await self.queue(request)
        count = request.get("MaxNumberOfMessages")
        if count is not None and not 1 <= count <= MAX_MESSAGES:
            raise invalid_value(
                "MaxNumberOfMessages", count, "Must be between 1 and 10, if provided."
            )
        wait = request.get("WaitTimeSeconds")
        if wait is None:
            wait = int(config.attributes.get("ReceiveMessageWaitTimeSeconds", "0"))
        elif not 0 <= wait <= MAX_WAIT_S:
            raise invalid_value("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
        visibility = request.get("VisibilityTimeout")
        if visibility is not None:
            _check_visibility(visibility)
        attempt_id = request.get("ReceiveRequestAttemptId") if config.fifo else None
        if attempt_id is not None:
            replayed = self.attempts.replay(config.name, attempt_id, self.now())
            if replayed is not None:
                return replayed
        leased = await self.store.receive(
            config.name,
            max_messages=count or 1,
            visibility_timeout_s=None if visibility is None else float(visibility),
            wait_s=float(wait),
        )
        system_names = [
            *(request.get("AttributeNames") or []),
            *(request.get("MessageSystemAttributeNames") or []),
        ]
        attribute_names = request.get("MessageAttributeNames") or []
        result: Params = {}
        if leased:
            result["Messages"] = [
                messages.received(
                    message,
                    system_names=system_names,
                    attribute_names=attribute_names,
                    sender=self.account,
                    arn=self.arn,
                )
                for message in leased
            ]
        if attempt_id is not None and leased:
            held_s = config.visibility_timeout_s if visibility is None else float(visibility)
            self.attempts.remember(config.name, attempt_id, self.now(), held_s, result)
        return result

    # -- deleting -------------------------------------------------------------------------------

    async def delete_message(self, request: Params, context: RequestContext) -> None:
        config = await self.queue(request)
        (outcome,) = await self._delete(config, [request["ReceiptHandle"]])
        if isinstance(outcome, ServiceError):
            raise outcome

    async def delete_message_batch(self, request: Params, context: RequestContext) -> Params:
        config = await self.queue(request)
        entries: list[Params] = request.get("Entries") or []
        batches.check_entries("DeleteMessageBatch", entries)
        outcomes = await self._delete(config, [entry["ReceiptHandle"] for entry in entries])
        return _batch_result(entries, outcomes)

    async def _delete(self, config: QueueConfig, handles: list[str]) -> list[ServiceError | None]:
        """Delete by receipt, each receipt's outcome: a well-formed receipt whose lease is gone
        deletes nothing and succeeds, as in SQS (a FIFO queue says it has expired)."""
        outcomes: list[ServiceError | None] = [None] * len(handles)
        valid: list[int] = []
        for index, handle in enumerate(handles):
            try:
                _check_receipt(handle)
                valid.append(index)
            except ServiceError as error:
                outcomes[index] = error
        if not valid:
            return outcomes
        deleted = await self.store.delete_batch(config.name, [handles[i] for i in valid])
        for index, done in zip(valid, deleted, strict=True):
            if not done and config.fifo:
                outcomes[index] = invalid_value(
                    "ReceiptHandle", handles[index], "The receipt handle has expired."
                )
        return outcomes

    # -- visibility -----------------------------------------------------------------------------

    async def change_message_visibility(self, request: Params, context: RequestContext) -> None:
        config = await self.queue(request)
        error = await self._change(config, request["ReceiptHandle"], request["VisibilityTimeout"])
        if error is not None:
            raise error

    async def change_message_visibility_batch(
        self, request: Params, context: RequestContext
    ) -> Params:
        config = await self.queue(request)
        entries: list[Params] = request.get("Entries") or []
        batches.check_entries("ChangeMessageVisibilityBatch", entries)
        outcomes = [
            await self._change(config, entry["ReceiptHandle"], entry.get("VisibilityTimeout") or 0)
            for entry in entries
        ]
        return _batch_result(entries, outcomes)

    async def _change(
        self, config: QueueConfig, handle: str, timeout_s: int
    ) -> ServiceError | None:
        try:
            _check_receipt(handle)
            _check_visibility(timeout_s)
            changed = await self.store.change_visibility(config.name, handle, float(timeout_s))
        except ServiceError as error:
            return error
        if not changed:
            return invalid_value(
                "ReceiptHandle",
                handle,
                "Message does not exist or is not available for visibility timeout change.",
            )
        return None


def _check_receipt(handle: str) -> None:
    try:
        parse_receipt(handle)
    except InvalidReceipt:
        raise receipt_handle_invalid(handle) from None


def _check_visibility(timeout: int) -> None:
    if not 0 <= timeout <= MAX_VISIBILITY_TIMEOUT_S:
        raise invalid_value(
            "VisibilityTimeout",
            timeout,
            f"Must be >= 0 and <= {int(MAX_VISIBILITY_TIMEOUT_S)}, if provided.",
        )


def _batch_result(entries: list[Params], outcomes: list[ServiceError | None]) -> Params:
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry, outcome in zip(entries, outcomes, strict=True):
        if outcome is None:
            successful.append({"Id": entry["Id"]})
        else:
            failed.append(batches.failure(entry["Id"], outcome))
    return batches.result(successful, failed)
