"""The dashboard (docs/dashboard.md): a page under ``/_skylet/dashboard/`` served from the
package's ``dashboard_static/`` (uPlot shipped beside it), and the JSON it polls under
``/_skylet/dashboard/data/``.

The data is read through the platform's public interfaces only: functions, their logs and
records through the invoker and the record book, figures through CloudWatch's own operations
(GetMetricData, DescribeAlarms, GetDashboard: what boto3 would call), queues and topics
through SQS's and SNS's operations, each found in the service registry by name. The page's
files are served to anyone (they hold no data); the data is the admin API's, under its
authentication (gateway/admin.py, gateway/dashboard_session.py).
"""

from __future__ import annotations

import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from skylet.asgi import Scope, Send, respond
from skylet.aws.router import Services
from skylet.aws.service import RequestContext
from skylet.errors import InvalidParameterValue, ResourceNotFound, ServiceError, SkyletError
from skylet.events.records import RecordBook
from skylet.gateway.admin_query import Query
from skylet.gateway.dashboard_widgets import aligned, metric_queries, minutes, period_for
from skylet.ids import new_request_id
from skylet.invoker.invoker import Invoker

Params = dict[str, Any]
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
#: The page's files: nothing else under the folder is served.
_STATIC = re.compile(r"^(?:[a-z]+\.(?:html|js|css)|vendor/[A-Za-z.]+\.(?:js|css|LICENSE))$")
#: The figures of a function (or, without one, of the account): key, namespace, metric, stat.
FIGURES = (
    ("invocations", "AWS/Lambda", "Invocations", "Sum"),
    ("errors", "AWS/Lambda", "Errors", "Sum"),
    ("throttles", "AWS/Lambda", "Throttles", "Sum"),
    ("durationAvg", "AWS/Lambda", "Duration", "Average"),
    ("durationP99", "AWS/Lambda", "Duration", "p99"),
    ("durationMax", "AWS/Lambda", "Duration", "Maximum"),
    ("concurrency", "AWS/Lambda", "ConcurrentExecutions", "Maximum"),
    ("coldStarts", "Skylet/Lambda", "ColdStarts", "Sum"),
)
MAX_WINDOW_MIN = 24 * 60
#: The functions the overview reads figures of (one GetMetricData each per poll).
MAX_FUNCTIONS = 100
#: The recent invocations a function's page shows.
RECENT = 20
_REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([0-9.]+) ms")


class Dashboard:
    """``clock`` gives epoch seconds (the window's end)."""

    def __init__(
        self,
        invoker: Invoker,
        services: Services | None,
        records: RecordBook | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.invoker = invoker
        self.services = services
        self.records = records
        self.clock = clock
        #: CostSource: the cost part's report for a window (``skylet cost``'s figures), when
        #: the composition root has one to give; until then the page says there is none.
        self.cost: Callable[[int], Awaitable[Params]] | None = None

    # -- the page ------------------------------------------------------------------------------

    async def page(self, path: str, send: Send) -> None:
        """One of the page's files (``path`` below ``/_skylet/dashboard/``; empty: the page)."""
        name = path or "index.html"
        if not _STATIC.match(name):
            await respond(send, 404, b'{"message":"Not found"}', _JSON)
            return
        try:
            body = resources.files("skylet.gateway").joinpath("dashboard_static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            await respond(send, 404, b'{"message":"Not found"}', _JSON)
            return
        kind = mimetypes.guess_type(name)[0] or "text/plain"
        headers = [
            (b"content-type", f"{kind}; charset=utf-8".encode()),
            (b"cache-control", b"no-cache"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if name.endswith(".html"):
            # Everything the page runs is its own: no inline script, no other origin.
            headers.append(
                (
                    b"content-security-policy",
                    b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
                )
            )
        await respond(send, 200, body, headers)

    # -- the data ------------------------------------------------------------------------------

    async def data(self, scope: Scope, send: Send, parts: list[str]) -> None:
        """``parts`` after ``dashboard/data/``: ``overview``, ``functions/NAME``,
        ``resources``, ``dashboards``, ``dashboards/NAME``; ``?minutes=30`` the window."""
        query = Query(scope)
        window_s = 60 * query.integer("minutes", 30, low=1, high=MAX_WINDOW_MIN)
        host = _host(scope)
        if parts == ["overview"]:
            body = await self.overview(window_s, host)
        elif len(parts) == 2 and parts[0] == "functions":
            body = await self.function(parts[1], window_s, host)
        elif parts == ["cost"]:
            body = await self.cost_report(window_s)
        elif parts == ["resources"]:
            body = await self.resources(host)
        elif parts == ["dashboards"]:
            body = await self.dashboard_names(host)
        elif len(parts) == 2 and parts[0] == "dashboards":
            body = await self.dashboard(parts[1], window_s, host)
        else:
            await respond(send, 404, b'{"message":"Not found"}', _JSON)
            return
        await respond(send, 200, json.dumps(body).encode(), _JSON)

    async def _call(self, service: str, operation: str, request: Params, host: str) -> Params:
        """``operation`` of the registered ``service`` with ``request``, as a boto3 call
        would make it (its ServiceError raised as it is); ``{}`` when it is not served."""
        found = self.services.named(service) if self.services is not None else None
        method = found.operation(operation) if found is not None else None
        if method is None:
            return {}
        context = RequestContext(
            service=service,
            operation=operation,
            protocol="json",
            request_id=new_request_id(),
            region=self.invoker.settings.region,
            account_id=self.invoker.settings.account_id,
            host=host,
        )
        result = method(request, context)
        answer = await result if not isinstance(result, dict | None) else result
        return answer or {}

    async def figures(self, function: str | None, window_s: int, host: str) -> dict[str, Any]:
        """The FIGURES of one function (or the account) per period (period_for the window)
        over the window, on one axis ``t`` (epoch seconds); ``periodS`` says which."""
        end = self.clock()
        period = period_for(window_s)
        stamps = minutes(end, window_s, period)
        dimensions = [{"Name": "FunctionName", "Value": function}] if function else []
        queries = [
            {
                "Id": key.lower(),
                "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": metric, "Dimensions": dimensions},
                    "Period": period,
                    "Stat": stat,
                },
            }
            for key, ns, metric, stat in FIGURES
        ]
        answer = await self._call(
            "cloudwatch",
            "GetMetricData",
            {"MetricDataQueries": queries, "StartTime": stamps[0], "EndTime": end + period},
            host,
        )
        by_id = {r["Id"]: r for r in answer.get("MetricDataResults", [])}
        figures: dict[str, Any] = {"t": stamps, "periodS": period}
        for key, _, _, stat in FIGURES:
            result = by_id.get(key.lower(), {})
            values = aligned(stamps, result.get("Timestamps", []), result.get("Values", []))
            # A count with no datapoint in a minute counted nothing: 0, so the line is drawn.
            filled: list[float | None] = [0.0 if v is None else v for v in values]
            figures[key] = filled if stat == "Sum" else values
        return figures

    async def overview(self, window_s: int, host: str) -> Params:
        functions = []
        per_function: dict[str, list[float | None]] = {}
        deployed = list(self.invoker.functions())
        for fn in deployed[:MAX_FUNCTIONS]:
            figures = await self.figures(fn.name, window_s, host)
            state, _ = self.invoker.status(fn.name)
            functions.append(
                {
                    "name": fn.name,
                    "state": state.state,
                    "memoryMb": fn.memory_mb,
                    "instances": self.invoker.stats(fn.name).instances,
                    **{
                        key: _total(figures[key])
                        for key in ("invocations", "errors", "throttles", "coldStarts")
                    },
                    "durationMax": _top(figures["durationMax"]),
                }
            )
            per_function[fn.name] = figures["invocations"]
        return {
            "windowS": window_s,
            "functions": functions,
            "functionsNotShown": max(0, len(deployed) - MAX_FUNCTIONS),
            "account": await self.figures(None, window_s, host),
            "invocationsByFunction": per_function,
        }

    async def cost_report(self, window_s: int) -> Params:
        """``{"available": true, "functions": [row, …], "report": …}`` from the cost source,
        else ``{"available": false, "message": …}``."""
        if self.cost is None:
            return {
                "available": False,
                "message": "No cost figures on this server: the cost part is not built in.",
            }
        report = await self.cost(window_s)
        rows = report.get("functions")
        return {
            "available": True,
            "functions": rows if isinstance(rows, list) else [],
            "report": report,
        }

    async def function(self, name: str, window_s: int, host: str) -> Params:
        fn = self.invoker.function(name)
        recent: dict[str, Params] = {}
        for entry in self.invoker.logs.entries(fn.name, limit=1000):
            if not entry.request_id:
                continue
            item = recent.setdefault(
                entry.request_id,
                {"requestId": entry.request_id, "timestamp": entry.timestamp, "log": ""},
            )
            item["log"] += entry.text if entry.text.endswith("\n") else entry.text + "\n"
            if (report := _REPORT.search(entry.text)) is not None:
                item["durationMs"] = float(report.group(1))
        records: list[Params] = []
        if self.records is not None:
            try:
                records = [r.to_json() for r in await self.records.query(fn.name, limit=RECENT)]
            except SkyletError:  # the store is down: the page shows the log still
                records = []
        return {
            "name": fn.name,
            "handler": fn.handler,
            "memoryMb": fn.memory_mb,
            "timeoutS": fn.timeout_s,
            "figures": await self.figures(fn.name, window_s, host),
            "recent": sorted(recent.values(), key=lambda i: -float(i["timestamp"]))[:RECENT],
            "asyncRecords": records,
        }

    async def resources(self, host: str) -> Params:
        queues = []
        listed = await self._call("sqs", "ListQueues", {}, host)
        for url in listed.get("QueueUrls", []):
            attributes = await self._call(
                "sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]}, host
            )
            values = attributes.get("Attributes", {})
            queues.append(
                {
                    "name": url.rsplit("/", 1)[-1],
                    "url": url,
                    "visible": int(values.get("ApproximateNumberOfMessages", 0)),
                    "inFlight": int(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    "delayed": int(values.get("ApproximateNumberOfMessagesDelayed", 0)),
                    "deadLetter": "RedrivePolicy" in values,
                }
            )
        topics = []
        for topic in (await self._call("sns", "ListTopics", {}, host)).get("Topics", []):
            arn = topic["TopicArn"]
            subscriptions = await self._call(
                "sns", "ListSubscriptionsByTopic", {"TopicArn": arn}, host
            )
            topics.append(
                {
                    "arn": arn,
                    "name": arn.rsplit(":", 1)[-1],
                    "subscriptions": [
                        {"protocol": s["Protocol"], "endpoint": s["Endpoint"]}
                        for s in subscriptions.get("Subscriptions", [])
                    ],
                }
            )
        alarms = [
            {
                "name": a["AlarmName"],
                "state": a["StateValue"],
                "reason": a.get("StateReason", ""),
                "metric": f"{a.get('Namespace', '')} {a.get('MetricName', '')}".strip(),
                "updated": _epoch(a.get("StateUpdatedTimestamp")),
            }
            for a in (await self._call("cloudwatch", "DescribeAlarms", {}, host)).get(
                "MetricAlarms", []
            )
        ]
        return {"queues": queues, "topics": topics, "alarms": alarms}

    async def dashboard_names(self, host: str) -> Params:
        listed = await self._call("cloudwatch", "ListDashboards", {}, host)
        return {"dashboards": [d["DashboardName"] for d in listed.get("DashboardEntries", [])]}

    async def dashboard(self, name: str, window_s: int, host: str) -> Params:
        """A PutDashboard body's widgets: metric widgets with their series on one axis, text
        widgets' markdown, alarm widgets' alarms with their state."""
        try:
            found = await self._call("cloudwatch", "GetDashboard", {"DashboardName": name}, host)
        except ServiceError as error:
            raise ResourceNotFound(f"Dashboard not found: {name}") from error
        try:
            body = json.loads(found.get("DashboardBody") or "{}")
        except ValueError:
            raise InvalidParameterValue(f"Dashboard {name}'s body is not JSON") from None
        widgets = []
        for widget in body.get("widgets", []):
            properties = widget.get("properties") or {}
            drawn: Params = {
                "type": widget.get("type"),
                "x": widget.get("x", 0),
                "y": widget.get("y", 0),
                "width": widget.get("width", 6),
                "height": widget.get("height", 6),
                "title": properties.get("title", ""),
            }
            if widget.get("type") == "text":
                drawn["markdown"] = str(properties.get("markdown", ""))
            elif widget.get("type") == "metric":
                try:
                    drawn.update(await self._metric_widget(properties, window_s, host))
                except ServiceError as error:  # one widget's bad expression, as the console
                    drawn["error"] = error.message
            elif widget.get("type") == "alarm":
                names = [str(a).rsplit(":", 1)[-1] for a in properties.get("alarms", [])]
                described = await self._call(
                    "cloudwatch", "DescribeAlarms", {"AlarmNames": names[:100]}, host
                )
                drawn["alarms"] = [
                    {"name": a["AlarmName"], "state": a["StateValue"]}
                    for a in described.get("MetricAlarms", [])
                ]
            widgets.append(drawn)
        return {"name": name, "widgets": widgets}

    async def _metric_widget(self, properties: Params, window_s: int, host: str) -> Params:
        queries = metric_queries(properties)
        period = min((q["MetricStat"]["Period"] for q in queries if "MetricStat" in q), default=60)
        end = self.clock()
        stamps = minutes(end, max(window_s, period), period)
        if not queries:
            return {"t": stamps, "lines": [], "view": properties.get("view", "timeSeries")}
        answer = await self._call(
            "cloudwatch",
            "GetMetricData",
            {"MetricDataQueries": queries, "StartTime": stamps[0], "EndTime": end + period},
            host,
        )
        lines = [
            {
                "label": result["Label"],
                "values": aligned(stamps, result["Timestamps"], result["Values"]),
            }
            for result in answer.get("MetricDataResults", [])
        ]
        return {"t": stamps, "lines": lines, "view": properties.get("view", "timeSeries")}


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1"))
    return "localhost"


def _total(values: list[float | None] | list[int]) -> float:
    return float(sum(v for v in values if v is not None))


def _top(values: list[float | None] | list[int]) -> float | None:
    present = [v for v in values if v is not None]
    return float(max(present)) if present else None


def _epoch(value: object) -> float | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value) if isinstance(value, int | float) else None
