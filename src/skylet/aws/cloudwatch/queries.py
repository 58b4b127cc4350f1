"""Reading metrics: GetMetricStatistics' datapoints and GetMetricData's results (metric stats
and metric math), over ``MetricSeries``. A statistic of a period is the merge of the stored
datapoints in it: 1-minute ones while they are kept (a day), else 5-minute ones."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from skylet.aws.cloudwatch.expressions import ExpressionError, Series, evaluate, references
from skylet.aws.cloudwatch.series import MINUTE_RETENTION_S, MetricSeries, SeriesKey
from skylet.aws.cloudwatch.stats import StatSet, percentile_of
from skylet.aws.protocols.types import Params
from skylet.errors import ServiceError

#: The most datapoints GetMetricStatistics returns (CloudWatch's limit).
MAX_DATAPOINTS = 1440
MAX_QUERIES = 500


def epoch_of(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    raise ServiceError("InvalidParameterValue", f"Not a timestamp: {value!r}")


def check_period(period: int, name: str = "Period") -> None:
    if (
        period < 1
        or (period >= 60 and period % 60)
        or (period < 60 and period not in (1, 5, 10, 30))
    ):
        raise ServiceError(
            "InvalidParameterValue",
            f"The parameter {name} must be 1, 5, 10, 30, or a multiple of 60.",
        )


def key_of(metric: Mapping[str, Any]) -> SeriesKey:
    dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or ()}
    return SeriesKey.of(metric["Namespace"], metric["MetricName"], dimensions)


async def period_sets(
    series: MetricSeries, key: SeriesKey, start: float, end: float, period: int, now: float
) -> dict[int, StatSet]:
    """The statistic set of each ``period`` (aligned to the epoch) in [start, end) with data."""
    resolution = 60 if start >= now - MINUTE_RETENTION_S or period < 300 or period % 300 else 300
    found: dict[int, StatSet] = {}
    for at, stats in await series.read(key, start, end, resolution):
        bucket = int(at // period) * period if period >= resolution else at
        into = found.get(bucket)
        if into is None:
            into = found[bucket] = StatSet(unit=stats.unit)
        into.merge(stats)
    return {t: s for t, s in found.items() if start - period < t < end}


def value_of(stats: StatSet, statistic: str) -> float | None:
    value = stats.statistic(statistic)
    return None if value is None or math.isinf(value) else value


async def get_metric_statistics(series: MetricSeries, request: Params, now: float) -> Params:
    statistics: Sequence[str] = request.get("Statistics") or ()
    extended: Sequence[str] = request.get("ExtendedStatistics") or ()
    if not statistics and not extended:
        raise ServiceError(
            "MissingParameter", "Must specify either Statistics or ExtendedStatistics."
        )
    for name in extended:
        if percentile_of(name) is None:
            raise ServiceError("InvalidParameterValue", f"Invalid extended statistic: {name}")
    period = int(request["Period"])
    check_period(period)
    start, end = epoch_of(request["StartTime"]), epoch_of(request["EndTime"])
    if end <= start:
        raise ServiceError(
            "InvalidParameterValue", "The parameter StartTime must be less than EndTime."
        )
    wanted = math.ceil((end - start) / period)
    if wanted > MAX_DATAPOINTS:
        raise ServiceError(
            "InvalidParameterCombination",
            f"You have requested up to {wanted:,} datapoints, which exceeds the limit of "
            f"{MAX_DATAPOINTS:,}. You may reduce the datapoints requested by increasing "
            "Period, or decreasing the time range.",
        )
    unit = request.get("Unit")
    sets = await period_sets(series, key_of(request), start, end, period, now)
    points = []
    for at in sorted(sets):
        stats = sets[at]
        if unit is not None and stats.unit != unit:
            continue
        point: Params = {"Timestamp": float(at), "Unit": stats.unit}
        for name in statistics:
            value = value_of(stats, name)
            if value is not None:
                point[name] = value
        if extended:
            point["ExtendedStatistics"] = {
                name: value for name in extended if (value := value_of(stats, name)) is not None
            }
        points.append(point)
    return {"Label": request["MetricName"], "Datapoints": points}


async def get_metric_data(series: MetricSeries, request: Params, now: float) -> Params:
    queries: Sequence[Params] = request["MetricDataQueries"]
    if len(queries) > MAX_QUERIES:
        raise ServiceError("InvalidParameterValue", f"At most {MAX_QUERIES} queries")
    start, end = epoch_of(request["StartTime"]), epoch_of(request["EndTime"])
    ids = [q["Id"] for q in queries]
    if len(set(ids)) != len(ids):
        raise ServiceError(
            "ValidationError",
            "The values for parameter id in MetricDataQueries are not unique.",
            status=400,
        )
    values: dict[str, Series] = {}
    labels: dict[str, str] = {}
    messages: list[Params] = []
    # Metric stats first, then expressions in an order that has their ids computed.
    for query in queries:
        stat = query.get("MetricStat")
        if stat is None:
            continue
        if query.get("Expression"):
            raise ServiceError(
                "ValidationError",
                f"Query {query['Id']} has both a metric and an expression.",
                status=400,
            )
        period = int(stat["Period"])
        check_period(period, "MetricStat.Period")
        sets = await period_sets(series, key_of(stat["Metric"]), start, end, period, now)
        chosen = {
            t: v
            for t, s in sets.items()
            if (stat.get("Unit") is None or s.unit == stat["Unit"])
            and (v := value_of(s, stat["Stat"])) is not None
        }
        values[query["Id"]] = chosen
        labels[query["Id"]] = query.get("Label") or stat["Metric"]["MetricName"]
    pending = [q for q in queries if q.get("MetricStat") is None]
    while pending:
        progressed = False
        for query in list(pending):
            expression = query.get("Expression")
            if not expression:
                raise ServiceError(
                    "ValidationError",
                    f"Query {query['Id']} needs a MetricStat or an Expression.",
                    status=400,
                )
            needed = references(expression) - {query["Id"]}
            if not needed <= set(values):
                if not needed <= set(ids):
                    unknown = sorted(needed - set(ids))[0]
                    raise ServiceError(
                        "ValidationError",
                        f"Error in expression '{query['Id']}': "
                        f"Unrecognized metric id or function: {unknown}",
                        status=400,
                    )
                continue
            try:
                result = evaluate(expression, values)
            except ExpressionError as error:
                raise ServiceError(
                    "ValidationError", f"Error in expression '{query['Id']}': {error}", status=400
                ) from None
            values[query["Id"]] = _as_series(result, values)
            labels[query["Id"]] = query.get("Label") or query["Id"]
            pending.remove(query)
            progressed = True
        if not progressed:
            raise ServiceError(
                "ValidationError", "Circular dependency in metric math expressions.", status=400
            )
    descending = request.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results = []
    for query in queries:
        if query.get("ReturnData") is False:
            continue
        found = values[query["Id"]]
        stamps = sorted((t for t, v in found.items() if not math.isnan(v)), reverse=descending)
        results.append(
            {
                "Id": query["Id"],
                "Label": labels[query["Id"]],
                "Timestamps": [float(t) for t in stamps],
                "Values": [found[t] for t in stamps],
                "StatusCode": "Complete",
            }
        )
    return {"MetricDataResults": results, "Messages": messages}


def _as_series(result: float | Series | list[Series], values: Mapping[str, Series]) -> Series:
    """An expression's result as one series: a number at every timestamp seen, a list summed."""
    if isinstance(result, dict):
        return result
    if isinstance(result, list):
        if len(result) != 1:
            raise ServiceError(
                "ValidationError",
                "An expression must return one time series, not a list.",
                status=400,
            )
        return result[0]
    stamps = {t for series in values.values() for t in series}
    return {t: result for t in stamps}
