"""Knative annotations on Python functions in skylet.yaml, against a real ``skylet up``."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: annotated
functions:
  warm:
    handler: handlers.echo
    annotations:
      autoscaling.knative.dev/minScale: "2"
  capped:
    handler: handlers.sleep
    annotations:
      autoscaling.knative.dev/maxScale: "1"
  brief:
    handler: handlers.echo
    annotations:
      autoscaling.knative.dev/window: "6s"
"""

server = module_server("annotated", MANIFEST)


def instances(server: Server, name: str) -> int:
    listed = httpx.get(f"{server.url}/_skylet/functions").json()
    found: int = next(f for f in listed if f["name"] == name)["instances"]
    return found


def test_min_scale_keeps_instances_warm(server: Server) -> None:
    deadline = time.monotonic() + 20
    while instances(server, "warm") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_max_scale_throttles_beyond_it_as_lambda_does(server: Server) -> None:
    client: Any = server.lambda_client()
    first = threading.Thread(
        target=lambda: client.invoke(FunctionName="capped", Payload=b'{"seconds": 2}')
    )
    first.start()
    time.sleep(0.5)
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="capped", Payload=b'{"seconds": 0}')
    first.join()
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_an_idle_instance_goes_after_the_stable_window(server: Server) -> None:
    client: Any = server.lambda_client()
    assert client.invoke(FunctionName="brief", Payload=b"{}")["StatusCode"] == 200
    used = time.monotonic()
    assert instances(server, "brief") == 1
    deadline = used + 30  # the window (6 s) and the platform's reaper (every 10 s)
    while instances(server, "brief"):
        assert time.monotonic() < deadline
        time.sleep(0.25)
    assert time.monotonic() - used >= 5.5
