"""Function logs end to end: ``skylet logs`` with ``--since``, ``--filter`` and ``--json``,
the JSON log format from serverless.yml, logs that outlive a restart, and the CloudWatch Logs
API with stock boto3 ``logs``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, cli, module_server, start_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: logs
provider:
  name: aws
  logRetentionInDays: 14
functions:
  orders:
    name: orders
    handler: json_logs.handler
    logs:
      logFormat: JSON
  echo:
    name: echo
    handler: handlers.echo
    logs:
      logGroup: /custom/echo
"""

server = module_server("logs", MANIFEST, serverless=True)
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def _invoke(server: Server, name: str, payload: dict[str, Any] | None = None) -> str:
    answer = server.lambda_client().invoke(  # type: ignore[attr-defined]
        FunctionName=name, Payload=json.dumps(payload or {}).encode()
    )
    return str(answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"])


def test_logs_filter_keeps_only_the_matching_json_records(server: Server) -> None:
    env = {"SKYLET_ENDPOINT": server.url}
    _invoke(server, "orders")
    done = cli("logs", "orders", "--filter", '{ $.level = "ERROR" }', env=env)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records and all(r["level"] == "ERROR" for r in records)
    assert records[0]["message"] == "lookup failed"
    terms = cli("logs", "orders", "--filter", '"platform.report"', "--json", env=env)
    lines = [json.loads(line) for line in terms.stdout.splitlines()]
    assert lines and all(json.loads(e["text"])["type"] == "platform.report" for e in lines)
    assert STREAM.match(lines[0]["logStream"])


def test_logs_since_leaves_out_what_came_before(server: Server) -> None:
    env = {"SKYLET_ENDPOINT": server.url}
    _invoke(server, "echo", {"n": 1})
    assert "REPORT RequestId" in cli("logs", "echo", "--since", "5m", env=env).stdout
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert cli("logs", "echo", "--since", later, env=env).stdout == ""
    bad = cli("logs", "echo", "--since", "yesterday", env=env)
    assert bad.returncode != 0 and "allowed: a duration" in bad.stderr
    wrong = cli("logs", "echo", "--filter", "{ $.level = ", env=env)
    assert wrong.returncode != 0 and "not a filter pattern" in wrong.stderr


def test_describe_log_groups_and_streams(server: Server) -> None:
    _invoke(server, "orders")
    logs = server.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    assert {"/aws/lambda/orders", "/custom/echo"} <= set(groups)
    assert groups["/aws/lambda/orders"]["retentionInDays"] == 14
    assert groups["/aws/lambda/orders"]["arn"].endswith(":log-group:/aws/lambda/orders:*")
    prefixed = logs.describe_log_groups(logGroupNamePrefix="/custom/")["logGroups"]
    assert [g["logGroupName"] for g in prefixed] == ["/custom/echo"]
    described = logs.describe_log_streams(
        logGroupName="/aws/lambda/orders", orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert described and all(STREAM.match(s["logStreamName"]) for s in described)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName="/aws/lambda/nope")
    lambda_api: Any = server.lambda_client()
    shown = lambda_api.get_function_configuration(FunctionName="orders")["LoggingConfig"]
    assert shown == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": "/aws/lambda/orders",
    }


def test_get_log_events_pages_with_forward_and_backward_tokens(server: Server) -> None:
    request_id = _invoke(server, "orders")
    logs = server.client("logs")
    stream = logs.describe_log_streams(
        logGroupName="/aws/lambda/orders", orderBy="LastEventTime", descending=True
    )["logStreams"][0]["logStreamName"]
    whole = logs.get_log_events(
        logGroupName="/aws/lambda/orders", logStreamName=stream, startFromHead=True
    )
    messages = [e["message"] for e in whole["events"]]
    assert any(request_id in m for m in messages)
    first = logs.get_log_events(
        logGroupName="/aws/lambda/orders", logStreamName=stream, startFromHead=True, limit=2
    )
    assert [e["message"] for e in first["events"]] == messages[:2]
    second = logs.get_log_events(
        logGroupName="/aws/lambda/orders",
        logStreamName=stream,
        nextToken=first["nextForwardToken"],
        limit=2,
    )
    assert [e["message"] for e in second["events"]] == messages[2:4]
    back = logs.get_log_events(
        logGroupName="/aws/lambda/orders",
        logStreamName=stream,
        nextToken=second["nextBackwardToken"],
        limit=2,
    )
    assert [e["message"] for e in back["events"]] == messages[:2]
    end = logs.get_log_events(
        logGroupName="/aws/lambda/orders", logStreamName=stream, nextToken=whole["nextForwardToken"]
    )
    assert end["events"] == [] and end["nextForwardToken"] == whole["nextForwardToken"]


def test_filter_log_events_with_a_pattern_times_and_pages(server: Server) -> None:
    before = int(time.time() * 1000) - 1
    for _ in range(3):
        _invoke(server, "orders")
    logs = server.client("logs")
    chosen = logs.filter_log_events(
        logGroupName="/aws/lambda/orders",
        filterPattern='{ $.type = "platform.report" }',
        startTime=before,
    )["events"]
    assert len(chosen) == 3
    assert all(json.loads(e["message"])["type"] == "platform.report" for e in chosen)
    assert all(len(e["eventId"]) == 56 and STREAM.match(e["logStreamName"]) for e in chosen)
    paginator = logs.get_paginator("filter_log_events")
    pages = list(
        paginator.paginate(
            logGroupName="/aws/lambda/orders",
            filterPattern="placed",
            startTime=before,
            PaginationConfig={"PageSize": 1},
        )
    )
    found = [e for p in pages for e in p["events"]]
    assert len(found) == 3 and len({e["eventId"] for e in found}) == 3
    none = logs.filter_log_events(
        logGroupName="/aws/lambda/orders", filterPattern="ERROR -lookup", startTime=before
    )
    assert none["events"] == []
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName="/aws/lambda/orders", filterPattern="{ $.x = ")


def test_log_groups_are_created_given_retention_and_deleted(server: Server) -> None:
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/app/custom")
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/app/custom")
    logs.put_retention_policy(logGroupName="/app/custom", retentionInDays=30)
    group = logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"][0]
    assert group["retentionInDays"] == 30
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName="/app/custom", retentionInDays=10)
    logs.delete_log_group(logGroupName="/app/custom")
    assert logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName="/app/custom")


def test_logs_outlive_a_restart(project: Callable[..., Path]) -> None:
    directory = project(MANIFEST, "serverless.yml")
    (directory / "skylet.yaml").unlink(missing_ok=True)
    first = start_server(directory, "--no-reload")
    try:
        request_id = _invoke(first, "echo", {"n": 7})
        written = first.client("logs")
        written.create_log_group(logGroupName="/app/kept")
        written.create_log_stream(logGroupName="/app/kept", logStreamName="s")
        written.put_retention_policy(logGroupName="/app/kept", retentionInDays=3)
        stamp = int(time.time() * 1000)
        events = [{"timestamp": stamp, "message": "kept line"}]
        written.put_log_events(logGroupName="/app/kept", logStreamName="s", logEvents=events)
    finally:
        stop_server(first)
    again = start_server(directory, "--no-reload")
    try:
        done = cli("logs", "echo", env={"SKYLET_ENDPOINT": again.url})
        logs = again.client("logs")
        events = logs.filter_log_events(
            logGroupName="/custom/echo", filterPattern=f'"{request_id}"'
        )["events"]
        kept = logs.get_log_events(logGroupName="/app/kept", logStreamName="s")["events"]
        [group] = logs.describe_log_groups(logGroupNamePrefix="/app/kept")["logGroups"]
    finally:
        stop_server(again)
    assert [e["message"] for e in kept] == ["kept line"]
    assert group["retentionInDays"] == 3
    assert f"REPORT RequestId: {request_id}" in done.stdout
    assert any(e["message"].startswith("START RequestId: " + request_id) for e in events)


def test_the_aws_cli_filters_a_functions_log(server: Server) -> None:
    _invoke(server, "orders")
    aws = Path(sys.executable).with_name("aws")
    done = subprocess.run(
        [
            str(aws),
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/lambda/orders",
            "--filter-pattern",
            '{ $.level = "ERROR" }',
            "--endpoint-url",
            server.url,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    assert done.returncode == 0, done.stderr
    messages = [json.loads(e["message"]) for e in json.loads(done.stdout)["events"]]
    assert messages and {m["message"] for m in messages} == {"lookup failed"}


def test_a_client_writes_its_own_log_group_and_reads_it_back(server: Server) -> None:
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/app/written")
    logs.create_log_stream(logGroupName="/app/written", logStreamName="worker-1")
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName="/app/written", logStreamName="worker-1")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_events(
            logGroupName="/app/written",
            logStreamName="nope",
            logEvents=[{"timestamp": 1, "message": "x"}],
        )
    empty = logs.get_log_events(logGroupName="/app/written", logStreamName="worker-1")
    assert empty["events"] == []
    now = int(time.time() * 1000)
    with pytest.raises(logs.exceptions.InvalidParameterException, match="chronological"):
        logs.put_log_events(
            logGroupName="/app/written",
            logStreamName="worker-1",
            logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 5, "message": "a"}],
        )
    old = now - 20 * 86_400_000
    answer = logs.put_log_events(
        logGroupName="/app/written",
        logStreamName="worker-1",
        logEvents=[{"timestamp": old, "message": "old"}, {"timestamp": old + 1, "message": "old"}],
    )
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    with pytest.raises(logs.exceptions.InvalidParameterException, match="24 hours"):
        logs.put_log_events(
            logGroupName="/app/written",
            logStreamName="worker-1",
            logEvents=[{"timestamp": old, "message": "old"}, {"timestamp": now, "message": "x"}],
        )
    logs.put_log_events(
        logGroupName="/app/written",
        logStreamName="worker-1",
        logEvents=[
            {"timestamp": now - 10, "message": '{"level": "ERROR", "job": 7}'},
            {"timestamp": now, "message": "done"},
        ],
    )
    read = logs.get_log_events(
        logGroupName="/app/written", logStreamName="worker-1", startFromHead=True
    )
    assert [e["message"] for e in read["events"]] == ['{"level": "ERROR", "job": 7}', "done"]
    errors = logs.filter_log_events(logGroupName="/app/written", filterPattern="{ $.job = 7 }")
    assert [e["logStreamName"] for e in errors["events"]] == ["worker-1"]
    [stream] = logs.describe_log_streams(logGroupName="/app/written")["logStreams"]
    assert stream["logStreamName"] == "worker-1" and stream["lastEventTimestamp"] == now
    logs.delete_log_group(logGroupName="/app/written")
    assert logs.describe_log_groups(logGroupNamePrefix="/app/written")["logGroups"] == []
