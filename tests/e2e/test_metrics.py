"""Metrics on a real ``skylet up``: ``/metrics`` scraped with prometheus_client's parser (and
in OpenMetrics), and the same figures as CloudWatch datapoints through stock boto3."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: watched
provider:
  name: aws
functions:
  ok:
    handler: handlers.echo
    events:
      - httpApi: {method: GET, path: /ok}
  boom:
    handler: handlers.fail
  emf:
    handler: metrics_handlers.emf
  capped:
    handler: handlers.sleep
    reservedConcurrency: 1
  queued:
    handler: handlers.fail
    maximumRetryAttempts: 0
    destinations:
      onFailure: !GetAtt Failures.Arn
resources:
  Resources:
    Failures:
      Type: AWS::SQS::Queue
      Properties: {QueueName: failures}
    Jobs:
      Type: AWS::SQS::Queue
      Properties: {QueueName: jobs}
"""

#: The Serverless Framework's names: service-stage-function.
OK, BOOM, CAPPED = "watched-dev-ok", "watched-dev-boom", "watched-dev-capped"
QUEUED = "watched-dev-queued"

server = module_server("metrics", MANIFEST, "--alarm-interval", "1", serverless=True)


def samples(
    server: Server, accept: str = ""
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    parse = openmetrics if "openmetrics" in accept else text_string_to_metric_families
    found = {}
    for family in parse(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def invoke(server: Server, name: str, payload: Any = None) -> Any:
    client = server.lambda_client()
    answer = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}))  # type: ignore[attr-defined]
    return answer


def test_invocations_errors_and_durations_are_scraped_per_function_and_version(
    server: Server,
) -> None:
    for _ in range(3):
        invoke(server, "ok")
    invoke(server, "boom")
    found = samples(server)
    ok = (("function", OK), ("version", "$LATEST"))
    boom = (("function", BOOM), ("version", "$LATEST"))
    assert found[("skylet_invocations_total", ok)] >= 3
    assert found[("skylet_invocation_errors_total", boom)] == 1
    assert ("skylet_invocation_errors_total", ok) not in found
    assert found[("skylet_invocation_duration_seconds_count", ok)] >= 3
    assert found[("skylet_cold_starts_total", ok)] >= 1
    assert found[("skylet_init_duration_seconds_count", ok)] >= 1
    inf = (("function", OK), ("le", "+Inf"), ("version", "$LATEST"))
    assert found[("skylet_invocation_duration_seconds_bucket", inf)] >= 3


def test_openmetrics_is_served_when_the_accept_header_asks(server: Server) -> None:
    invoke(server, "ok")
    response = httpx.get(
        f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    found = samples(server, "application/openmetrics-text; version=1.0.0")
    assert found[("skylet_invocations_total", (("function", OK), ("version", "$LATEST")))] >= 1


def test_http_route_requests_are_counted_by_status(server: Server) -> None:
    assert httpx.get(f"{server.url}/ok").status_code == 200
    assert httpx.get(f"{server.url}/nowhere").status_code == 404
    found = samples(server)
    assert found[("skylet_http_requests_total", (("function", OK), ("status", "200")))] >= 1
    assert found[("skylet_http_requests_total", (("function", ""), ("status", "404")))] >= 1


def test_throttles_are_counted_and_published(server: Server) -> None:
    import concurrent.futures

    client = server.lambda_client()

    def call() -> int:
        try:
            client.invoke(FunctionName="capped", Payload=json.dumps({"seconds": 1.0}))  # type: ignore[attr-defined]
            return 200
        except client.exceptions.TooManyRequestsException:  # type: ignore[attr-defined]
            return 429

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: call(), range(4)))
    assert 429 in statuses
    found = samples(server)
    capped = (("function", CAPPED), ("version", "$LATEST"))
    assert found[("skylet_throttles_total", capped)] == statuses.count(429)


def test_queue_depth_and_sends_are_sampled(server: Server) -> None:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
    )
    found = samples(server)
    assert found[("skylet_sqs_messages_sent_total", (("queue", "jobs"),))] == 3
    cloudwatch = server.client("cloudwatch")
    now = datetime.now(UTC)
    sent = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="NumberOfMessagesSent",
        Dimensions=[{"Name": "QueueName", "Value": "jobs"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(p["Sum"] for p in sent["Datapoints"]) == 3


def lambda_sum(server: Server, metric: str, function: str, statistic: str = "Sum") -> float:
    cloudwatch = server.client("cloudwatch")
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=300,
        Statistics=[statistic],
    )
    return float(sum(p[statistic] for p in answer["Datapoints"]))


def test_the_same_figures_are_cloudwatch_datapoints(server: Server) -> None:
    before = lambda_sum(server, "Invocations", OK)
    for _ in range(2):
        invoke(server, "ok")
    invoke(server, "boom")
    assert lambda_sum(server, "Invocations", OK) == before + 2
    assert lambda_sum(server, "Errors", OK) == 0
    assert lambda_sum(server, "Errors", BOOM) >= 1
    assert lambda_sum(server, "Duration", OK, "Maximum") > 0
    listed = server.client("cloudwatch").list_metrics(
        Namespace="AWS/Lambda", MetricName="Invocations"
    )
    dimensions = [m["Dimensions"] for m in listed["Metrics"]]
    assert [{"Name": "FunctionName", "Value": OK}] in dimensions
    assert [] in dimensions  # the account's total


def test_emf_lines_in_a_function_log_become_datapoints(server: Server) -> None:
    invoke(server, "emf", {"latency": 20})
    cloudwatch = server.client("cloudwatch")
    now = datetime.now(UTC)
    deadline = time.monotonic() + 10
    while True:
        answer = cloudwatch.get_metric_statistics(
            Namespace="Shop",
            MetricName="Latency",
            Dimensions=[{"Name": "Service", "Value": "checkout"}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
            Period=60,
            Statistics=["Sum", "SampleCount", "Maximum"],
        )
        if answer["Datapoints"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    [point] = answer["Datapoints"]
    assert (point["Sum"], point["SampleCount"], point["Maximum"]) == (50.0, 2.0, 30.0)
    assert point["Unit"] == "Milliseconds"


def test_a_failed_async_event_counts_its_age_outcome_and_destination(server: Server) -> None:
    client = server.lambda_client()
    client.invoke(FunctionName=QUEUED, InvocationType="Event", Payload=b"{}")  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while True:
        found = samples(server)
        key = ("skylet_async_events_total", (("function", QUEUED), ("outcome", "failed")))
        if key in found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found[key] == 1
    delivered = (("function", QUEUED), ("result", "delivered"))
    assert found[("skylet_destination_deliveries_total", delivered)] == 1
    assert found[("skylet_async_event_age_seconds_count", (("function", QUEUED),))] == 1
    assert ("skylet_async_events_dropped_total", (("function", QUEUED),)) not in found
    age = lambda_sum(server, "AsyncEventAge", QUEUED, "SampleCount")
    assert age == 1
