"""A CloudWatch dashboard body's widgets as the dashboard page draws them: a metric widget's
``metrics`` rows turned into GetMetricData queries, and the minute stamps every chart of a
window shares. Pure.

A row is ``[namespace, metric, dim, value, …, {options}]``; ``"."`` repeats the value at the
same place in the row above (CloudWatch's shorthand), and a row whose options hold an
``expression`` is metric math over the rows' ``id``\\ s. Bodies reach here already checked by
PutDashboard (aws/cloudwatch/dashboards.py); what is still odd is skipped, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The statistic and period of a row that names none, as CloudWatch's console assumes.
DEFAULT_STAT = "Average"
DEFAULT_PERIOD_S = 300


def expand_rows(rows: Sequence[Any]) -> list[tuple[list[str], dict[str, Any]]]:
    """Each row's strings (``"."`` resolved against the row above) and its options."""
    expanded: list[tuple[list[str], dict[str, Any]]] = []
    previous: list[str] = []
    for row in rows:
        if not isinstance(row, list):
            continue
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        names = [str(v) for v in (row[:-1] if options else row)]
        if "expression" not in options:
            names = [
                previous[i] if v == "." and i < len(previous) else v for i, v in enumerate(names)
            ]
            previous = names
        expanded.append((names, dict(options)))
    return expanded


def metric_queries(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GetMetricData's ``MetricDataQueries`` for a metric widget's properties: one per row,
    ids ``m0``, ``m1``… unless a row names its own; rows hidden with ``visible: false`` or
    ``id`` only used by an expression are fetched but not returned."""
    stat = str(properties.get("stat") or DEFAULT_STAT)
    period = int(properties.get("period") or DEFAULT_PERIOD_S)
    queries: list[dict[str, Any]] = []
    for index, (names, options) in enumerate(expand_rows(properties.get("metrics") or [])):
        query: dict[str, Any] = {"Id": str(options.get("id") or f"m{index}")}
        if options.get("label"):
            query["Label"] = str(options["label"])
        if options.get("visible") is False:
            query["ReturnData"] = False
        if "expression" in options:
            query["Expression"] = str(options["expression"])
        elif len(names) >= 2:
            pairs = names[2:]
            dimensions = [
                {"Name": pairs[i], "Value": pairs[i + 1]} for i in range(0, len(pairs) - 1, 2)
            ]
            query["MetricStat"] = {
                "Metric": {"Namespace": names[0], "MetricName": names[1], "Dimensions": dimensions},
                "Period": int(options.get("period") or period),
                "Stat": str(options.get("stat") or stat),
            }
            query.setdefault("Label", names[1])
        else:
            continue
        queries.append(query)
    return queries


#: The most points a chart of a window gets: a longer window reads longer periods.
MAX_POINTS = 120


def period_for(window_s: int) -> int:
    """The period a window's charts read: a minute up to two hours, else whole minutes that
    keep it to MAX_POINTS points (24 hours: 12 minutes)."""
    minutes_each = -(-window_s // (60 * MAX_POINTS))
    return 60 * max(1, minutes_each)


def minutes(end_s: float, window_s: int, period_s: int = 60) -> list[int]:
    """The period stamps of the window ending at ``end_s``, oldest first: 30 minutes ending
    at 12:30:20 are 12:01 … 12:30 (the minute under way included)."""
    last = int(end_s // period_s) * period_s
    count = max(1, window_s // period_s)
    return [last - period_s * (count - 1 - i) for i in range(count)]


def aligned(
    stamps: Sequence[int], timestamps: Sequence[float], values: Sequence[float]
) -> list[float | None]:
    """A GetMetricData result's values at ``stamps`` (None where it has none): what a chart
    of several series needs, one x axis."""
    found = {int(t): v for t, v in zip(timestamps, values, strict=False)}
    return [found.get(t) for t in stamps]
