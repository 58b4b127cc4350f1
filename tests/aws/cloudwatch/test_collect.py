"""The metrics hook: what it appends on the request's path becomes Prometheus figures and
CloudWatch datapoints with Lambda's dimensions when folded."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.aws.cloudwatch.collect import Collector
from skylet.aws.cloudwatch.series import SeriesKey
from skylet.config import FunctionConfig
from skylet.invoker.hooks import AsyncSettled, InvocationRecord
from skylet.invoker.report import Report
from skylet.store.types import QueueStats

T0 = 1_700_000_040.0


def record(
    function: str = "f",
    *,
    error: str | None = None,
    version: str = "$LATEST",
    qualifier: str | None = None,
    duration_ms: float = 20.0,
    cold: bool = False,
) -> InvocationRecord:
    return InvocationRecord(
        function=function,
        request_id="r",
        started=T0,
        cold=cold,
        error_type=error,
        report=Report("r", duration_ms, 128, 30),
        version=version,
        qualifier=qualifier,
    )


def datapoints(collector: Collector) -> dict[SeriesKey, tuple[float, float]]:
    return {key: (s.sum, s.count) for (key, _), s in collector.aggregator.drain().items()}


def test_nothing_is_counted_until_the_fold() -> None:
    collector = Collector(clock=lambda: T0)
    collector.completed(record())
    assert collector.invocations.values == {}
    collector.fold()
    assert collector.invocations.values == {("f", "$LATEST"): 1.0}


def test_an_alias_invocation_is_published_by_function_resource_version_and_account() -> None:
    collector = Collector(clock=lambda: T0)
    collector.completed(record(version="3", qualifier="live", error="Unhandled"))
    collector.fold()
    found = datapoints(collector)
    for dimensions in (
        (("FunctionName", "f"),),
        (("FunctionName", "f"), ("Resource", "f:live")),
        (("ExecutedVersion", "3"), ("FunctionName", "f")),
        (),
    ):
        assert found[SeriesKey("AWS/Lambda", "Invocations", dimensions)] == (1.0, 1.0)
        assert found[SeriesKey("AWS/Lambda", "Errors", dimensions)] == (1.0, 1.0)
    assert collector.errors.values == {("f", "3"): 1.0}


def test_a_success_publishes_errors_as_zero_so_the_average_is_the_error_rate() -> None:
    collector = Collector(clock=lambda: T0)
    collector.completed(record())
    collector.completed(record(error="Unhandled"))
    collector.fold()
    errors = datapoints(collector)[SeriesKey("AWS/Lambda", "Errors", (("FunctionName", "f"),))]
    assert errors == (1.0, 2.0)


def test_cold_starts_are_skylet_s_own_datapoints_by_function_and_account() -> None:
    collector = Collector(clock=lambda: T0)
    collector.completed(record(cold=True))
    collector.completed(record())
    collector.fold()
    found = datapoints(collector)
    for dimensions in ((("FunctionName", "f"),), ()):
        assert found[SeriesKey("Skylet/Lambda", "ColdStarts", dimensions)] == (1.0, 1.0)
    assert not any(k.namespace == "AWS/Lambda" and k.metric == "ColdStarts" for k in found)


def test_throttles_count_for_the_version_asked() -> None:
    collector = Collector(clock=lambda: T0)
    collector.throttled(FunctionConfig(name="f", handler="h.h", code_dir=Path(), version="2"))
    collector.fold()
    assert collector.throttles.values == {("f", "2"): 1.0}
    found = datapoints(collector)
    assert found[
        SeriesKey("AWS/Lambda", "Throttles", (("ExecutedVersion", "2"), ("FunctionName", "f")))
    ] == (1.0, 1.0)


def test_settled_events_count_their_age_records_and_drops() -> None:
    collector = Collector(clock=lambda: T0)
    collector.async_settled(AsyncSettled("f", 2.0, "failed", (("dead_letter", True),)))
    collector.async_settled(AsyncSettled("f", 3.0, "discarded"))
    collector.async_settled(AsyncSettled("f", 1.0, "succeeded", (("destination", False),)))
    collector.fold()
    assert collector.dead_lettered.values == {("f", "delivered"): 1.0}
    assert collector.destinations.values == {("f", "failed"): 1.0}
    assert collector.dropped.values == {("f",): 1.0}
    found = datapoints(collector)
    age = found[SeriesKey("AWS/Lambda", "AsyncEventAge", (("FunctionName", "f"),))]
    assert age == (6000.0, 3.0)
    failures = found[
        SeriesKey("AWS/Lambda", "DestinationDeliveryFailures", (("FunctionName", "f"),))
    ]
    assert failures == (1.0, 1.0)


def test_emf_output_becomes_datapoints_at_the_fold() -> None:
    class Entry:
        output = (
            b'hello\n{"_aws": {"Timestamp": 1700000040000, "CloudWatchMetrics": [{"Namespace": '
            b'"Shop", "Dimensions": [[]], "Metrics": [{"Name": "Orders"}]}]}, "Orders": 2}\n'
        )

    collector = Collector(clock=lambda: T0)
    collector.log_entry(Entry())
    collector.fold()
    assert datapoints(collector) == {SeriesKey("Shop", "Orders", ()): (2.0, 1.0)}


class Invoker:
    """The sampler's view of the invoker: two functions, one provisioned."""

    def __init__(self) -> None:
        self.running = {"f": 3}

    def functions(self) -> list[FunctionConfig]:
        return [
            FunctionConfig(name="f", handler="h.h", code_dir=Path(), provisioned_concurrency=4),
            FunctionConfig(name="g", handler="h.h", code_dir=Path()),
        ]

    def in_flight(self) -> dict[str, int]:
        return self.running


def test_concurrency_and_provisioned_utilisation_are_sampled() -> None:
    collector = Collector(clock=lambda: T0)
    collector.functions = Invoker()
    collector.sample_functions()
    assert collector.concurrency.values == {("f",): 3.0, ("g",): 0.0}
    assert collector.provisioned_utilization.values == {("f",): 0.75}
    found = datapoints(collector)
    assert found[SeriesKey("AWS/Lambda", "ConcurrentExecutions", ())] == (3.0, 1.0)
    utilisation = SeriesKey(
        "AWS/Lambda", "ProvisionedConcurrencyUtilization", (("FunctionName", "f"),)
    )
    assert found[utilisation] == (0.75, 1.0)


@pytest.mark.anyio
async def test_queue_depths_are_sampled_and_a_deleted_queue_goes() -> None:
    class Queues:
        def __init__(self) -> None:
            self.depths = {"jobs": QueueStats(5, 2, 1, 30.0), "old": QueueStats(0, 0, 0, None)}

        async def queue_depths(self) -> dict[str, QueueStats]:
            return self.depths

    queues = Queues()
    collector = Collector(clock=lambda: T0)
    collector.queues = queues
    await collector.sample_queues()
    assert collector.queue_messages.values[("jobs", "in_flight")] == 2.0
    assert collector.queue_age.values == {("jobs",): 30.0, ("old",): 0.0}
    found = datapoints(collector)
    visible = SeriesKey("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "jobs"),))
    assert found[visible] == (5.0, 1.0)
    del queues.depths["old"]
    await collector.sample_queues()
    assert collector.queue_age.values == {("jobs",): 30.0}


def test_new_series_past_the_aggregators_bound_are_dropped_and_counted() -> None:
    collector = Collector(clock=lambda: T0)
    collector.aggregator.max_series = 4
    for index in range(10):
        collector.aggregator.add(SeriesKey("Shop", "Orders", (("Id", str(index)),)), T0, 1.0)
    collector.fold()
    assert len(datapoints(collector)) == 4
    assert collector.datapoints_dropped.values == {(): 6.0}
