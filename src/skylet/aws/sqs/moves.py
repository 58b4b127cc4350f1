"""StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask: redrive from a
dead-letter queue, to a queue or back to where each message came from.

A task runs on the node that started it, moving batches with ``QueueStore.move_messages``
(each batch one transaction: a message is in one queue or the other, never both), at most
``MaxNumberOfMessagesPerSecond`` a second when given. Tasks are remembered by that node only,
the last ten per source queue; a restart ends the running ones (the messages moved so far
stay moved, and a new task takes on the rest).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sqs.base import QueueService
from skylet.aws.sqs.errors import invalid_parameter, invalid_value, resource_not_found
from skylet.errors import QueueNotFound, ServiceError, SkyletError
from skylet.store.base import QueueStore

log = logging.getLogger(__name__)

MAX_RATE = 500
#: Messages moved per transaction when no rate is given.
BATCH = 100
KEPT_TASKS = 10


@dataclass(slots=True, eq=False)
class MoveTask:
    task_id: str
    handle: str
    source: str
    destination: str | None
    rate: int | None
    to_move: int
    started_at: float
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None
    runner: asyncio.Task[None] | None = field(default=None, repr=False)


class MoveOperations(QueueService):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Each source queue's tasks, oldest first.
        self.tasks: dict[str, list[MoveTask]] = {}

    async def start_message_move_task(self, request: Params, context: RequestContext) -> Params:
        source = self._existing_arn(request["SourceArn"], "SourceArn")
        config = await self.store.get_queue(source)
        if config is None:
            raise _missing_resource("SourceArn")
        if not any(q.dead_letter_queue == source for q in await self.store.list_queues()):
            raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
        destination = None
        if request.get("DestinationArn"):
            destination = self._existing_arn(request["DestinationArn"], "DestinationArn")
            if await self.store.get_queue(destination) is None:
                raise _missing_resource("DestinationArn")
        rate = request.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise invalid_value(
                "MaxNumberOfMessagesPerSecond", rate, f"Must be between 1 and {MAX_RATE}."
            )
        if any(t.status == "RUNNING" for t in self.tasks.get(source, [])):
            raise invalid_parameter(
                "There is already a task running. Only one active task is allowed for a source "
                "queue arn at a given time."
            )
        task_id = str(uuid.uuid4())
        handle = base64.b64encode(
            json.dumps({"taskId": task_id, "sourceArn": self.arn(source)}).encode()
        ).decode()
        to_move = (await self.store.queue_stats(source)).visible
        task = MoveTask(task_id, handle, source, destination, rate, to_move, self.now())
        kept = self.tasks.setdefault(source, [])
        kept.append(task)
        del kept[:-KEPT_TASKS]
        task.runner = asyncio.create_task(_run(self.store, task))
        return {"TaskHandle": handle}

    async def list_message_move_tasks(self, request: Params, context: RequestContext) -> Params:
        source = self._existing_arn(request["SourceArn"], "SourceArn")
        if await self.store.get_queue(source) is None:
            raise _missing_resource("SourceArn")
        limit = request.get("MaxResults") or 1
        if not 1 <= limit <= KEPT_TASKS:
            raise invalid_value("MaxResults", limit, f"Must be between 1 and {KEPT_TASKS}.")
        newest = list(reversed(self.tasks.get(source, [])))[:limit]
        return {"Results": [self._entry(task) for task in newest]}

    async def cancel_message_move_task(self, request: Params, context: RequestContext) -> Params:
        try:
            document = json.loads(base64.b64decode(request["TaskHandle"], validate=True))
            task_id, source_arn = document["taskId"], document["sourceArn"]
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise invalid_parameter("Value for parameter TaskHandle is invalid.") from None
        source = self._existing_arn(source_arn, "SourceArn")
        if await self.store.get_queue(source) is None:
            raise _missing_resource("SourceArn")
        task = next((t for t in self.tasks.get(source, []) if t.task_id == task_id), None)
        if task is None or task.status != "RUNNING":
            raise resource_not_found("Task does not exist.")
        task.status = "CANCELLING"
        if task.runner is not None:
            task.runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task.runner
        task.status = "CANCELLED"
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    async def aclose(self) -> None:
        """Stop the running tasks (their moves so far stay)."""
        runners = [t.runner for ts in self.tasks.values() for t in ts if t.runner is not None]
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    def _existing_arn(self, arn: str, parameter: str) -> str:
        try:
            return self.name_from_arn(arn, parameter)
        except ServiceError:
            raise invalid_parameter(
                f"You must use this format to specify the {parameter}: "
                "arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
            ) from None

    def _entry(self, task: MoveTask) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Status": task.status,
            "SourceArn": self.arn(task.source),
            "ApproximateNumberOfMessagesMoved": task.moved,
            "ApproximateNumberOfMessagesToMove": task.to_move,
            "StartedTimestamp": int(task.started_at * 1000),
        }
        if task.status == "RUNNING":
            entry["TaskHandle"] = task.handle
        if task.destination is not None:
            entry["DestinationArn"] = self.arn(task.destination)
        if task.rate is not None:
            entry["MaxNumberOfMessagesPerSecond"] = task.rate
        if task.failure is not None:
            entry["FailureReason"] = task.failure
        return entry


def _missing_resource(parameter: str) -> ServiceError:
    return resource_not_found(
        f"The resource that you specified for the {parameter} parameter doesn't exist."
    )


async def _run(store: QueueStore, task: MoveTask) -> None:
    """Move ``task.to_move`` messages (or until the source has no more to move)."""
    try:
        while task.moved < task.to_move:
            batch = min(task.rate or BATCH, task.to_move - task.moved)
            moved = await store.move_messages(task.source, task.destination, max_messages=batch)
            task.moved += moved
            if moved == 0:
                break
            if task.rate is not None:
                await asyncio.sleep(1.0)
        task.status = "COMPLETED"
    except QueueNotFound:
        task.status, task.failure = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
    except SkyletError as error:
        log.warning("message move task %s failed: %s", task.task_id, error)
        task.status, task.failure = "FAILED", "AWS.SimpleQueueService.InternalError"
