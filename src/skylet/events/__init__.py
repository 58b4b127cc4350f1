"""Asynchronous invocation (Lambda's ``InvocationType: Event``) on the durable store.

    gateway / CLI ─▶ AsyncInvoker.enqueue ─▶ queue skylet:async:NAME ─▶ Dispatcher ─▶ Invoker
                          │                                              │
                          └──────▶ RecordBook (log skylet:async-records:NAME) ◀──┘
                                                      destinations, dead-letter queues ◀──┘

- ``config``        AsyncConfig (retries, maximum event age, destinations, DLQ), Destination
- ``retry``         the pure decisions: classify a try, retry or settle, backoff
- ``envelope``      packs of events on the queue, each with its state between tries
- ``async_invoke``  AsyncInvoker: 1 MB and JSON checks, durable enqueue, the ``queued`` record
- ``records``       AsyncInvocation snapshots in a log: write, query, retention, redelivery checks
- ``destinations``  Lambda's invocation record and dead-letter attributes; delivery
- ``batching``      Coalescer: concurrent writes to one target become one store call
- ``consumer``      one function's receive → try → settle loop, lease renewal
- ``attempt``       one try of one event through ``Invoker.invoke``, and its decision
- ``settle``        retries, destinations, records and deletes, batched, in crash-safe order
- ``dispatcher``    Dispatcher: a consumer per deployed function, upkeep, lifecycle
- ``context``       DispatcherSettings, DispatcherStats, the FunctionRunner interface
"""

from __future__ import annotations

# Only the configuration is re-exported: ``skylet.functions`` holds an ``AsyncConfig`` in every
# ``FunctionConfig``, and importing the dispatcher here would import ``skylet.functions`` back.
# The rest is imported from its module (``skylet.events.dispatcher`` and so on).
from skylet.events.config import (
    DEFAULT_ASYNC_CONFIG,
    AsyncConfig,
    Destination,
    parse_destination,
)

__all__ = ["DEFAULT_ASYNC_CONFIG", "AsyncConfig", "Destination", "parse_destination"]
