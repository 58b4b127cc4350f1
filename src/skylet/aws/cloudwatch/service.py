"""Amazon CloudWatch (docs/metrics.md): metrics, alarms and dashboards, served to stock boto3
in whichever protocol botocore's model gives it (``smithy-rpc-v2-cbor`` first, then JSON and
query), the wire done by the codecs.

Datapoints come from the metrics hook (``collect.Collector``: Lambda's and SQS's own), from
PutMetricData and from EMF lines in functions' logs; they are aggregated per minute in memory
and flushed to the store every ``flush_interval_s`` and before every read. Alarms are evaluated
every ``evaluation_interval_s`` (60 s, as CloudWatch does; a test may make it shorter: Period
keeps its meaning, only how often the alarm looks changes), and a change of state runs the
alarm's actions: each SNS topic among them is published CloudWatch's notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence

from skylet.aws.cloudwatch.alarm_operations import HISTORY_RETENTION_S, AlarmOperations
from skylet.aws.cloudwatch.base import PAGE
from skylet.aws.cloudwatch.dashboard_operations import DashboardOperations
from skylet.aws.cloudwatch.queries import (
    epoch_of,
    get_metric_data,
    get_metric_statistics,
    key_of,
)
from skylet.aws.cloudwatch.series import SeriesKey
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError, SkyletError

log = logging.getLogger(__name__)

MAX_DIMENSIONS = 30
MAX_VALUES = 150


class CloudWatch(AlarmOperations, DashboardOperations):
    """CloudWatch: the metric operations here, alarms and dashboards mixed in; ``start``
    runs the flush, evaluation and expiry loops, ``aclose`` stops them and flushes."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        for part in (self.series, self.alarms, self.dashboards, self.history):
            await part.start()
        self._tasks = [
            asyncio.create_task(self._every(self.flush_interval_s, self.flush)),
            asyncio.create_task(self._every(self.evaluation_interval_s, self.evaluate_alarms)),
            asyncio.create_task(self._every(3600.0, self._expire)),
        ]

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(SkyletError):
            await self.flush()

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await work()
            except SkyletError:  # the store recovers; the next round tries again
                log.warning("cloudwatch: %s failed", getattr(work, "__name__", work), exc_info=True)
            except Exception:
                log.exception("cloudwatch: %s failed", getattr(work, "__name__", work))

    async def _expire(self) -> None:
        now = self.clock()
        await self.series.expire(now)
        await self.history.trim(now - HISTORY_RETENTION_S)

    # -- metrics -----------------------------------------------------------------------------

    def put_metric_data(self, request: Params, context: RequestContext) -> None:
        namespace: str = request["Namespace"]
        if namespace.startswith("AWS/"):
            raise ServiceError(
                "InvalidParameterValue",
                f"The value {namespace} for parameter Namespace is invalid.",
            )
        data: Sequence[Params] = request.get("MetricData") or ()
        if not data:
            raise ServiceError("MissingParameter", "The parameter MetricData is required.")
        checked = [(self._datum(namespace, d, i + 1), d) for i, d in enumerate(data)]
        aggregator = self.collector.aggregator
        for (key, at), datum in checked:
            unit = datum.get("Unit") or "None"
            statistics = datum.get("StatisticValues")
            if statistics is not None:
                aggregator.at(key, at, unit).add_statistics(
                    statistics["Sum"],
                    statistics["SampleCount"],
                    statistics["Minimum"],
                    statistics["Maximum"],
                )
            elif datum.get("Values"):
                counts = datum.get("Counts") or [1.0] * len(datum["Values"])
                for value, count in zip(datum["Values"], counts, strict=True):
                    aggregator.add(key, at, value, count, unit)
            else:
                aggregator.add(key, at, datum["Value"], 1.0, unit)

    def _datum(self, namespace: str, datum: Params, index: int) -> tuple[SeriesKey, float]:
        where = f"MetricData.member.{index}"
        dimensions = datum.get("Dimensions") or ()
        if len(dimensions) > MAX_DIMENSIONS:
            raise ServiceError(
                "InvalidParameterValue",
                f"The collection {where}.Dimensions must not have a size greater than "
                f"{MAX_DIMENSIONS}.",
            )
        given = [k for k in ("Value", "StatisticValues", "Values") if datum.get(k) is not None]
        if len(given) != 1:
            raise ServiceError(
                "InvalidParameterCombination",
                f"The parameters {where}.Value, {where}.StatisticValues and {where}.Values "
                "are mutually exclusive and one of them must be specified.",
            )
        values = list(datum.get("Values") or ())
        counts = datum.get("Counts")
        if counts is not None and len(counts) != len(values):
            raise ServiceError(
                "InvalidParameterValue",
                f"The parameters {where}.Values and {where}.Counts must be of the same size.",
            )
        if len(values) > MAX_VALUES:
            raise ServiceError(
                "InvalidParameterValue",
                f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.",
            )
        numbers = [*values, *(counts or ())]
        if datum.get("Value") is not None:
            numbers.append(datum["Value"])
        if datum.get("StatisticValues"):
            numbers.extend(datum["StatisticValues"].values())
        for number in numbers:
            if math.isnan(number) or math.isinf(number):
                raise ServiceError(
                    "InvalidParameterValue",
                    f"The value {number} for parameter {where}.Value is invalid.",
                )
        at = epoch_of(datum["Timestamp"]) if datum.get("Timestamp") is not None else self.clock()
        now = self.clock()
        if at < now - 14 * 86400 or at > now + 2 * 3600:
            raise ServiceError(
                "InvalidParameterValue",
                f"The parameter {where}.Timestamp must specify a time no more than two weeks "
                "in the past and no more than two hours in the future.",
            )
        return key_of({**datum, "Namespace": namespace}), at

    async def get_metric_statistics(self, request: Params, context: RequestContext) -> Params:
        await self.flush()
        return await get_metric_statistics(self.series, request, self.clock())

    async def get_metric_data(self, request: Params, context: RequestContext) -> Params:
        await self.flush()
        return await get_metric_data(self.series, request, self.clock())

    async def list_metrics(self, request: Params, context: RequestContext) -> Params:
        await self.flush()
        wanted_name = request.get("MetricName")
        filters = [(d["Name"], d.get("Value")) for d in request.get("Dimensions") or ()]
        recent = request.get("RecentlyActive") == "PT3H"
        now = self.clock()
        found = []
        for key, latest in await self.series.metrics(request.get("Namespace")):
            if wanted_name is not None and key.metric != wanted_name:
                continue
            dims = dict(key.dimensions)
            if any(n not in dims or (v is not None and dims[n] != v) for n, v in filters):
                continue
            if recent and latest < now - 3 * 3600:
                continue
            found.append(key)
        found.sort()
        start = (
            int(request.get("NextToken") or 0)
            if str(request.get("NextToken") or "0").isdigit()
            else -1
        )
        if start < 0:
            raise ServiceError("InvalidParameterValue", "The NextToken is invalid.")
        page = found[start : start + PAGE]
        result: Params = {
            "Metrics": [
                {
                    "Namespace": k.namespace,
                    "MetricName": k.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in k.dimensions],
                }
                for k in page
            ]
        }
        if start + PAGE < len(found):
            result["NextToken"] = str(start + PAGE)
        return result
