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
from typing import Any, NamedTuple

from skylet.config import AsyncConfig
from skylet.events.context import Context
from skylet.events.destinations import (
    Delivery,
    Response,
    dead_letter_attributes,
    invocation_record,
)
from skylet.events.envelope import Envelope, Event, pack, queue_name
from skylet.events.records import STATUS_OF, Status, snapshot_row
from skylet.events.retry import SUCCESS, Condition, Decision, Retry, Settle
from skylet.invoker.hooks import AsyncSettled, Hooks
from skylet.store.types import SendEntry


class Settlement(NamedTuple):
    """What became of one event. ``response`` is the last try's; ``None`` when the event was
    not tried now (it is then taken from the envelope's errors). One per event: a named
    tuple."""

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
        kinds: list[str] = []
        quiet_success = config.on_success is None
        for index, item in enumerate(batch):
            envelope, decision = item.envelope, item.decision
            if decision is SUCCESS and quiet_success:
                continue  # nearly every event: nothing to send
            if isinstance(decision, Retry):
                copy = envelope.next_generation()
                retries.setdefault(decision.delay_s, []).append((copy, item.payload))
                continue
            if decision.condition == "Success" and quiet_success:
                continue
            response = item.response or Response.of_error(
                envelope.errors[-1] if envelope.errors else None
            )
            for kind, delivery in self._deliveries(config, item, envelope, decision, response, now):
                deliveries.append(delivery)
                owners.append(index)
                kinds.append(kind)
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
        rows = self._rows(batch, failures, now)
        await ctx.records.write_rows(self.function, rows)
        deleted = await ctx.store.delete_batch(self._queue, done) if done else []
        # Counted once the batch is done, so a counter never runs ahead of the records.
        stats = ctx.stats
        stats.delivery_failures += sum(len(f) for f in failures.values())
        stats.lost_leases += deleted.count(False)
        hooks = ctx.hooks
        if hooks:
            self._announce(hooks, batch, owners, kinds, delivered, now)
        for item in batch:
            decision = item.decision
            if decision is SUCCESS:
                stats.succeeded += 1
            elif isinstance(decision, Settle):
                stats.count_final(STATUS_OF[decision.condition])
            elif item.envelope.errors and item.envelope.errors[-1].status != 200:
                stats.deferred += 1
            else:
                stats.retried += 1

    def _announce(
        self,
        hooks: Hooks,
        batch: Sequence[Settlement],
        owners: Sequence[int],
        kinds: Sequence[str],
        failures: Sequence[str | None],
        now: float,
    ) -> None:
        """Each settled event to the hooks (metrics): its age, its outcome, its records."""
        sent: dict[int, list[tuple[str, bool]]] = {}
        for owner, kind, failure in zip(owners, kinds, failures, strict=True):
            sent.setdefault(owner, []).append((kind, failure is None))
        for index, item in enumerate(batch):
            decision = item.decision
            if isinstance(decision, Retry):
                outcome = "retried"
            elif decision is SUCCESS:
                outcome = "succeeded"
            else:
                outcome = STATUS_OF[decision.condition]
            hooks.async_settled(
                AsyncSettled(
                    self.function,
                    max(0.0, now - item.envelope.enqueued_at),
                    outcome,
                    tuple(sent.get(index, ())),
                )
            )

    def _deliveries(
        self,
        config: AsyncConfig,
        item: Settlement,
        envelope: Envelope,
        decision: Settle,
        response: Response,
        now: float,
    ) -> list[tuple[str, Delivery]]:
        """The records to send for a settled event: to its destination (``destination``),
        and for a failure to the dead-letter queue (``dead_letter``)."""
        success = decision.condition == "Success"
        destination = config.on_success if success else config.on_failure
        found: list[tuple[str, Delivery]] = []
        if destination is not None:
            qualifier = envelope.qualifier or "$LATEST"
            record = invocation_record(
                request_id=envelope.request_id,
                function_arn=self._ctx.runner.function_arn(self.function, qualifier),
                condition=decision.condition,
                invoke_count=envelope.runs,
                request_payload=item.payload,
                response=response,
                executed_version=response.executed_version,
                timestamp=now,
            )
            body = json.dumps(record).encode()
            found.append(("destination", Delivery(destination, body, trace=envelope.trace)))
        if not success and config.dead_letter_queue is not None:
            attributes = dead_letter_attributes(envelope.request_id, response)
            found.append(
                (
                    "dead_letter",
                    Delivery(config.dead_letter_queue, item.payload, attributes, envelope.trace),
                )
            )
        return found

    def _rows(
        self, batch: Sequence[Settlement], failures: dict[int, list[str]], now: float
    ) -> list[list[Any]]:
        """The snapshot of each settled event, as stored (``records.snapshot_row``)."""
        rows = []
        for index, item in enumerate(batch):
            envelope, decision = item.envelope, item.decision
            if decision is SUCCESS and not envelope.errors and index not in failures:
                # The common case, written out: it is most of the settling cost per event.
                rows.append(
                    [
                        envelope.request_id,
                        "succeeded",
                        envelope.enqueued_at,
                        now,
                        envelope.generation,
                        envelope.runs,
                        envelope.deferrals,
                        [],
                        "Success",
                        None,
                        None,
                    ]
                )
            elif isinstance(decision, Retry):
                copy = envelope.next_generation()
                rows.append(snapshot(copy, "queued", now, next_attempt_at=now + decision.delay_s))
            else:
                delivery_error = "; ".join(failures[index]) if index in failures else None
                rows.append(
                    snapshot(
                        envelope,
                        STATUS_OF[decision.condition],
                        now,
                        condition=decision.condition,
                        delivery_error=delivery_error,
                    )
                )
        return rows


def snapshot(
    envelope: Envelope,
    status: Status,
    now: float,
    *,
    condition: Condition | None = None,
    next_attempt_at: float | None = None,
    delivery_error: str | None = None,
    running: bool = False,
) -> list[Any]:
    """The record of ``envelope`` in ``status`` at ``now``, as stored; ``running``: a try is
    under way, counted in ``attempts`` although the envelope does not count it yet."""
    return snapshot_row(
        envelope.request_id,
        status,
        envelope.enqueued_at,
        now,
        envelope.generation,
        envelope.runs + running,
        envelope.deferrals,
        envelope.errors,
        condition,
        next_attempt_at,
        delivery_error,
    )


async def _nothing() -> list[str | None]:
    return []
