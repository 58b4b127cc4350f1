"""Lambda's response limit on a real ``skylet up``: what an instance writes on its result pipe
is refused past 6 MB + 100 bytes while it is read, so the platform's memory stays flat whatever
the function returns or forges. Measured in the server's /proc/PID/status, not assumed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: limits
functions:
  echo:
    handler: handlers.echo
  forge:
    handler: handlers.forge_frame
    memory_size: 512
    timeout_s: 20
  big:
    handler: handlers.big_return
    memory_size: 3008
    timeout_s: 60
"""
MB = 1 << 20


def _status_kb(pid: int, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _invoke(server: Server, name: str, event: object) -> tuple[httpx.Response, Any]:
    response = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations",
        content=json.dumps(event),
        timeout=90,
    )
    return response, response.json()


def test_forged_and_oversized_responses_are_refused_without_growing_the_platform(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
    pid = server.proc.pid
    for _ in range(3):
        _invoke(server, "echo", {})
    rss_before = _status_kb(pid, "VmRSS")
    for _ in range(3):
        response, error = _invoke(server, "forge", {"mb": 300})
        assert response.headers["x-amz-function-error"] == "Unhandled"
        assert error == {
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
            "(6291556 bytes).",
        }
    rss_after_forged = _status_kb(pid, "VmRSS")
    peak_before = _status_kb(pid, "VmHWM")
    response, error = _invoke(server, "big", {"mb": 400})
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    peak_after = _status_kb(pid, "VmHWM")
    rss_after = _status_kb(pid, "VmRSS")
    print(
        f"platform RSS {rss_before // 1024} MB before, {rss_after_forged // 1024} MB after 3 "
        f"forged 4 GB frames (300 MB written each), {rss_after // 1024} MB after a 400 MB "
        f"return; peak {peak_before // 1024} MB before it, {peak_after // 1024} MB after"
    )
    assert rss_after_forged - rss_before < 30 * 1024
    assert peak_after - peak_before < 50 * 1024
    # The instances that wrote too much were dropped; the functions still serve.
    assert _invoke(server, "echo", {})[0].status_code == 200
    assert _invoke(server, "big", {"mb": 1})[1] == "x" * MB
