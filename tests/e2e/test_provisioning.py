"""Provisioned functions whose init hangs or raises, on a real ``skylet up``: it listens at
once, the other functions serve, hot reload neither waits on them nor loses the others, SIGTERM
stops it promptly, and a failing init backs off and is reported in the logs and the listing."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, cli, start_server

pytestmark = pytest.mark.e2e

ECHO = """
service: provisioned
functions:
  echo:
    handler: handlers.echo
    events:
      - http_api: GET /echo
"""
HANGING = """
  hang:
    handler: hanging_init.handler
    provisioned_concurrency: 1
"""
BROKEN = """
  broken:
    handler: broken_import.handler
    provisioned_concurrency: 1
"""
IMPORT_ERROR = (
    "Runtime.ImportModuleError: Unable to import module 'broken_import': "
    "No module named 'module_that_does_not_exist'"
)


def _listing(server: Server) -> dict[str, dict[str, Any]]:
    functions = httpx.get(f"{server.url}/_skylet/functions").json()
    return {f["name"]: f for f in functions}


def _serves(server: Server) -> None:
    route = httpx.get(f"{server.url}/echo", timeout=10)
    assert route.status_code == 200, route.text
    invoked = httpx.post(f"{server.url}/2015-03-31/functions/echo/invocations", content="{}")
    assert invoked.status_code == 200 and "x-amz-function-error" not in invoked.headers


def _stop_within(server: Server, seconds: float) -> float:
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(seconds)
    return time.monotonic() - started


def test_skylet_up_listens_at_once_and_reports_inits_that_hang_or_fail(
    project: Callable[[str], Path],
) -> None:
    directory = project(ECHO + HANGING + BROKEN)
    started = time.monotonic()
    server = start_server(directory, "--no-reload")
    try:
        listening_s = time.monotonic() - started
        _serves(server)
        time.sleep(3.0)
        listed = _listing(server)
        assert listed["echo"]["state"] == "Active"
        assert listed["hang"]["state"] == "Pending"
        assert listed["hang"]["stateReasonCode"] == "Creating"
        broken = listed["broken"]
        assert (broken["state"], broken["stateReasonCode"]) == ("Failed", "FunctionError")
        assert broken["stateReason"] == IMPORT_ERROR
        logs = cli("logs", "broken", "--endpoint", server.url)
        assert logs.returncode == 0, logs.stderr
        assert f"[ERROR] {IMPORT_ERROR}" in logs.stdout
        assert "Status: error\tError Type: Runtime.ImportModuleError" in logs.stdout
        # Backed off (1 s, 2 s, …), not respawned about 190 times a second.
        attempts = logs.stdout.count("INIT_REPORT")
        assert 1 <= attempts <= 3, logs.stdout
        _serves(server)
    finally:
        stopped_s = _stop_within(server, 20)
    print(f"listening after {listening_s:.1f} s, stopped {stopped_s:.1f} s after SIGTERM")
    assert listening_s < 15
    assert stopped_s < 5
    assert server.proc.returncode == 0


def test_a_hanging_function_added_by_a_reload_takes_nothing_down(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    directory = project(ECHO)
    server = serve(directory)
    _serves(server)
    (directory / "skylet.yaml").write_text(ECHO + HANGING)
    deadline = time.monotonic() + 20
    while "hang" not in _listing(server):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    _serves(server)
    assert _listing(server)["hang"]["state"] == "Pending"
    (directory / "skylet.yaml").write_text(ECHO)  # reverting works too
    while "hang" in _listing(server):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    _serves(server)
    (directory / "skylet.yaml").write_text(ECHO + HANGING)
    while "hang" not in _listing(server):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    assert _stop_within(server, 20) < 5


def test_a_reload_whose_provisioned_init_fails_keeps_the_previous_version_serving(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    warm = ECHO + "    provisioned_concurrency: 1\n"
    directory = project(warm)
    server = serve(directory)
    deadline = time.monotonic() + 20
    while _listing(server)["echo"]["state"] != "Active":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (directory / "skylet.yaml").write_text(warm.replace("handlers.echo", "broken_import.handler"))
    while _listing(server)["echo"]["lastUpdateStatus"] != "Failed":
        assert time.monotonic() < deadline, _listing(server)
        time.sleep(0.05)
    echo = _listing(server)["echo"]
    assert echo["handler"] == "handlers.echo" and echo["state"] == "Active"
    assert echo["lastUpdateStatusReason"] == IMPORT_ERROR
    assert echo["lastUpdateStatusReasonCode"] == "FunctionError"
    _serves(server)
    body = httpx.post(f"{server.url}/2015-03-31/functions/echo/invocations", content="{}").json()
    assert body["function_name"] == "echo"
