"""CloudWatch Embedded Metric Format: a JSON log line that is also metrics. Pure.

A line is EMF when it is a JSON object whose ``_aws`` member holds ``Timestamp`` (epoch
milliseconds) and ``CloudWatchMetrics``: directives, each a ``Namespace``, ``Dimensions`` (sets
of member names) and ``Metrics`` (``Name``, optional ``Unit``). Each metric's value is the
line's member of its name: a number or a list of at most 100 numbers. Each dimension set makes
one series, its values the line's members of those names. A line that breaks the format is
only a log line, as it is on AWS (whose agent logs why); :func:`metrics_of` returns nothing
for it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass

MAX_METRICS = 100
MAX_DIMENSIONS = 30
MAX_VALUES = 100


@dataclass(frozen=True, slots=True)
class Datum:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp_s: float
    values: tuple[float, ...]
    unit: str


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not math.isnan(value)
        and not math.isinf(value)
    )


def metrics_of(line: str) -> list[Datum]:
    """The datapoints one log line carries (none if it is not valid EMF)."""
    if '"_aws"' not in line:
        return []
    try:
        document = json.loads(line)
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    try:
        return list(_data(document))
    except (KeyError, TypeError, ValueError):
        return []


def _data(document: dict[str, object]) -> Iterator[Datum]:
    meta = document["_aws"]
    if not isinstance(meta, dict):
        raise ValueError("_aws")
    stamp = meta["Timestamp"]
    directives = meta["CloudWatchMetrics"]
    if not _number(stamp) or not isinstance(directives, list):
        raise ValueError("_aws")
    found: list[Datum] = []
    for directive in directives:
        namespace = directive["Namespace"]
        metrics = directive["Metrics"]
        sets = directive.get("Dimensions", [[]])
        if not isinstance(namespace, str) or not namespace or namespace.startswith("AWS/"):
            raise ValueError("Namespace")
        if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
            raise ValueError("Metrics")
        for names in sets:
            if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
                raise ValueError("Dimensions")
            dims = tuple(sorted((str(n), _text(document[n])) for n in names))
            for metric in metrics:
                name = metric["Name"]
                raw = document[name]
                values = raw if isinstance(raw, list) else [raw]
                if not values or len(values) > MAX_VALUES or not all(map(_number, values)):
                    raise ValueError(name)
                found.append(
                    Datum(
                        namespace,
                        str(name),
                        dims,
                        float(stamp) / 1000.0,
                        tuple(float(v) for v in values),  # type: ignore[arg-type]
                        str(metric.get("Unit") or "None"),
                    )
                )
    yield from found


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a dimension's value must be a string")
    return value
