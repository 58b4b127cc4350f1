"""Schedules on a real ``skylet up``: the admin API and ``skylet schedule ls`` list each rule
with its next fire, and ``skylet schedule run`` fires one as its timetable would, so the
function receives EventBridge's Scheduled Event (checked against Powertools' EventBridgeModel)
or the rule's configured input."""

from __future__ import annotations

import datetime
import json
import subprocess

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from tests.e2e.conftest import (
    SKYLET,
    Server,
    module_server,
)

pytestmark = pytest.mark.e2e

MANIFEST = """
service: clock
provider:
  name: aws
  region: eu-west-1
functions:
  nightly:
    handler: messaging.record
    events:
      - schedule: cron(0 1 * * ? *)
  report:
    handler: messaging.record
    events:
      - schedule:
          name: hourly-report
          rate: [rate(1 hour)]
          input: {kind: report}
"""


server = module_server("schedules", MANIFEST, serverless=True)


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SKYLET, "schedule", *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_schedules_are_listed_with_their_next_fire(server: Server) -> None:
    done = _cli(server, "ls", "--json")
    assert done.returncode == 0, done.stderr
    listed = {s["name"]: s for s in json.loads(done.stdout)}
    assert set(listed) == {"clock-dev-nightly-rule-1", "hourly-report"}
    nightly = listed["clock-dev-nightly-rule-1"]
    assert nightly["function"] == "nightly" and nightly["expression"] == "cron(0 1 * * ? *)"
    due = datetime.datetime.fromisoformat(nightly["next"])
    assert (due.hour, due.minute, due.second) == (1, 0, 0)
    assert due > datetime.datetime.now(datetime.UTC)
    table = _cli(server, "ls")
    assert "hourly-report" in table.stdout and "rate(1 hour)" in table.stdout


def test_running_a_schedule_delivers_eventbridges_scheduled_event(server: Server) -> None:
    done = _cli(server, "run", "clock-dev-nightly-rule-1")
    assert done.returncode == 0, done.stderr
    (event,) = server.printed_events("nightly", 1)
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.detail_type == "Scheduled Event" and parsed.source == "aws.events"
    assert parsed.region == "eu-west-1" and parsed.detail == {}
    assert parsed.resources == [
        "arn:aws:events:eu-west-1:000000000000:rule/clock-dev-nightly-rule-1"
    ]


def test_a_schedule_with_input_delivers_its_input(server: Server) -> None:
    assert _cli(server, "run", "hourly-report").returncode == 0
    assert server.printed_events("report", 1) == [{"kind": "report"}]


def test_running_an_unknown_schedule_exits_4(server: Server) -> None:
    done = _cli(server, "run", "nope")
    assert done.returncode == 4 and "Schedule not found: nope" in done.stderr
