"""Monitoring a function with CloudWatch, in Python with boto3: the cost monitor (invocations,
duration and errors over a period), the function's dashboard, and its three alarms publishing
to an SNS topic. The same code runs against AWS and against skylet: only the client differs.

    python monitoring.py FUNCTION TOPIC_ARN [--endpoint-url http://127.0.0.1:9000]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

PERIOD_S = 300


@dataclass(frozen=True)
class FunctionMetrics:
    invocations: float
    duration: float
    errors: float


class CostMonitor:
    """A function's figures over a period, each the sum of its 5-minute datapoints."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get_function_metrics(self, function_name: str, period: timedelta) -> FunctionMetrics:
        end = datetime.now(UTC)
        start = end - period
        return FunctionMetrics(
            invocations=self._metric(function_name, "Invocations", start, end),
            duration=self._metric(function_name, "Duration", start, end),
            errors=self._metric(function_name, "Errors", start, end),
        )

    def _metric(self, function_name: str, metric: str, start: datetime, end: datetime) -> float:
        result = self.client.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function_name}],
            StartTime=start,
            EndTime=end,
            Period=PERIOD_S,
            Statistics=["Sum"],
        )
        return float(sum(point["Sum"] for point in result["Datapoints"]))


def dashboard_body(region: str) -> dict[str, Any]:
    """Invocations, duration, errors and throttles, and concurrency. Every metric widget names
    its region: CloudWatch refuses a metric widget without one."""
    return {
        "widgets": [
            _widget("Invocations", [["AWS/Lambda", "Invocations", {"stat": "Sum"}]], 300, region),
            _widget(
                "Duration",
                [
                    ["AWS/Lambda", "Duration", {"stat": "Average"}],
                    [".", ".", {"stat": "Maximum"}],
                ],
                300,
                region,
            ),
            _widget(
                "Errors",
                [
                    ["AWS/Lambda", "Errors", {"stat": "Sum"}],
                    [".", "Throttles", {"stat": "Sum"}],
                ],
                300,
                region,
            ),
            _widget(
                "Concurrent Executions",
                [["AWS/Lambda", "ConcurrentExecutions", {"stat": "Maximum"}]],
                60,
                region,
            ),
        ]
    }


def _widget(title: str, metrics: list[list[Any]], period: int, region: str) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {"title": title, "metrics": metrics, "period": period, "region": region},
    }


def create_dashboard(client: Any, function_name: str) -> None:
    client.put_dashboard(
        DashboardName=f"{function_name}-dashboard",
        DashboardBody=json.dumps(dashboard_body(client.meta.region_name)),
    )


#: (name, metric, threshold, comparison)
ALARMS = (
    ("HighErrorRate", "Errors", 10.0, "GreaterThanThreshold"),
    ("HighDuration", "Duration", 5000.0, "GreaterThanThreshold"),
    ("Throttles", "Throttles", 1.0, "GreaterThanOrEqualToThreshold"),
)


def create_alarms(client: Any, function_name: str, topic_arn: str) -> None:
    for name, metric, threshold, comparison in ALARMS:
        client.put_metric_alarm(
            AlarmName=f"{function_name}-{name}",
            ComparisonOperator=comparison,
            EvaluationPeriods=2,
            MetricName=metric,
            Namespace="AWS/Lambda",
            Period=PERIOD_S,
            Statistic="Sum",
            Threshold=threshold,
            ActionsEnabled=True,
            AlarmActions=[topic_arn],
            Dimensions=[{"Name": "FunctionName", "Value": function_name}],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function")
    parser.add_argument("topic_arn")
    parser.add_argument("--endpoint-url")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    client = boto3.client("cloudwatch", region_name=args.region, endpoint_url=args.endpoint_url)
    create_dashboard(client, args.function)
    create_alarms(client, args.function, args.topic_arn)
    figures = CostMonitor(client).get_function_metrics(args.function, timedelta(hours=1))
    print(json.dumps(figures.__dict__))


if __name__ == "__main__":
    main()
