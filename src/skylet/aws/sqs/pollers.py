"""``SqsPoller``: one event source mapping's poller, as Lambda's SQS poller behaves.

    receive (the queue's visibility timeout) ─▶ filter ─▶ Invoker.invoke (synchronous)
        success ─▶ delete the batch (with ReportBatchItemFailures: all but the failures)
        function error, bad batchItemFailures ─▶ nothing: the messages come back after the
            visibility timeout, their receive count one higher, and the queue's RedrivePolicy
            moves a message received maxReceiveCount times to its dead-letter queue
        throttled, function missing, platform failure ─▶ the same, after a backoff
    messages no filter pattern matches are deleted unseen, as Lambda does.

A batch is up to ``batch_size`` messages, gathered for up to ``window_s`` (Lambda's
MaximumBatchingWindowInSeconds), and at most 6 MB of records per invocation. Workers scale as
Lambda's do: ``start_workers`` at first, one more while each receive comes back full, down again
when the queue is empty, never more than ``max_workers`` (MaximumConcurrency). A FIFO queue's
groups keep their order: the store gives no message of a group while another is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from skylet import fastjson
from skylet.aws.sqs import lambda_event
from skylet.errors import ResourceNotFound, SkyletError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.observe.trace_context import parse_xray
from skylet.store.base import QueueStore
from skylet.store.types import Message

log = logging.getLogger(__name__)

#: Lambda's limit on a synchronous invocation's payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: An idle worker's long poll, real seconds.
POLL_S = 20.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """What one mapping polls and how."""

    function: str
    queue: str
    queue_arn: str
    region: str
    batch_size: int = 10
    window_s: float = 0.0
    report_failures: bool = False
    patterns: tuple[dict[str, Any], ...] = ()
    start_workers: int = 2
    max_workers: int = 20


@dataclass(slots=True)
class PollerStats:
    """Counters since start, for tests and metrics."""

    batches: int = 0
    delivered: int = 0
    failed_batches: int = 0
    filtered: int = 0
    deferred: int = 0


@dataclass(slots=True, eq=False)
class _Worker:
    task: asyncio.Task[None] | None = None
    delivering: bool = False


@dataclass(slots=True)
class _Backoff:
    wait_s: float = BACKOFF_FIRST_S

    async def sleep(self) -> None:
        await asyncio.sleep(self.wait_s)
        self.wait_s = min(self.wait_s * 2, BACKOFF_MAX_S)

    def reset(self) -> None:
        self.wait_s = BACKOFF_FIRST_S


class SqsPoller:
    """Polls ``config.queue`` for ``config.function`` between ``start`` and ``stop``."""

    def __init__(
        self,
        config: PollerConfig,
        store: QueueStore,
        runner: FunctionRunner,
        *,
        record: Callable[[Message], dict[str, Any]],
    ) -> None:
        self.config = config
        self.stats = PollerStats()
        self._store = store
        self._runner = runner
        self._record = record
        self._workers: list[_Worker] = []
        self._stopping = False

    @property
    def workers(self) -> int:
        return len(self._workers)

    def start(self) -> None:
        for _ in range(min(self.config.start_workers, self.config.max_workers)):
            self._spawn()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop receiving; batches being delivered finish (within ``grace_s``). Messages not
        deleted come back after their visibility timeout (at least once)."""
        self._stopping = True
        workers = list(self._workers)
        for worker in workers:
            if not worker.delivering and worker.task is not None:
                worker.task.cancel()
        tasks = {w.task for w in workers if w.task is not None}
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace_s)
            for task in late:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _spawn(self) -> None:
        worker = _Worker()
        worker.task = asyncio.create_task(self._work(worker))
        self._workers.append(worker)

    async def _work(self, worker: _Worker) -> None:
        backoff = _Backoff()
        try:
            while not self._stopping:
                if not self._deployed():
                    # Receiving now would count receives, and move messages to the DLQ, for
                    # a function that cannot run them.
                    await backoff.sleep()
                    continue
                try:
                    batch = await self._gather()
                except SkyletError as error:  # the queue is missing, the store down
                    log.warning(
                        "polling %s for %s: %s", self.config.queue, self.config.function, error
                    )
                    await backoff.sleep()
                    continue
                if not batch:
                    if len(self._workers) > self.config.start_workers:
                        return  # the queue is empty: scale down
                    continue
                full = len(batch) >= self.config.batch_size
                if full and not self._stopping and len(self._workers) < self.config.max_workers:
                    self._spawn()  # the queue has more: scale up
                worker.delivering = True
                try:
                    delivered = await self._deliver(batch)
                finally:
                    worker.delivering = False
                if delivered:
                    backoff.reset()
                else:
                    await backoff.sleep()
        finally:
            self._workers.remove(worker)

    def _deployed(self) -> bool:
        try:
            self._runner.function(self.config.function)
        except ResourceNotFound:
            return False
        return True

    async def _gather(self) -> list[Message]:
        """One batch: what a long poll brings, then more for up to the batching window."""
        size = self.config.batch_size
        batch = await self._store.receive(self.config.queue, max_messages=size, wait_s=POLL_S)
        if not batch or self.config.window_s <= 0:
            return batch
        deadline = time.monotonic() + self.config.window_s
        while len(batch) < size and (left := deadline - time.monotonic()) > 0:
            batch += await self._store.receive(
                self.config.queue, max_messages=size - len(batch), wait_s=left
            )
        return batch

    async def _deliver(self, batch: list[Message]) -> bool:
        """Run the function on a batch; ``False`` when it could not run (throttled, missing)."""
        self.stats.batches += 1
        records, dropped = [], []
        for message in batch:
            entry = self._record(message)
            if self.config.patterns and not any(
                filters.matches(p, lambda_event.filter_view(entry)) for p in self.config.patterns
            ):
                dropped.append(message.receipt)
            else:
                records.append(entry)
        if dropped:
            self.stats.filtered += len(dropped)
            await self._delete(dropped)
        ran = True
        for chunk in _chunks(records):
            ran = await self._invoke(chunk) and ran
        return ran

    async def _invoke(self, records: Sequence[dict[str, Any]]) -> bool:
        payload = fastjson.dumps({"Records": list(records)})
        # As Lambda does: the batch continues the trace of its first message that has one.
        trace = next(
            (
                t
                for r in records
                if (t := parse_xray(r.get("attributes", {}).get("AWSTraceHeader")))
            ),
            None,
        )
        try:
            result = await self._runner.invoke(
                self.config.function, payload, trace=trace, trigger="pubsub"
            )
        except SkyletError as error:
            # Throttled, the function gone for a moment, the platform failing: the messages
            # come back after their visibility timeout.
            log.info("invoking %s for %s: %s", self.config.function, self.config.queue, error)
            self.stats.deferred += 1
            return False
        if result.function_error is not None:
            self.stats.failed_batches += 1
            return True
        kept: set[str] | None = set()
        if self.config.report_failures:
            kept = lambda_event.failed_items(result.payload, [r["messageId"] for r in records])
        if kept is None:
            self.stats.failed_batches += 1
            return True
        done = [r["receiptHandle"] for r in records if r["messageId"] not in kept]
        self.stats.delivered += len(done)
        await self._delete(done)
        return True

    async def _delete(self, receipts: list[str]) -> None:
        if not receipts:
            return
        try:
            await self._store.delete_batch(self.config.queue, receipts)
        except SkyletError as error:  # they come back after their visibility timeout
            log.warning("deleting from %s: %s", self.config.queue, error)


def _chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Records in invocations of at most 6 MB of payload each."""
    chunks: list[list[dict[str, Any]]] = []
    size = MAX_PAYLOAD_BYTES
    for entry in records:
        length = len(fastjson.dumps(entry)) + 1
        if size + length > MAX_PAYLOAD_BYTES - 64 or not chunks:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += length
    return chunks
