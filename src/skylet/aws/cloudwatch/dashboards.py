"""A dashboard body checked as PutDashboard checks it: the messages CloudWatch gives, each with
the JSON path of what it is about (``/widgets/1/properties``). Pure.

Checked: the body is a JSON object with a ``widgets`` array of at most 500 widgets; each widget
has a known ``type`` and an object of ``properties``; ``x``, ``y``, ``width`` (1 to 24) and
``height`` (1 to 1000) are integers where given; a metric widget names its ``region`` and has
``metrics`` (arrays of strings, ``.`` repeating the row above, with an optional object of
options last, or an expression) or ``annotations``; its ``stat``, ``period`` and ``view`` are
valid; a text widget has ``markdown``; an alarm widget lists ``alarms``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from skylet.aws.cloudwatch.stats import percentile_of

MAX_WIDGETS = 500
WIDGET_TYPES = ("metric", "text", "log", "alarm", "explorer", "custom")
VIEWS = ("timeSeries", "singleValue", "gauge", "bar", "pie", "table")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

Message = dict[str, str]


def validate(body: str) -> list[Message]:
    """The validation messages of ``body`` (``DataPath``, ``Message``); empty when valid."""
    try:
        document = json.loads(body)
    except ValueError:
        return [{"DataPath": "", "Message": "Invalid JSON: the dashboard body must be JSON"}]
    if not isinstance(document, dict):
        return [{"DataPath": "", "Message": "Should be object"}]
    if "widgets" not in document:
        return [{"DataPath": "", "Message": "Should have required property 'widgets'"}]
    widgets = document["widgets"]
    if not isinstance(widgets, list):
        return [{"DataPath": "/widgets", "Message": "Should be array"}]
    if len(widgets) > MAX_WIDGETS:
        return [
            {"DataPath": "/widgets", "Message": f"Should NOT have more than {MAX_WIDGETS} items"}
        ]
    messages: list[Message] = []
    for index, widget in enumerate(widgets):
        messages.extend(_widget(f"/widgets/{index}", widget))
    return messages


def _need(path: str, value: Mapping[str, Any], name: str) -> Message | None:
    if name not in value:
        return {"DataPath": path, "Message": f"Should have required property '{name}'"}
    return None


def _widget(path: str, widget: object) -> list[Message]:
    if not isinstance(widget, dict):
        return [{"DataPath": path, "Message": "Should be object"}]
    found = [m for m in (_need(path, widget, "type"), _need(path, widget, "properties")) if m]
    if found:
        return found
    kind = widget["type"]
    if kind not in WIDGET_TYPES:
        allowed = ", ".join(WIDGET_TYPES)
        return [{"DataPath": f"{path}/type", "Message": f"Should be equal to one of: {allowed}"}]
    for name, low, high in (("x", 0, 23), ("y", 0, None), ("width", 1, 24), ("height", 1, 1000)):
        if name in widget:
            value = widget[name]
            if not isinstance(value, int) or isinstance(value, bool):
                found.append({"DataPath": f"{path}/{name}", "Message": "Should be integer"})
            elif value < low:
                found.append({"DataPath": f"{path}/{name}", "Message": f"Should be >= {low}"})
            elif high is not None and value > high:
                found.append({"DataPath": f"{path}/{name}", "Message": f"Should be <= {high}"})
    properties = widget["properties"]
    where = f"{path}/properties"
    if not isinstance(properties, dict):
        return [*found, {"DataPath": where, "Message": "Should be object"}]
    if kind == "metric":
        found.extend(_metric_properties(where, properties))
    elif kind == "text" and (missing := _need(where, properties, "markdown")):
        found.append(missing)
    elif kind == "alarm":
        if missing := _need(where, properties, "alarms"):
            found.append(missing)
        elif not isinstance(properties["alarms"], list):
            found.append({"DataPath": f"{where}/alarms", "Message": "Should be array"})
    return found


def _metric_properties(where: str, properties: Mapping[str, Any]) -> list[Message]:
    found: list[Message] = []
    if missing := _need(where, properties, "region"):
        found.append(missing)
    if "metrics" not in properties and "annotations" not in properties:
        found.append({"DataPath": where, "Message": "Should have required property 'metrics'"})
    if "view" in properties and properties["view"] not in VIEWS:
        allowed = ", ".join(VIEWS)
        found.append(
            {"DataPath": f"{where}/view", "Message": f"Should be equal to one of: {allowed}"}
        )
    found.extend(_options(where, properties))
    metrics = properties.get("metrics", [])
    if not isinstance(metrics, list):
        return [*found, {"DataPath": f"{where}/metrics", "Message": "Should be array"}]
    for row_index, row in enumerate(metrics):
        found.extend(_metric_row(f"{where}/metrics/{row_index}", row, row_index == 0))
    return found


def _options(where: str, options: Mapping[str, Any]) -> list[Message]:
    found: list[Message] = []
    stat = options.get("stat")
    if stat is not None and (
        not isinstance(stat, str) or (stat not in STATISTICS and percentile_of(stat) is None)
    ):
        found.append({"DataPath": f"{where}/stat", "Message": f"Invalid statistic: {stat}"})
    period = options.get("period")
    if period is not None:
        if not isinstance(period, int) or isinstance(period, bool):
            found.append({"DataPath": f"{where}/period", "Message": "Should be integer"})
        elif period < 1 or (period >= 60 and period % 60) or (period < 60 and 60 % period):
            found.append(
                {
                    "DataPath": f"{where}/period",
                    "Message": "The period must be 1, 5, 10, 30 or a multiple of 60",
                }
            )
    return found


def _metric_row(path: str, row: object, first: bool) -> list[Message]:
    if not isinstance(row, list) or not row:
        return [{"DataPath": path, "Message": "Should be a non-empty array"}]
    *names, last = row
    if isinstance(last, dict):
        options: Mapping[str, Any] = last
        if "expression" in options:
            if names:
                return [{"DataPath": path, "Message": "An expression row has only its options"}]
            return _options(f"{path}/{len(row) - 1}", options)
    else:
        names, options = row, {}
    for index, name in enumerate(names):
        if not isinstance(name, str):
            return [{"DataPath": f"{path}/{index}", "Message": "Should be string"}]
        if name == "." and first:
            return [{"DataPath": f"{path}/{index}", "Message": "'.' repeats the row above"}]
    if len(names) < 2 or len(names) % 2:
        return [
            {
                "DataPath": path,
                "Message": "A metric is its namespace, its name, then dimension name/value pairs",
            }
        ]
    return _options(f"{path}/{len(row) - 1}", options)


def widget_count(body: str) -> int:
    document = json.loads(body)
    return len(document.get("widgets", [])) if isinstance(document, dict) else 0
