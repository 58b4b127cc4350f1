"""What the dispatcher's parts share: its settings, its counters, the interfaces it calls.

``FunctionRunner`` is the slice of ``Invoker`` the dispatcher needs (``Invoker`` conforms; see
``_conforms``). ``Context`` bundles one dispatcher's dependencies so that each consumer and
settler takes one argument instead of eight.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.errors import ConfigError
from skylet.events.async_invoke import AsyncQueues
from skylet.events.destinations import Deliverer
from skylet.events.records import RecordBook
from skylet.events.retry import RetryPolicy
from skylet.invoker.hooks import Hooks
from skylet.invoker.invoker import Invoker
from skylet.invoker.results import InvocationResult
from skylet.observe.trace_context import TraceContext
from skylet.store.base import Clock, QueueStore
from skylet.store.types import MAX_RECEIVE_MESSAGES, MAX_VISIBILITY_TIMEOUT_S


class FunctionRunner(Protocol):
    """Runs a deployed function synchronously (``Invoker``)."""

    settings: RuntimeSettings

    def function(self, name: str) -> FunctionConfig: ...

    def function_arn(self, name: str, qualifier: str | None = None) -> str: ...

    async def invoke(
        self,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        request_id: str | None = None,
        trace: TraceContext | None = ...,
        trigger: str = "other",
    ) -> InvocationResult: ...


@dataclass(frozen=True, slots=True)
class DispatcherSettings:
    """How the dispatcher consumes; parsed once by the CLI and injected.

    ``batch_size``: messages per receive at most, and the events prefetched beyond the running
    tries (up to the rest of a last pack more; events waiting to be recorded do not count until
    they are two batches). ``max_concurrency``: tries at once per function that has no
    reserved concurrency (one with a reservation runs up to it). ``lease_s``: the lease of a
    received message (a pack of events), renewed every third of it while it is held; after a
    crash, its events come back this much later.
    ``poll_s``: the long-poll wait of an idle consumer. ``running_after_s``: a try that runs
    this long gets a ``running`` record (shorter tries go straight to their final record).
    ``retention_every_s``: how often invocation records are trimmed.
    """

    batch_size: int = 100
    max_concurrency: int = 32
    lease_s: float = 10.0
    poll_s: float = 1.0
    running_after_s: float = 1.0
    retention_every_s: float = 300.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_RECEIVE_MESSAGES:
            raise ConfigError(f"batch_size={self.batch_size} is out of range: allowed 1-10000")
        if self.max_concurrency < 1:
            raise ConfigError(f"max_concurrency={self.max_concurrency} must be at least 1")
        if not 0.3 <= self.lease_s <= MAX_VISIBILITY_TIMEOUT_S:
            raise ConfigError(f"lease_s={self.lease_s} is out of range: allowed 0.3-43200")
        if self.poll_s <= 0 or self.running_after_s < 0 or self.retention_every_s <= 0:
            raise ConfigError("poll_s and retention_every_s must be positive, running_after_s ≥ 0")


@dataclass(slots=True)
class DispatcherStats:
    """Counters since start, for metrics and tests."""

    received: int = 0
    succeeded: int = 0
    failed: int = 0
    discarded: int = 0
    retried: int = 0
    deferred: int = 0  # throttled or platform-failed tries put back
    duplicates: int = 0  # redelivered events found already finished, deleted unrun
    delivery_failures: int = 0  # records a destination or dead-letter queue did not take
    lost_leases: int = 0  # events another consumer took over before this one finished
    malformed: int = 0  # messages on an async queue that skylet did not send

    def count_final(self, status: str) -> None:
        if status == "succeeded":
            self.succeeded += 1
        elif status == "failed":
            self.failed += 1
        else:
            self.discarded += 1


@dataclass(frozen=True, slots=True)
class Context:
    store: QueueStore
    runner: FunctionRunner
    records: RecordBook
    deliverer: Deliverer
    queues: AsyncQueues
    settings: DispatcherSettings
    stats: DispatcherStats
    now: Clock
    jitter: Callable[[], float] = random.random
    #: Told of each settled event (metrics); empty by default.
    hooks: Hooks | None = None


def _conforms(invoker: Invoker) -> FunctionRunner:
    """Static check (mypy): ``Invoker`` is a ``FunctionRunner``."""
    return invoker
