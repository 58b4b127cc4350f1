"""CloudWatch's API through stock boto3 (CBOR) on a real ``skylet up``: custom metrics and
their statistics and percentiles, metric math, listings, alarms and their SNS actions,
dashboards, and the refusals each gives in CloudWatch's error codes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: cw
provider:
  name: aws
functions:
  ok:
    handler: handlers.echo
resources:
  Resources:
    Ops:
      Type: AWS::SNS::Topic
      Properties: {TopicName: ops}
    OpsInbox:
      Type: AWS::SQS::Queue
      Properties: {QueueName: ops-inbox}
    OpsSubscription:
      Type: AWS::SNS::Subscription
      Properties:
        TopicArn: !Ref Ops
        Protocol: sqs
        Endpoint: !GetAtt OpsInbox.Arn
"""
TOPIC = "arn:aws:sns:us-east-1:000000000000:ops"

server = module_server("cloudwatch", MANIFEST, "--alarm-interval", "1", serverless=True)


def now() -> datetime:
    return datetime.now(UTC)


def minute() -> datetime:
    """The start of this minute (data put now lands in its datapoint)."""
    return now().replace(second=0, microsecond=0)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def statistics(cloudwatch: Any, metric: str, **extra: Any) -> list[dict[str, Any]]:
    answer = cloudwatch.get_metric_statistics(
        Namespace="Shop",
        MetricName=metric,
        Dimensions=[{"Name": "Store", "Value": "berlin"}],
        StartTime=minute() - timedelta(minutes=2),
        EndTime=minute() + timedelta(minutes=1),
        Period=60,
        **extra,
    )
    return list(answer["Datapoints"])


def test_values_and_counts_give_statistics_and_percentiles(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {
                "MetricName": "Basket",
                "Dimensions": [{"Name": "Store", "Value": "berlin"}],
                "Values": [float(v) for v in range(1, 101)],
                "Counts": [1.0] * 99 + [101.0],
                "Unit": "Count",
            }
        ],
    )
    [point] = statistics(
        cloudwatch,
        "Basket",
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum", "Average"],
        ExtendedStatistics=["p50", "p99"],
    )
    assert point["SampleCount"] == 200.0
    assert point["Sum"] == sum(range(1, 100)) + 100 * 101
    assert (point["Minimum"], point["Maximum"]) == (1.0, 100.0)
    assert point["Average"] == point["Sum"] / 200
    assert point["Unit"] == "Count"
    assert abs(point["ExtendedStatistics"]["p50"] - 100.0) <= 1.0  # half the weight is at 100
    assert abs(point["ExtendedStatistics"]["p99"] - 100.0) <= 1.0


def test_statistic_values_are_kept_without_percentiles(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Store", "Value": "berlin"}],
                "StatisticValues": {
                    "SampleCount": 4,
                    "Sum": 40,
                    "Minimum": 2,
                    "Maximum": 20,
                },
                "Unit": "Milliseconds",
            }
        ],
    )
    [point] = statistics(cloudwatch, "Latency", Statistics=["Average"], ExtendedStatistics=["p90"])
    assert point["Average"] == 10.0
    assert point["ExtendedStatistics"] == {}


@pytest.mark.parametrize(
    ("namespace", "datum", "expected"),
    [
        ("AWS/Lambda", {"MetricName": "Invocations", "Value": 1.0}, "InvalidParameterValue"),
        ("Shop", {"MetricName": "X", "Value": 1.0, "Values": [1.0]}, "InvalidParameterCombination"),
        ("Shop", {"MetricName": "X"}, "InvalidParameterCombination"),
        (
            "Shop",
            {"MetricName": "X", "Values": [1.0, 2.0], "Counts": [1.0]},
            "InvalidParameterValue",
        ),
        (
            "Shop",
            {"MetricName": "X", "Value": 1.0, "Timestamp": datetime(2020, 1, 1, tzinfo=UTC)},
            "InvalidParameterValue",
        ),
    ],
    ids=["an AWS namespace", "value and values", "no value", "counts unmatched", "too old"],
)
def test_bad_metric_data_is_refused(
    server: Server, namespace: str, datum: dict[str, Any], expected: str
) -> None:
    cloudwatch = server.client("cloudwatch")
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])
    assert code(refused) == expected
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_metric_data_answers_stats_percentiles_and_metric_math(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    store = [{"Name": "Store", "Value": "paris"}]
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Orders", "Dimensions": store, "Values": [10.0, 20.0, 30.0]},
            {"MetricName": "Refunds", "Dimensions": store, "Value": 6.0},
        ],
    )

    def stat(metric: str, statistic: str) -> dict[str, Any]:
        return {
            "Metric": {"Namespace": "Shop", "MetricName": metric, "Dimensions": store},
            "Period": 60,
            "Stat": statistic,
        }

    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "orders", "MetricStat": stat("Orders", "Sum"), "ReturnData": False},
            {"Id": "refunds", "MetricStat": stat("Refunds", "Sum")},
            {"Id": "p90", "MetricStat": stat("Orders", "p90"), "Label": "orders p90"},
            {"Id": "rate", "Expression": "100 * refunds / orders", "Label": "refund rate"},
            {"Id": "both", "Expression": "SUM([orders, refunds])"},
            {"Id": "biggest", "Expression": "MAX(orders)"},
        ],
        StartTime=minute() - timedelta(minutes=2),
        EndTime=minute() + timedelta(minutes=1),
    )
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"refunds", "p90", "rate", "both", "biggest"}
    assert results["refunds"]["Values"] == [6.0]
    assert results["refunds"]["Label"] == "Refunds"
    assert abs(results["p90"]["Values"][0] - 30.0) <= 0.3
    assert results["p90"]["Label"] == "orders p90"
    assert results["rate"]["Values"] == [10.0]
    assert results["rate"]["Label"] == "refund rate"
    assert results["both"]["Values"] == [66.0]
    assert results["biggest"]["Values"] == [60.0]
    assert all(r["StatusCode"] == "Complete" for r in results.values())
    assert results["rate"]["Timestamps"] == results["refunds"]["Timestamps"]


def test_an_expression_that_cannot_be_read_is_a_validation_error(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    with pytest.raises(ClientError) as refused:
        cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "e", "Expression": "FILL(nothing, 0)"}],
            StartTime=now() - timedelta(minutes=5),
            EndTime=now(),
        )
    assert code(refused) == "ValidationError"
    assert "nothing" in str(refused.value) or "FILL" in str(refused.value)


def test_too_many_datapoints_are_refused(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    with pytest.raises(ClientError) as refused:
        cloudwatch.get_metric_statistics(
            Namespace="Shop",
            MetricName="Orders",
            StartTime=now() - timedelta(days=2),
            EndTime=now(),
            Period=60,
            Statistics=["Sum"],
        )
    assert code(refused) == "InvalidParameterCombination"
    assert "which exceeds the limit of 1,440" in refused.value.response["Error"]["Message"]


def test_list_metrics_filters_by_namespace_name_and_dimension(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="Listed",
        MetricData=[
            {"MetricName": "A", "Dimensions": [{"Name": "Tier", "Value": "gold"}], "Value": 1.0},
            {"MetricName": "A", "Dimensions": [{"Name": "Tier", "Value": "free"}], "Value": 1.0},
            {"MetricName": "B", "Value": 1.0},
        ],
    )

    def listed(**filters: Any) -> list[tuple[str, list[dict[str, str]]]]:
        metrics = cloudwatch.list_metrics(Namespace="Listed", **filters)["Metrics"]
        return [(m["MetricName"], m["Dimensions"]) for m in metrics]

    assert len(listed()) == 3
    assert listed(MetricName="B") == [("B", [])]
    assert listed(Dimensions=[{"Name": "Tier", "Value": "gold"}]) == [
        ("A", [{"Name": "Tier", "Value": "gold"}])
    ]
    assert len(listed(Dimensions=[{"Name": "Tier"}])) == 2
    assert len(listed(RecentlyActive="PT3H")) == 3


def ops_messages(server: Server, timeout_s: float = 15) -> list[dict[str, Any]]:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="ops-inbox")["QueueUrl"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if answer.get("Messages"):
            return [json.loads(m["Body"]) for m in answer["Messages"]]
    return []


def test_alarms_are_described_set_and_deleted_and_their_actions_publish(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="orders-low",
        Namespace="Shop",
        MetricName="Orders",
        Dimensions=[{"Name": "Store", "Value": "rome"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="notBreaching",
        OKActions=[TOPIC],
        AlarmActions=[TOPIC],
    )
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["orders-low"])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-low"
    # Missing data is not breaching: the evaluator moves it to OK, and its OK action publishes.
    [ok] = ops_messages(server)
    envelope = json.loads(ok["Message"])
    assert (envelope["AlarmName"], envelope["NewStateValue"]) == ("orders-low", "OK")
    assert ok["Subject"] == 'OK: "orders-low" in US East (N. Virginia)'

    cloudwatch.set_alarm_state(AlarmName="orders-low", StateValue="ALARM", StateReason="drill")
    [alarmed] = ops_messages(server)
    assert json.loads(alarmed["Message"])["NewStateReason"] == "drill"

    history = cloudwatch.describe_alarm_history(
        AlarmName="orders-low", HistoryItemType="StateUpdate"
    )
    summaries = [i["HistorySummary"] for i in history["AlarmHistoryItems"]]
    assert "Alarm updated from OK to ALARM" in summaries
    assert "Alarm updated from INSUFFICIENT_DATA to OK" in summaries
    assert cloudwatch.describe_alarms(StateValue="ALARM", AlarmNamePrefix="orders")["MetricAlarms"]

    cloudwatch.delete_alarms(AlarmNames=["orders-low"])
    assert cloudwatch.describe_alarms(AlarmNames=["orders-low"])["MetricAlarms"] == []
    with pytest.raises(ClientError) as refused:
        cloudwatch.set_alarm_state(AlarmName="orders-low", StateValue="OK", StateReason="x")
    assert code(refused) == "ResourceNotFound"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Period": 45}, "Period must be 10, 30 or a multiple of 60"),
        ({"DatapointsToAlarm": 3}, "DatapointsToAlarm must be between 1 and EvaluationPeriods"),
        ({"TreatMissingData": "sometimes"}, "TreatMissingData must be one of"),
        ({"Statistic": None, "ExtendedStatistic": "p99", "Unit": "Seconds"}, None),
    ],
    ids=[
        "a period of 45 s",
        "more datapoints than periods",
        "an unknown treatment",
        "a percentile",
    ],
)
def test_put_metric_alarm_checks_its_parameters(
    server: Server, change: dict[str, Any], message: str | None
) -> None:
    cloudwatch = server.client("cloudwatch")
    request: dict[str, Any] = {
        "AlarmName": "checked",
        "Namespace": "Shop",
        "MetricName": "Orders",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 2,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    request.update(change)
    request = {k: v for k, v in request.items() if v is not None}
    if message is None:
        cloudwatch.put_metric_alarm(**request)
        [alarm] = cloudwatch.describe_alarms(AlarmNames=["checked"])["MetricAlarms"]
        assert alarm["ExtendedStatistic"] == "p99"
        cloudwatch.delete_alarms(AlarmNames=["checked"])
        return
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_alarm(**request)
    assert code(refused) == "ValidationError"
    assert message in refused.value.response["Error"]["Message"]


def test_dashboards_are_put_listed_got_and_deleted(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    body = json.dumps(
        {
            "widgets": [
                {
                    "type": "text",
                    "x": 0,
                    "y": 0,
                    "width": 6,
                    "height": 3,
                    "properties": {"markdown": "# Ops"},
                }
            ]
        }
    )
    assert (
        cloudwatch.put_dashboard(DashboardName="ops", DashboardBody=body)[
            "DashboardValidationMessages"
        ]
        == []
    )
    got = cloudwatch.get_dashboard(DashboardName="ops")
    assert got["DashboardBody"] == body
    assert got["DashboardArn"] == "arn:aws:cloudwatch::000000000000:dashboard/ops"
    [entry] = cloudwatch.list_dashboards(DashboardNamePrefix="op")["DashboardEntries"]
    assert entry["Size"] == len(body)
    cloudwatch.delete_dashboards(DashboardNames=["ops"])
    with pytest.raises(ClientError) as missing:
        cloudwatch.get_dashboard(DashboardName="ops")
    assert code(missing) == "ResourceNotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_dashboard(DashboardName="bad name!", DashboardBody=body)
    assert code(refused) == "InvalidParameterValue"


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_older_sdks_protocols_are_served_too(server: Server, protocol: str, tmp_path: Path) -> None:
    """botocore's model lists CBOR, JSON and query: a client whose model says only one of the
    older two (as older botocore releases did) gets the same answers, and the same errors."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    version = loader.determine_latest_version("cloudwatch", "service-2")
    model = loader.load_service_model("cloudwatch", "service-2")
    model["metadata"].update(protocol=protocol, protocols=[protocol])
    where = tmp_path / "cloudwatch" / version
    where.mkdir(parents=True)
    (where / "service-2.json").write_text(json.dumps(model))
    loader.search_paths.insert(0, str(tmp_path))
    client = session.create_client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )
    assert client.meta.service_model.protocol == protocol
    namespace = f"Old/{protocol}"
    client.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 2.0}])
    assert client.list_metrics(Namespace=namespace)["Metrics"] == [
        {"Namespace": namespace, "MetricName": "M", "Dimensions": []}
    ]
    [point] = client.get_metric_statistics(
        Namespace=namespace,
        MetricName="M",
        StartTime=minute() - timedelta(minutes=1),
        EndTime=minute() + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert point["Sum"] == 2.0
    with pytest.raises(ClientError) as refused:
        client.put_metric_data(Namespace="AWS/X", MetricData=[{"MetricName": "M", "Value": 1.0}])
    assert code(refused) == "InvalidParameterValue"


def test_a_metric_math_alarm_evaluates_its_expression(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    shop = [{"Name": "Store", "Value": "oslo"}]

    def stat(metric: str) -> dict[str, Any]:
        return {
            "Metric": {"Namespace": "Shop", "MetricName": metric, "Dimensions": shop},
            "Period": 60,
            "Stat": "Sum",
        }

    cloudwatch.put_metric_alarm(
        AlarmName="failure-rate",
        Metrics=[
            {"Id": "failures", "MetricStat": stat("Failures"), "ReturnData": False},
            {"Id": "requests", "MetricStat": stat("Requests"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * failures / requests", "Label": "failure %"},
        ],
        EvaluationPeriods=1,
        Threshold=50.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[TOPIC],
    )
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["failure-rate"])["MetricAlarms"]
    assert [q["Id"] for q in alarm["Metrics"]] == ["failures", "requests", "rate"]
    assert "MetricName" not in alarm
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Failures", "Dimensions": shop, "Value": 3.0},
            {"MetricName": "Requests", "Dimensions": shop, "Value": 4.0},
        ],
    )
    [published] = ops_messages(server)
    message = json.loads(published["Message"])
    assert (message["AlarmName"], message["NewStateValue"]) == ("failure-rate", "ALARM")
    assert [q["Id"] for q in message["Trigger"]["Metrics"]] == ["failures", "requests", "rate"]
    assert message["Trigger"]["Period"] == 60
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["failure-rate"])["MetricAlarms"]
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [75.0]
    cloudwatch.delete_alarms(AlarmNames=["failure-rate"])


def test_a_metric_math_alarm_returns_exactly_one_series(server: Server) -> None:
    cloudwatch = server.client("cloudwatch")
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_alarm(
            AlarmName="two",
            Metrics=[{"Id": "a", "Expression": "1"}, {"Id": "b", "Expression": "2"}],
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    assert "Exactly one element of the metrics list should return data" in str(
        refused.value.response["Error"]["Message"]
    )
