"""Settling tried events in batches: retries, destinations, dead letters, records, deletes.

The order is what makes a crash harmless (at least once, recorded done once):

1. retry copies are sent, and records go to destinations and dead-letter queues;
2. then the snapshots are appended: ``queued`` for a scheduled retry (it names the copy's
   generation), the final one otherwise;
3. then the messages whose every event is settled are deleted.

A crash before 2 re-runs the event (a destination may get its record twice: at least once). A
crash between 2 and 3 leaves a message whose events' records are final, or name a newer copy;
the consumer finds those records when the message comes back and skips the events.

A batch is whatever settled while the previous batch of the same function was being written
(the consumer collects them), so each step is one store call per batch: one ``send_batch``
(retries due together share a pack), one ``append``, one ``delete_batch``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from skylet.events.config import AsyncConfig
from skylet.events.context import Context
from skylet.events.destinations import (
    Delivery,
    Response,
    dead_letter_attributes,
    invocation_record,
)
from skylet.events.envelope import Envelope, Event, pack, queue_name
from skylet.events.records import STATUS_OF, AsyncInvocation, Status
from skylet.events.retry import Condition, Decision, Retry, Settle
from skylet.store.types import SendEntry


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of one event. ``response`` is the last try's; ``None`` when the event was
    not tried now (it is then taken from the envelope's errors)."""

    envelope: Envelope
    payload: bytes
    decision: Decision
    response: Response | None = None


class Settler:
    """Settles the events of one function, a batch at a time. ``config`` is read at each
    batch, so a redeploy with new destinations applies to the next batch."""

    def __init__(self, function: str, config: Callable[[], AsyncConfig], context: Context):
        self.function = function
        self._config = config
        self._ctx = context
        self._queue = queue_name(function)

    async def flush(self, batch: Sequence[Settlement], done: Sequence[str]) -> None:
        """Settle ``batch``, then delete the messages whose receipts are ``done``, in the order
        the module describes. ``PlatformError`` when the store fails; then any part of it may
        have happened, and it may be flushed again (at worst a retry or a destination record
        is sent twice)."""
        ctx, config, now = self._ctx, self._config(), self._ctx.now()
        retries: dict[float, list[Event]] = {}
        deliveries: list[Delivery] = []
        owners: list[int] = []
        for index, item in enumerate(batch):
            envelope, decision = item.envelope, item.decision
            if isinstance(decision, Retry):
                copy = envelope.next_generation()
                retries.setdefault(decision.delay_s, []).append((copy, item.payload))
                continue
            if decision.condition == "Success" and config.on_success is None:
                continue
            response = item.response or Response.of_error(
                envelope.errors[-1] if envelope.errors else None
            )
            for delivery in self._deliveries(config, item, envelope, decision, response, now):
                deliveries.append(delivery)
                owners.append(index)
        copies = [
            SendEntry(body, delay_s) for delay_s, events in retries.items() for body in pack(events)
        ]
        # Copies and deliveries go to different queues; nothing orders them among themselves.
        sent, delivered = await asyncio.gather(
            ctx.store.send_batch(self._queue, copies) if copies else _nothing(),
            ctx.deliverer.deliver(deliveries) if deliveries else _nothing(),
            return_exceptions=True,
        )
        for outcome in (sent, delivered):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(delivered, list)
        failures: dict[int, list[str]] = {}
        for owner, failure in zip(owners, delivered, strict=True):
            if failure is not None:
                failures.setdefault(owner, []).append(failure)
        snapshots = self._snapshots(batch, failures, now)
        await ctx.records.write(snapshots)
        deleted = await ctx.store.delete_batch(self._queue, done) if done else []
        # Counted once the batch is done, so a counter never runs ahead of the records.
        stats = ctx.stats
        stats.delivery_failures += sum(len(f) for f in failures.values())
        stats.lost_leases += deleted.count(False)
        for record in snapshots:
            if record.status != "queued":
                stats.count_final(record.status)
            elif record.errors and record.errors[-1].status != 200:
                stats.deferred += 1
            else:
                stats.retried += 1

    def _deliveries(
        self,
        config: AsyncConfig,
        item: Settlement,
        envelope: Envelope,
        decision: Settle,
        response: Response,
        now: float,
    ) -> list[Delivery]:
        success = decision.condition == "Success"
        destination = config.on_success if success else config.on_failure
        found: list[Delivery] = []
        if destination is not None:
            qualifier = envelope.qualifier or "$LATEST"
            record = invocation_record(
                request_id=envelope.request_id,
                function_arn=self._ctx.runner.settings.function_arn(self.function, qualifier),
                condition=decision.condition,
                invoke_count=envelope.runs,
                request_payload=item.payload,
                response=response,
                executed_version=response.executed_version,
                timestamp=now,
            )
            found.append(Delivery(destination, json.dumps(record).encode()))
        if not success and config.dead_letter_queue is not None:
            attributes = dead_letter_attributes(envelope.request_id, response)
            found.append(Delivery(config.dead_letter_queue, item.payload, attributes))
        return found

    def _snapshots(
        self, batch: Sequence[Settlement], failures: dict[int, list[str]], now: float
    ) -> list[AsyncInvocation]:
        snapshots = []
        for index, item in enumerate(batch):
            envelope, decision = item.envelope, item.decision
            if isinstance(decision, Retry):
                copy = envelope.next_generation()
                snapshots.append(
                    snapshot(copy, "queued", now, next_attempt_at=now + decision.delay_s)
                )
                continue
            status = STATUS_OF[decision.condition]
            delivery_error = "; ".join(failures[index]) if index in failures else None
            snapshots.append(
                snapshot(
                    envelope,
                    status,
                    now,
                    condition=decision.condition,
                    delivery_error=delivery_error,
                )
            )
        return snapshots


def snapshot(
    envelope: Envelope,
    status: Status,
    now: float,
    *,
    condition: Condition | None = None,
    next_attempt_at: float | None = None,
    delivery_error: str | None = None,
    running: bool = False,
) -> AsyncInvocation:
    """The record of ``envelope`` in ``status`` at ``now``; ``running``: a try is under way,
    counted in ``attempts`` although the envelope does not count it yet."""
    return AsyncInvocation(
        request_id=envelope.request_id,
        function=envelope.function,
        status=status,
        enqueued_at=envelope.enqueued_at,
        updated_at=now,
        generation=envelope.generation,
        attempts=envelope.runs + running,
        throttles=envelope.deferrals,
        errors=envelope.errors,
        condition=condition,
        next_attempt_at=next_attempt_at,
        delivery_error=delivery_error,
    )


async def _nothing() -> list[str | None]:
    return []
