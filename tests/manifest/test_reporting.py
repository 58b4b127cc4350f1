"""``skylet up`` reports the manifest's warnings: each once at start, and new ones on reload."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, project, serve  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

MANIFEST = """service: warned
functions:
  nightly:
    handler: handlers.echo
    events:
      - stream: arn:aws:kinesis:us-east-1:000000000000:stream/s
      - http_api: GET /nightly
  hourly:
    handler: handlers.echo
    events:
      - stream: arn:aws:kinesis:us-east-1:000000000000:stream/s
"""
SCHEDULE = (
    "warning: skylet.yaml:6: functions.nightly.events[0].stream: stream events are "
    "recognised but not run yet: the function is deployed without this trigger (also line 11 "
    "functions.hourly.events[0].stream)"
)
BUS = (
    "warning: skylet.yaml:14: resources.Feed.type: AWS::Kinesis::Stream resources are "
    "recognised but not run yet"
)


def wait_for(server: Server, text: str) -> str:
    deadline = time.monotonic() + 30
    while text not in (output := server.output()):
        assert time.monotonic() < deadline, output
        time.sleep(0.05)
    return output


def test_warnings_are_reported_once_at_start_and_new_ones_on_reload(
    project: Callable[[str], Path],  # noqa: F811
    serve: Callable[..., Server],  # noqa: F811
) -> None:
    directory = project(MANIFEST)
    server = serve(directory)
    assert server.output().count(SCHEDULE) == 1
    bus = "resources:\n  Feed:\n    type: AWS::Kinesis::Stream\n"
    (directory / "skylet.yaml").write_text(MANIFEST + bus)
    output = wait_for(server, BUS)
    assert output.count(BUS) == 1
    assert output.count(SCHEDULE) == 1  # unchanged, so not reported again
