"""Metrics collection: one hook, registered in the composition root, that turns invocations,
throttles, HTTP requests and settled asynchronous events into Prometheus figures and CloudWatch
datapoints (``AWS/Lambda``, ``AWS/SQS``).

On the request's path the hook only appends what happened to a list (tens of nanoseconds);
:meth:`Collector.fold` turns the list into figures, when ``/metrics`` is scraped, when the
CloudWatch service reads or flushes, and every ``fold_interval_s`` on a task of its own. The
same task samples what is a level rather than an event: concurrent executions, provisioned
utilisation, queue depths and the oldest message's age.

Lambda's datapoints carry the dimensions Lambda publishes them with: ``FunctionName``;
``FunctionName`` and ``Resource`` (``name:qualifier``) for a qualified invocation;
``FunctionName`` and ``ExecutedVersion`` for a published version; and none at all (the
account's totals) for Invocations, Errors, Throttles, Duration and ConcurrentExecutions.
Errors is published as 1 or 0 for every invocation, so its Average is the error rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from skylet.aws.cloudwatch.series import Aggregator, SeriesKey
from skylet.aws.cloudwatch.stats import StatSet
from skylet.config import FunctionConfig
from skylet.errors import SkyletError
from skylet.invoker.hooks import AsyncSettled, InvocationHook, InvocationRecord, RequestLine
from skylet.observe.emf import metrics_of
from skylet.observe.metrics import AGE_BUCKETS, DURATION_BUCKETS, Registry
from skylet.store.types import QueueStats

log = logging.getLogger(__name__)

LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"
#: skylet's own figures that Lambda does not publish (the dashboard's cold starts).
SKYLET = "Skylet/Lambda"
#: Folded at once past this many pending events, whatever the interval (bounds the list).
MAX_PENDING = 50_000


class Functions(Protocol):
    """What the sampler reads of the invoker."""

    def functions(self) -> list[FunctionConfig]: ...

    def in_flight(self) -> Mapping[str, int]: ...


class QueueDepths(Protocol):
    """What the sampler reads of SQS: the queues' names and their counts."""

    async def queue_depths(self) -> dict[str, QueueStats]: ...


class _Throttle(NamedTuple):
    function: str
    version: str
    at: float


class _Sent(NamedTuple):
    queue: str
    messages: int
    at: float


class _Settled(NamedTuple):
    event: AsyncSettled
    at: float


@dataclass(slots=True)
class _Group:
    """One function version's invocations of one minute, within a fold."""

    count: int = 0
    errors: int = 0
    durations: StatSet = field(default_factory=lambda: StatSet(unit="Milliseconds"))


def _lambda_dimensions(
    fn: str, version: str, qualifier: str | None, *, account: bool
) -> list[tuple[tuple[str, str], ...]]:
    """The dimension sets Lambda publishes a function's datapoint under (module docstring)."""
    found: list[tuple[tuple[str, str], ...]] = [(("FunctionName", fn),)]
    if qualifier is not None and qualifier != "$LATEST":
        found.append((("FunctionName", fn), ("Resource", f"{fn}:{qualifier}")))
    if version != "$LATEST":
        found.append((("ExecutedVersion", version), ("FunctionName", fn)))
    if account:
        found.append(())
    return found


class Collector(InvocationHook):
    """The metrics hook. ``clock`` is epoch seconds (a fake in tests)."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        clock: Callable[[], float] = time.time,
        fold_interval_s: float = 1.0,
        sample_interval_s: float = 10.0,
    ) -> None:
        self.registry = registry or Registry()
        self.clock = clock
        self.fold_interval_s = fold_interval_s
        self.sample_interval_s = sample_interval_s
        self.aggregator = Aggregator()
        self.functions: Functions | None = None
        self.queues: QueueDepths | None = None
        self._pending: list[object] = []
        self._dropped_seen = 0
        self._task: asyncio.Task[None] | None = None
        r = self.registry
        fv = ("function", "version")
        self.invocations = r.counter("skylet_invocations", "Invocations that ran.", fv)
        self.errors = r.counter("skylet_invocation_errors", "Invocations that failed.", fv)
        self.throttles = r.counter("skylet_throttles", "Invocations refused (429).", fv)
        self.cold_starts = r.counter("skylet_cold_starts", "Invocations that started cold.", fv)
        self.duration = r.histogram(
            "skylet_invocation_duration_seconds", "Invocation duration.", fv, DURATION_BUCKETS
        )
        self.init_duration = r.histogram(
            "skylet_init_duration_seconds", "Init duration of cold starts.", fv, DURATION_BUCKETS
        )
        self.concurrency = r.gauge(
            "skylet_concurrent_executions", "Invocations running now.", ("function",)
        )
        self.provisioned = r.gauge(
            "skylet_provisioned_concurrency", "Provisioned instances configured.", ("function",)
        )
        self.provisioned_utilization = r.gauge(
            "skylet_provisioned_concurrency_utilization",
            "Running invocations over provisioned instances (0 to 1).",
            ("function",),
        )
        self.event_age = r.histogram(
            "skylet_async_event_age_seconds",
            "Seconds from an event's enqueueing to its settling.",
            ("function",),
            AGE_BUCKETS,
        )
        self.async_events = r.counter(
            "skylet_async_events", "Asynchronous events settled.", ("function", "outcome")
        )
        self.dropped = r.counter(
            "skylet_async_events_dropped",
            "Events given up with nowhere to go (no destination, no dead-letter queue).",
            ("function",),
        )
        self.dead_lettered = r.counter(
            "skylet_dead_lettered", "Events sent to a dead-letter queue.", ("function", "result")
        )
        self.destinations = r.counter(
            "skylet_destination_deliveries",
            "Records sent to a destination.",
            ("function", "result"),
        )
        self.queue_messages = r.gauge(
            "skylet_sqs_messages", "Messages in a queue, by state.", ("queue", "state")
        )
        self.queue_age = r.gauge(
            "skylet_sqs_oldest_message_age_seconds", "Age of a queue's oldest message.", ("queue",)
        )
        self.queue_sent = r.counter(
            "skylet_sqs_messages_sent", "Messages sent to a queue.", ("queue",)
        )
        self.http_requests = r.counter(
            "skylet_http_requests", "HTTP requests answered by routes.", ("function", "status")
        )
        self.datapoints_dropped = r.counter(
            "skylet_cloudwatch_datapoints_dropped",
            "Values not kept: more series in one flush than the aggregator holds.",
            (),
        )
        self.http_duration = r.histogram(
            "skylet_http_request_duration_seconds",
            "HTTP request duration.",
            ("function",),
            DURATION_BUCKETS,
        )

    # -- the hook: appends only --------------------------------------------------------------

    def completed(self, record: InvocationRecord) -> None:
        # Kept until the next fold without its log output (up to 6 MB each), which the
        # figures do not read: a burst of loud invocations must not hold their logs twice.
        self._pending.append(dataclasses.replace(record, output=b"") if record.output else record)
        if len(self._pending) > MAX_PENDING:
            self.fold()

    def throttled(self, fn: FunctionConfig) -> None:
        self._pending.append(_Throttle(fn.name, fn.version, self.clock()))

    def http_request(self, line: RequestLine) -> None:
        self._pending.append(line)

    def async_settled(self, event: AsyncSettled) -> None:
        self._pending.append(_Settled(event, self.clock()))

    def log_entry(self, entry: object) -> None:
        """A function's log entry (``LogBook.listen``): its EMF lines become datapoints at
        the next fold. Only entries whose output mentions ``"_aws"`` are kept for that."""
        output = getattr(entry, "output", None)
        if isinstance(output, bytes) and b'"_aws"' in output:
            self._pending.append(output)

    def messages_sent(self, queue: str, count: int) -> None:
        """SQS took ``count`` messages for ``queue`` (SendMessage, SendMessageBatch)."""
        self._pending.append(_Sent(queue, count, self.clock()))

    # -- folding ---------------------------------------------------------------------------

    def fold(self) -> None:
        """Turn what happened since the last fold into figures and datapoints. Invocations
        are grouped by function, version, qualifier and minute first, so each group costs
        its handful of datapoint updates once, not once per invocation."""
        pending, self._pending = self._pending, []
        groups: dict[tuple[str, str, str | None, int], _Group] = {}
        for item in pending:
            if isinstance(item, InvocationRecord):
                self._invocation(item, groups)
            elif isinstance(item, RequestLine):
                self.http_requests.inc((item.function, str(item.status)))
                self.http_duration.observe((item.function,), item.duration_ms / 1000.0)
            elif isinstance(item, _Throttle):
                self._throttle(item)
            elif isinstance(item, _Sent):
                self.queue_sent.inc((item.queue,), item.messages)
                self.aggregator.add(
                    SeriesKey.of(SQS, "NumberOfMessagesSent", {"QueueName": item.queue}),
                    item.at,
                    float(item.messages),
                    unit="Count",
                )
            elif isinstance(item, _Settled):
                self._settled(item.event, item.at)
            elif isinstance(item, bytes):
                self._embedded(item)
        for (fn, version, qualifier, minute), group in groups.items():
            for dimensions in _lambda_dimensions(fn, version, qualifier, account=True):
                at = self.aggregator.at
                at(SeriesKey(LAMBDA, "Invocations", dimensions), minute, "Count").add(
                    1.0, group.count
                )
                errors = at(SeriesKey(LAMBDA, "Errors", dimensions), minute, "Count")
                if group.errors:
                    errors.add(1.0, group.errors)
                if group.count > group.errors:
                    errors.add(0.0, group.count - group.errors)
                at(SeriesKey(LAMBDA, "Duration", dimensions), minute, "Milliseconds").merge(
                    group.durations
                )
        if self.aggregator.dropped > self._dropped_seen:  # PutMetricData's and folds' alike
            self.datapoints_dropped.inc((), self.aggregator.dropped - self._dropped_seen)
            self._dropped_seen = self.aggregator.dropped

    def _embedded(self, output: bytes) -> None:
        for line in output.decode("utf-8", "replace").splitlines():
            for datum in metrics_of(line):
                key = SeriesKey(datum.namespace, datum.metric, datum.dimensions)
                for value in datum.values:
                    self.aggregator.add(key, datum.timestamp_s, value, unit=datum.unit)

    def _lambda(
        self,
        metric: str,
        fn: str,
        at: float,
        value: float,
        unit: str,
        *,
        version: str = "$LATEST",
        qualifier: str | None = None,
        account: bool = True,
    ) -> None:
        for dimensions in _lambda_dimensions(fn, version, qualifier, account=account):
            self.aggregator.add(SeriesKey(LAMBDA, metric, dimensions), at, value, unit=unit)

    def _invocation(
        self, record: InvocationRecord, groups: dict[tuple[str, str, str | None, int], _Group]
    ) -> None:
        labels = (record.function, record.version)
        report = record.report
        failed = record.error_type is not None
        self.invocations.inc(labels)
        if failed:
            self.errors.inc(labels)
        if record.cold:
            self.cold_starts.inc(labels)
            for dimensions in ({"FunctionName": record.function}, {}):
                self.aggregator.add(
                    SeriesKey.of(SKYLET, "ColdStarts", dimensions),
                    record.started,
                    1.0,
                    unit="Count",
                )
        self.duration.observe(labels, report.duration_ms / 1000.0)
        if report.init_ms is not None:
            self.init_duration.observe(labels, report.init_ms / 1000.0)
        key = (record.function, record.version, record.qualifier, int(record.started // 60) * 60)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        group.count += 1
        group.errors += failed
        group.durations.add(report.duration_ms)

    def _throttle(self, item: _Throttle) -> None:
        self.throttles.inc((item.function, item.version))
        self._lambda("Throttles", item.function, item.at, 1.0, "Count", version=item.version)

    def _settled(self, event: AsyncSettled, at: float) -> None:
        fn = event.function
        self.event_age.observe((fn,), event.age_s)
        self.async_events.inc((fn, event.outcome))
        self._lambda("AsyncEventAge", fn, at, event.age_s * 1000.0, "Milliseconds", account=False)
        if event.outcome in ("failed", "discarded") and not event.deliveries:
            self.dropped.inc((fn,))
            self._lambda("AsyncEventsDropped", fn, at, 1.0, "Count", account=False)
        for kind, ok in event.deliveries:
            result = "delivered" if ok else "failed"
            if kind == "dead_letter":
                self.dead_lettered.inc((fn, result))
                self._lambda("DeadLetterErrors", fn, at, 0.0 if ok else 1.0, "Count", account=False)
            else:
                self.destinations.inc((fn, result))
                failures = 0.0 if ok else 1.0
                self._lambda(
                    "DestinationDeliveryFailures", fn, at, failures, "Count", account=False
                )

    # -- sampling --------------------------------------------------------------------------

    def sample_functions(self) -> None:
        """Concurrency and provisioned utilisation now, as gauges and datapoints."""
        if self.functions is None:
            return
        at = self.clock()
        running = self.functions.in_flight()
        total = 0.0
        for fn in self.functions.functions():
            now = float(running.get(fn.name, 0))
            total += now
            self.concurrency.set((fn.name,), now)
            self._lambda("ConcurrentExecutions", fn.name, at, now, "Count", account=False)
            if fn.provisioned_concurrency:
                used = min(now, fn.provisioned_concurrency) / fn.provisioned_concurrency
                self.provisioned.set((fn.name,), float(fn.provisioned_concurrency))
                self.provisioned_utilization.set((fn.name,), used)
                self._lambda(
                    "ProvisionedConcurrencyUtilization", fn.name, at, used, "None", account=False
                )
        self.aggregator.add(SeriesKey(LAMBDA, "ConcurrentExecutions", ()), at, total, unit="Count")

    async def sample_queues(self) -> None:
        """Each SQS queue's depth and oldest message's age, as gauges and datapoints."""
        if self.queues is None:
            return
        at = self.clock()
        depths = await self.queues.queue_depths()
        messages: dict[tuple[str, ...], float] = {}
        ages: dict[tuple[str, ...], float] = {}
        add = self.aggregator.add
        for name, stats in depths.items():
            messages[(name, "visible")] = float(stats.visible)
            messages[(name, "in_flight")] = float(stats.in_flight)
            messages[(name, "delayed")] = float(stats.delayed)
            age = stats.oldest_age_s or 0.0
            ages[(name,)] = age
            dims = (("QueueName", name),)
            add(
                SeriesKey(SQS, "ApproximateNumberOfMessagesVisible", dims),
                at,
                stats.visible,
                unit="Count",
            )
            add(
                SeriesKey(SQS, "ApproximateNumberOfMessagesNotVisible", dims),
                at,
                stats.in_flight,
                unit="Count",
            )
            add(
                SeriesKey(SQS, "ApproximateNumberOfMessagesDelayed", dims),
                at,
                stats.delayed,
                unit="Count",
            )
            add(SeriesKey(SQS, "ApproximateAgeOfOldestMessage", dims), at, age, unit="Seconds")
        self.queue_messages.replace(messages)
        self.queue_age.replace(ages)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        last_sample = 0.0
        while True:
            await asyncio.sleep(self.fold_interval_s)
            self.fold()
            if time.monotonic() - last_sample >= self.sample_interval_s:
                last_sample = time.monotonic()
                self.sample_functions()
                try:
                    await self.sample_queues()
                except SkyletError:  # the store recovers; the next sample is taken
                    log.warning("sampling queue depths failed", exc_info=True)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.fold()
