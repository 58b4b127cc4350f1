"""``StreamPoller``: one DynamoDB stream event source mapping, as Lambda's stream poller
behaves (one batch per shard at a time, in order).

    read after the checkpoint (up to batch_size, gathered for up to window_s)
      ─▶ records past MaximumRecordAge ─▶ on-failure destination, checkpoint past them
      ─▶ filter (records no pattern matches are skipped, as Lambda drops them)
      ─▶ Invoker.invoke ─▶ success: checkpoint the batch's last sequence
                         ─▶ ReportBatchItemFailures: checkpoint before the lowest failure
                         ─▶ function error: stream_policy.after_error (retry, split, give up)
                         ─▶ throttled, missing: back off and try the same records again

The checkpoint is the store's consumer offset (``commit``), written after the function
returned, so a crash (kill -9) redelivers the batch under way: at least once, never a gap.

ParallelizationFactor N > 1: one reader hands each record to one of N lanes by its item's key
(``stream_policy.lane_of``); each lane runs the loop above on its own records, so one item's
records stay in order while other items' batches run beside them, and a failing batch blocks
only its lane. The checkpoint then moves to below the oldest record some lane still holds.

TumblingWindowInSeconds W > 0: batches are cut at W-second windows aligned to the epoch, by
the records' creation time; each invocation gets ``window``, ``state`` (what the previous
invocation of the window returned as ``state``, ``{}`` first), ``shardId``, ``eventSourceARN``,
``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``; once the window is over (a record
of a later window arrives, or the clock passes its end) one more invocation, with no records
and ``isFinalInvokeForWindow: true``, hands over the final state, which is then dropped. The
state is kept in memory: after a restart a window resumes from the checkpoint with ``{}``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from skylet import fastjson
from skylet.aws.dynamodb.schema import stream_log
from skylet.aws.dynamodb.stream_policy import (
    Next,
    Window,
    after_error,
    expired,
    failed_from,
    lane_of,
    same_window,
    window_of,
)
from skylet.aws.dynamodb.streams import sequence_text, wire_record
from skylet.aws.dynamodb.writes import TRACE_KEY
from skylet.config import Destination
from skylet.errors import SkyletError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.events.destinations import Deliverer, Delivery
from skylet.observe.trace_context import parse_traceparent
from skylet.store.base import Store
from skylet.store.types import LATEST, TRIM_HORIZON, LogRecord

log = logging.getLogger(__name__)

POLL_S = 20.0
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 10.0


@dataclass(frozen=True, slots=True)
class StreamPollerConfig:
    uuid: str
    function: str
    table: str
    stream_arn: str
    shard_id: str
    batch_size: int = 100
    window_s: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    bisect: bool = False
    max_retries: int = -1
    max_age_s: int = -1
    report_failures: bool = False
    patterns: tuple[dict[str, Any], ...] = ()
    on_failure: Destination | None = None
    parallelization: int = 1
    tumbling_window_s: int = 0


class StreamPoller:
    """Delivers ``config.table``'s stream to ``config.function`` between start and stop."""

    def __init__(
        self,
        config: StreamPollerConfig,
        store: Store,
        runner: FunctionRunner,
        deliverer: Deliverer,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._store = store
        self._runner = runner
        self._deliverer = deliverer
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self._log = stream_log(config.table)
        self.delivered = 0
        self.given_up = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self, grace_s: float = 10.0) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, grace_s)

    async def _checkpoint(self) -> int:
        found = await self._store.committed(self.config.uuid, self._log, 0)
        if found is not None:
            return found
        position = LATEST if self.config.starting_position == "LATEST" else TRIM_HORIZON
        after = await self._store.seek(self._log, 0, position)
        await self._store.commit(self.config.uuid, self._log, 0, after)
        return after

    async def commit(self, sequence: int) -> None:
        await self._store.commit(self.config.uuid, self._log, 0, sequence)

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except SkyletError as error:  # the store or the log missing for now
                log.warning(
                    "stream of %s for %s: %s", self.config.table, self.config.function, error
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _serve(self) -> None:
        after = await self._checkpoint()
        lanes = self.config.parallelization
        if lanes <= 1:
            await self._lane(_StoreSource(self, after))
            return
        checkpoint = _Checkpoint(self, after)
        queues = [_Lane(self.config.window_s, checkpoint) for _ in range(lanes)]
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._read_into(queues, checkpoint, after))
                for queue in queues:
                    group.create_task(self._lane(queue))
        except* SkyletError as failed:
            raise failed.exceptions[0] from None

    async def _read_into(self, lanes: list[_Lane], checkpoint: _Checkpoint, after: int) -> None:
        """Read the shard in order and hand each record to its item's lane, at most a few
        batches per lane ahead of the checkpoint."""
        ahead = self.config.batch_size * len(lanes) * 2
        while True:
            room = ahead - len(checkpoint.pending)
            if room <= 0:
                checkpoint.space.clear()
                await checkpoint.space.wait()
                continue
            records = await self._store.read(self._log, 0, after_sequence=after, limit=room)
            if not records:
                await self._store.wait_for_records(self._log, POLL_S)
                continue
            for record in records:
                checkpoint.pending.append(record.sequence)
                keys = json.dumps(json.loads(record.data)["dynamodb"]["Keys"], sort_keys=True)
                lanes[lane_of(keys.encode(), len(lanes))].put(record)
            after = records[-1].sequence

    async def _lane(self, source: _Source) -> None:
        """One lane's batches, in order: a failing batch blocks the lane until it is handled."""
        cap = self.config.batch_size
        errors = 0
        size = self.config.tumbling_window_s
        window: Window | None = None  # the open tumbling window, and the state it carries
        state: Any = {}
        while True:
            wait = POLL_S
            if window is not None:
                wait = max(0.0, min(POLL_S, window.end_s - self._now()))
            batch = await source.gather(cap, wait)
            if window is not None:
                following = window_of(_created(batch[0]), size) if batch else None
                if following != window and (batch or self._now() >= window.end_s):
                    await self._final(window, state)
                    window, state = None, {}
            if not batch:
                continue
            if size:
                batch = batch[: same_window([_created(r) for r in batch], size)]
                window = window_of(_created(batch[0]), size)
            old = list(itertools.takewhile(self._expired, batch))  # oldest first
            if old:
                await self._give_up(old, "RecordAgeExceeded", errors, None)
                await source.advance(old[-1])
                continue
            entries = [self._entry(r) for r in batch]
            chosen = [
                e
                for e in entries
                if not self.config.patterns
                or any(filters.matches(p, e) for p in self.config.patterns)
            ]
            if not chosen:
                await source.advance(batch[-1])
                continue
            extra = self._window_fields(window, state, final=False) if window else {}
            outcome = await self._invoke(chosen, extra)
            if outcome is None:  # throttled or missing: the same records again, later
                await asyncio.sleep(BACKOFF_FIRST_S)
                continue
            error, response = outcome
            if error is None and window is not None and isinstance(response, dict):
                state = response.get("state", state)
            sequences = [e["dynamodb"]["SequenceNumber"] for e in entries]
            done = len(batch) if error is None else 0
            if error is None and self.config.report_failures:
                failed = failed_from(response, [e["dynamodb"]["SequenceNumber"] for e in chosen])
                if failed is None:
                    done = 0
                elif failed < len(chosen):
                    done = sequences.index(chosen[failed]["dynamodb"]["SequenceNumber"])
            if done == len(batch):
                self.delivered += len(chosen)
                await source.advance(batch[-1])
                cap, errors = self.config.batch_size, 0
                continue
            if done > 0:
                await source.advance(batch[done - 1])
                batch = batch[done:]
            errors += 1
            decision = after_error(
                records=len(batch),
                errors=errors,
                oldest_created_at=_created(batch[0]),
                bisect=self.config.bisect,
                max_retries=self.config.max_retries,
                max_age_s=self.config.max_age_s,
                now=self._now(),
            )
            if decision.next is Next.SPLIT:
                cap, errors = max(1, len(batch) // 2), 0
            elif decision.next is Next.GIVE_UP:
                await self._give_up(batch, decision.condition, errors, outcome)
                await source.advance(batch[-1])
                cap, errors = self.config.batch_size, 0
            else:
                cap = len(batch)
                await asyncio.sleep(min(BACKOFF_FIRST_S * errors, BACKOFF_MAX_S))

    def _window_fields(self, window: Window, state: Any, *, final: bool) -> dict[str, Any]:
        """The fields Lambda adds to a tumbling window's events."""
        return {
            "window": {"start": _iso(window.start_s), "end": _iso(window.end_s)},
            "state": state,
            "shardId": self.config.shard_id,
            "eventSourceARN": self.config.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False,
        }

    async def _final(self, window: Window, state: Any) -> None:
        """The window's last invocation (no records, ``isFinalInvokeForWindow``), retried
        until it succeeds or MaximumRetryAttempts is used up; then its state is dropped."""
        attempts = 0
        while True:
            outcome = await self._invoke([], self._window_fields(window, state, final=True))
            if outcome is not None and outcome[0] is None:
                return
            attempts += outcome is not None
            retries = self.config.max_retries
            if retries >= 0 and attempts > retries:
                log.warning(
                    "%s: the final invocation of window %s failed; its state is dropped",
                    self.config.function,
                    _iso(window.start_s),
                )
                return
            await asyncio.sleep(min(BACKOFF_FIRST_S * max(attempts, 1), BACKOFF_MAX_S))

    def _expired(self, record: LogRecord) -> bool:
        return expired(_created(record), max_age_s=self.config.max_age_s, now=self._now())

    def _entry(self, record: LogRecord) -> dict[str, Any]:
        entry = wire_record(record, keep_trace=True)
        entry["eventSourceARN"] = self.config.stream_arn
        return entry

    async def _invoke(
        self, entries: list[dict[str, Any]], extra: dict[str, Any]
    ) -> tuple[str | None, Any] | None:
        # The batch continues the trace of its first record written in one (docs/tracing.md).
        traces = [parse_traceparent(e.pop(TRACE_KEY, None)) for e in entries]
        trace = next((t for t in traces if t is not None), None)
        payload = fastjson.dumps({"Records": entries, **extra})
        try:
            result = await self._runner.invoke(
                self.config.function, payload, trace=trace, trigger="datasource"
            )
        except SkyletError as error:
            log.info("invoking %s for %s: %s", self.config.function, self.config.table, error)
            return None
        try:
            response = json.loads(result.payload) if result.payload else None
        except ValueError:
            response = None
        return result.function_error, response

    async def _give_up(
        self, batch: list[LogRecord], condition: str, errors: int, outcome: Any
    ) -> None:
        """Send Lambda's invocation record for ``batch`` to the on-failure destination (the
        records themselves are not in it, as on AWS); without one they are dropped, logged."""
        self.given_up += len(batch)
        destination = self.config.on_failure
        if destination is None:
            log.warning(
                "%s: %d stream records of %s dropped (%s), no on-failure destination",
                self.config.function,
                len(batch),
                self.config.table,
                condition,
            )
            return
        body = fastjson.dumps(self.invocation_record(batch, condition, errors, outcome))
        for problem in await self._deliverer.deliver([Delivery(destination, body)]):
            if problem is not None:
                log.warning("on-failure destination of %s: %s", self.config.function, problem)

    def invocation_record(
        self, batch: list[LogRecord], condition: str, errors: int, outcome: Any
    ) -> dict[str, Any]:
        error = outcome[0] if outcome else None
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._runner.function_arn(self.config.function),
                "condition": condition,
                "approximateInvokeCount": max(errors, 1),
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": error} if error else {}),
            },
            "version": "1.0",
            "timestamp": _iso(self._now(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": self.config.shard_id,
                "startSequenceNumber": sequence_text(batch[0].sequence),
                "endSequenceNumber": sequence_text(batch[-1].sequence),
                "approximateArrivalOfFirstRecord": _iso(_created(batch[0])),
                "approximateArrivalOfLastRecord": _iso(_created(batch[-1])),
                "batchSize": len(batch),
                "streamArn": self.config.stream_arn,
            },
        }


def _created(record: LogRecord) -> float:
    return float(fastjson.loads(record.data)["dynamodb"]["ApproximateCreationDateTime"])


def _iso(moment: float, *, millis: bool = False) -> str:
    when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    if millis:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- where a lane's records come from -------------------------------------------------------


class _Source(Protocol):
    async def gather(self, cap: int, wait_s: float) -> list[LogRecord]:
        """The next up to ``cap`` records not yet done (the same again until advanced),
        gathered for up to the batching window; [] after ``wait_s`` without any."""
        ...

    async def advance(self, record: LogRecord) -> None:
        """Everything up to ``record`` is done (delivered, skipped or given up)."""
        ...


class _StoreSource:
    """The whole shard as one lane (ParallelizationFactor 1): read from the store after the
    checkpoint, which moves with each advance."""

    def __init__(self, poller: StreamPoller, after: int) -> None:
        self._poller = poller
        self._store = poller._store
        self._log = poller._log
        self._after = after

    async def gather(self, cap: int, wait_s: float) -> list[LogRecord]:
        batch = await self._store.read(self._log, 0, after_sequence=self._after, limit=cap)
        if not batch:
            await self._store.wait_for_records(self._log, wait_s)
            return []
        deadline = time.monotonic() + self._poller.config.window_s
        while len(batch) < cap and (left := deadline - time.monotonic()) > 0:
            await self._store.wait_for_records(self._log, left)
            batch += await self._store.read(
                self._log, 0, after_sequence=batch[-1].sequence, limit=cap - len(batch)
            )
        return batch

    async def advance(self, record: LogRecord) -> None:
        self._after = record.sequence
        await self._poller.commit(record.sequence)


class _Checkpoint:
    """The shard's checkpoint when lanes finish records out of order: it moves to the
    highest sequence below which every record read is done, so a crash redelivers what any
    lane had not finished (and perhaps some that others had: at least once, never a gap)."""

    def __init__(self, poller: StreamPoller, after: int) -> None:
        self._poller = poller
        self.pending: collections.deque[int] = collections.deque()
        self.finished: set[int] = set()
        self.space = asyncio.Event()
        self.committed = after

    async def done(self, sequences: list[int]) -> None:
        self.finished.update(sequences)
        moved = False
        while self.pending and self.pending[0] in self.finished:
            self.committed = self.pending.popleft()
            self.finished.discard(self.committed)
            moved = True
        if moved:
            await self._poller.commit(self.committed)
            self.space.set()


class _Lane:
    """One lane's records (ParallelizationFactor > 1), handed over by the shard's reader."""

    def __init__(self, window_s: float, checkpoint: _Checkpoint) -> None:
        self._window_s = window_s
        self._checkpoint = checkpoint
        self._records: collections.deque[LogRecord] = collections.deque()
        self._arrived = asyncio.Event()

    def put(self, record: LogRecord) -> None:
        self._records.append(record)
        self._arrived.set()

    async def _wait(self, timeout_s: float) -> None:
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout_s)

    async def gather(self, cap: int, wait_s: float) -> list[LogRecord]:
        if not self._records:
            await self._wait(wait_s)
            return []
        deadline = time.monotonic() + self._window_s
        while len(self._records) < cap and (left := deadline - time.monotonic()) > 0:
            await self._wait(left)
        return list(itertools.islice(self._records, cap))

    async def advance(self, record: LogRecord) -> None:
        done = []
        while self._records and self._records[0].sequence <= record.sequence:
            done.append(self._records.popleft().sequence)
        await self._checkpoint.done(done)
