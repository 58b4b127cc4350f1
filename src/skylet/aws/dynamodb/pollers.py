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
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skylet import fastjson
from skylet.aws.dynamodb.schema import stream_log
from skylet.aws.dynamodb.stream_policy import Next, after_error, expired, failed_from
from skylet.aws.dynamodb.streams import sequence_text, wire_record
from skylet.config import Destination
from skylet.errors import SkyletError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.events.destinations import Deliverer, Delivery
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
    tumbling_window_s: float = 0.0


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

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            try:
                await self._loop()
            except asyncio.CancelledError:
                raise
            except SkyletError as error:  # the store or the log missing for now
                log.warning(
                    "stream of %s for %s: %s", self.config.table, self.config.function, error
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _loop(self) -> None:
        after = await self._checkpoint()
        cap = self.config.batch_size
        errors = 0
        while True:
            batch = await self._gather(after, cap)
            if not batch:
                continue
            old = list(itertools.takewhile(self._expired, batch))  # oldest first
            if old:
                await self._give_up(old, "RecordAgeExceeded", errors, None)
                after = old[-1].sequence
                await self._store.commit(self.config.uuid, self._log, 0, after)
                continue
            entries = [self._entry(r) for r in batch]
            chosen = [
                e
                for e in entries
                if not self.config.patterns
                or any(filters.matches(p, e) for p in self.config.patterns)
            ]
            if not chosen:
                after = batch[-1].sequence
                await self._store.commit(self.config.uuid, self._log, 0, after)
                continue
            outcome = await self._invoke(chosen)
            if outcome is None:  # throttled or missing: the same records again, later
                await asyncio.sleep(BACKOFF_FIRST_S)
                continue
            error, response = outcome
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
                after = batch[-1].sequence
                await self._store.commit(self.config.uuid, self._log, 0, after)
                cap, errors = self.config.batch_size, 0
                continue
            if done > 0:
                after = batch[done - 1].sequence
                await self._store.commit(self.config.uuid, self._log, 0, after)
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
                after = batch[-1].sequence
                await self._store.commit(self.config.uuid, self._log, 0, after)
                cap, errors = self.config.batch_size, 0
            else:
                cap = len(batch)
                await asyncio.sleep(min(BACKOFF_FIRST_S * errors, BACKOFF_MAX_S))

    async def _gather(self, after: int, cap: int) -> list[LogRecord]:
        batch = await self._store.read(self._log, 0, after_sequence=after, limit=cap)
        if not batch:
            await self._store.wait_for_records(self._log, POLL_S)
            return []
        deadline = time.monotonic() + self.config.window_s
        while len(batch) < cap and (left := deadline - time.monotonic()) > 0:
            await self._store.wait_for_records(self._log, left)
            batch += await self._store.read(
                self._log, 0, after_sequence=batch[-1].sequence, limit=cap - len(batch)
            )
        return batch

    def _expired(self, record: LogRecord) -> bool:
        return expired(_created(record), max_age_s=self.config.max_age_s, now=self._now())

    def _entry(self, record: LogRecord) -> dict[str, Any]:
        entry = wire_record(record)
        entry["eventSourceARN"] = self.config.stream_arn
        return entry

    async def _invoke(self, entries: list[dict[str, Any]]) -> tuple[str | None, Any] | None:
        payload = fastjson.dumps({"Records": entries})
        try:
            result = await self._runner.invoke(self.config.function, payload)
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
