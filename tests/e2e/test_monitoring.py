"""examples/monitoring on a real ``skylet up``: the cost monitor, the dashboard and the alarms,
in Python with stock boto3; a failing function trips HighErrorRate and the alarm topic's SQS
subscriber receives CloudWatch's notification. Alarms are evaluated every second here
(``--alarm-interval 1``); their Period stays 5 minutes."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parents[2] / "examples" / "monitoring"
FUNCTION = "orders-dev-checkout"
TOPIC = "arn:aws:sns:us-east-1:000000000000:orders-alarms"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("monitoring_example", EXAMPLE / "monitoring.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


monitoring = _example()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("monitoring") / "project"
    shutil.copytree(EXAMPLE, directory)
    running = start_server(directory, "--no-reload", "--alarm-interval", "1")
    yield running
    stop_server(running)


def alarm_notifications(server: Server, timeout_s: float = 20) -> list[dict[str, Any]]:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-alarm-inbox")["QueueUrl"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if messages.get("Messages"):
            bodies = [json.loads(m["Body"]) for m in messages["Messages"]]
            # Raw delivery: the alarm's JSON itself; else SNS's envelope around it.
            return [json.loads(b["Message"]) if "TopicArn" in b else b for b in bodies]
    return []


def test_a_failing_function_trips_high_error_rate_and_the_subscriber_is_told(
    server: Server,
) -> None:
    cloudwatch = server.client("cloudwatch")
    monitoring.create_dashboard(cloudwatch, FUNCTION)
    monitoring.create_alarms(cloudwatch, FUNCTION, TOPIC)
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=FUNCTION)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == [
        f"{FUNCTION}-HighDuration",
        f"{FUNCTION}-HighErrorRate",
        f"{FUNCTION}-Throttles",
    ]
    assert {a["StateValue"] for a in alarms} == {"INSUFFICIENT_DATA"}

    # Eleven errors in one 5-minute period: more than the threshold of 10. Not across a
    # period's end, where they would split between two periods.
    while 300 - time.time() % 300 < 5:
        time.sleep(0.5)
    client = server.lambda_client()
    for _ in range(11):
        answer = client.invoke(FunctionName=FUNCTION, Payload=b'{"id": "o-1", "items": []}')  # type: ignore[attr-defined]
        assert answer["FunctionError"] == "Unhandled"
    client.invoke(FunctionName=FUNCTION, Payload=b'{"items": [{"price": 3}]}')  # type: ignore[attr-defined]

    [notification] = alarm_notifications(server)
    assert notification["AlarmName"] == f"{FUNCTION}-HighErrorRate"
    assert notification["NewStateValue"] == "ALARM"
    assert notification["OldStateValue"] == "INSUFFICIENT_DATA"
    assert notification["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 2")
    assert notification["AlarmArn"].endswith(f":alarm:{FUNCTION}-HighErrorRate")
    assert notification["Region"] == "US East (N. Virginia)"
    assert notification["AlarmActions"] == [TOPIC]
    trigger = notification["Trigger"]
    assert trigger["MetricName"] == "Errors"
    assert trigger["Namespace"] == "AWS/Lambda"
    assert trigger["Statistic"] == "SUM"
    assert trigger["Period"] == 300
    assert trigger["EvaluationPeriods"] == 2
    assert trigger["ComparisonOperator"] == "GreaterThanThreshold"
    assert trigger["Threshold"] == 10.0
    assert trigger["Dimensions"] == [{"value": FUNCTION, "name": "FunctionName"}]

    [alarm] = cloudwatch.describe_alarms(AlarmNames=[f"{FUNCTION}-HighErrorRate"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [11.0]
    history = cloudwatch.describe_alarm_history(AlarmName=f"{FUNCTION}-HighErrorRate")
    kinds = [item["HistoryItemType"] for item in history["AlarmHistoryItems"]]
    assert kinds[:2] == ["Action", "StateUpdate"]  # newest first
    assert history["AlarmHistoryItems"][0]["HistorySummary"] == (
        f"Successfully executed action {TOPIC}"
    )

    figures = monitoring.CostMonitor(cloudwatch).get_function_metrics(FUNCTION, timedelta(hours=1))
    assert (figures.invocations, figures.errors) == (12.0, 11.0)
    assert figures.duration > 0


def test_the_dashboard_is_kept_and_listed(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    monitoring.create_dashboard(cloudwatch, FUNCTION)
    found = cloudwatch.get_dashboard(DashboardName=f"{FUNCTION}-dashboard")
    body = json.loads(found["DashboardBody"])
    assert [w["properties"]["title"] for w in body["widgets"]] == [
        "Invocations",
        "Duration",
        "Errors",
        "Concurrent Executions",
    ]
    entries = cloudwatch.list_dashboards(DashboardNamePrefix="orders")["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == [f"{FUNCTION}-dashboard"]


def test_the_seeds_dashboard_without_regions_is_refused_as_cloudwatch_refuses_it(
    server: Server,
) -> None:
    cloudwatch = server.client("cloudwatch")
    body = monitoring.dashboard_body("us-east-1")
    for widget in body["widgets"][1:]:
        del widget["properties"]["region"]
    with pytest.raises(cloudwatch.exceptions.DashboardInvalidInputError) as refused:
        cloudwatch.put_dashboard(DashboardName="seed", DashboardBody=json.dumps(body))
    messages = refused.value.response["dashboardValidationMessages"]
    assert messages == [
        {
            "DataPath": f"/widgets/{i}/properties",
            "Message": "Should have required property 'region'",
        }
        for i in (1, 2, 3)
    ]
