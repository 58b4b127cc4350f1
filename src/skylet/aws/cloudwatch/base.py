"""What CloudWatch's operations share: the store's tables, the collector, the clock, the
lock that orders alarm changes, and the flush of datapoints from memory to the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from skylet import arns
from skylet.aws.cloudwatch.collect import Collector
from skylet.aws.cloudwatch.documents import Documents, History
from skylet.aws.cloudwatch.series import MetricSeries
from skylet.aws.service import Service
from skylet.errors import ServiceError
from skylet.store.base import Store

#: publish(topic ARN, subject, message): an alarm action on an SNS topic.
Publish = Callable[[str, str, str], Awaitable[None]]
#: ListMetrics' page.
PAGE = 500


class CloudWatchBase(Service):
    service_name = "cloudwatch"

    def __init__(
        self,
        store: Store,
        collector: Collector,
        *,
        publish: Publish | None = None,
        clock: Callable[[], float] = time.time,
        flush_interval_s: float = 60.0,
        evaluation_interval_s: float = 60.0,
        region: str = arns.DEFAULT_REGION,
        account_id: str = arns.ACCOUNT_ID,
    ) -> None:
        self.store = store
        self.collector = collector
        self.series = MetricSeries(store)
        self.alarms = Documents(store, "cloudwatch/alarms")
        self.dashboards = Documents(store, "cloudwatch/dashboards")
        self.history = History(store, "cloudwatch/alarm-history")
        self.publish = publish
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.evaluation_interval_s = evaluation_interval_s
        self.region = region
        self.account_id = account_id
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def flush(self) -> None:
        """Write the datapoints aggregated in memory to the store."""
        async with self._lock:
            self.collector.fold()
            points = self.collector.aggregator.drain()
            try:
                await self.series.write(points)
            except BaseException:
                for (key, minute), stats in points.items():  # kept for the next flush
                    self.collector.aggregator.at(key, minute, stats.unit).merge(stats)
                raise


def token_of(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise ServiceError("InvalidNextToken", "The NextToken is invalid.")
    return int(token)
