"""Asynchronous invocation (Lambda's ``InvocationType: Event``) on the durable store.

    gateway / CLI ─▶ AsyncInvoker.enqueue ─▶ queue skylet:async:NAME ─▶ Dispatcher ─▶ Invoker
                          │                                              │
                          └──────▶ RecordBook (log skylet:async-records:NAME) ◀──┘
                                                      destinations, dead-letter queues ◀──┘

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
